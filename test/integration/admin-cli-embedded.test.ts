import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/embedded/postgres';
import { freePort } from '../../src/embedded/ports';

// `npm run admin -- …` as the README shows it, with no DATABASE_URL: it finds the embedded stack's
// database under DATA_DIR (`<DATA_DIR>/postgres`, as npm start lays it out) by itself.
const run = promisify(execFile);
const { DATABASE_URL: _unset, ...envWithoutDatabase } = process.env;

async function admin(dataDir: string, port: number, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', ...args], {
      env: { ...envWithoutDatabase, DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(port) },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run admin without DATABASE_URL (embedded mode)', () => {
  let root: string;
  let dataDir: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'omni-admin-'));
    chmodSync(root, 0o755); // as root, PostgreSQL runs as `postgres`, who must get in
    dataDir = join(root, 'data');
    // What the first `npm start` leaves behind: an initialised cluster with the `omni` database.
    const first = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), port: await freePort() });
    await first.stop();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('says the stack has never run, naming where it looked, when DATA_DIR holds no database', async () => {
    const result = await admin(join(root, 'never-started'), await freePort(), 'list-tenants');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the embedded stack has never run here (no PostgreSQL data in ${join(root, 'never-started', 'postgres')})`);
    expect(result.stderr).toContain('npm start');
  });

  it('starts the embedded PostgreSQL for the command while the stack is down, and stops it after', async () => {
    const result = await admin(dataDir, await freePort(), 'create-tenant', '--name', 'Empresa CLI');
    expect(result.stderr).not.toContain('DATABASE_URL is not set');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ tenantId: expect.any(String), apiKey: expect.stringMatching(/^omni_/) });
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('uses the running server while the stack is up (found by its postmaster.pid, whatever EMBEDDED_POSTGRES_PORT says)', async () => {
    const running = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), port: await freePort() });
    try {
      const result = await admin(dataDir, await freePort(), 'list-tenants');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Empresa CLI');
      const client = new pg.Client({ connectionString: running.url });
      await client.connect(); // still up: the command did not stop the stack's server
      await client.end();
    } finally {
      await running.stop();
    }
  });
});
