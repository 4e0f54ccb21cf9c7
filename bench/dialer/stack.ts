// What the dialer benches share: a fresh database, a Temporal dev server, the ARI simulator, a
// tenant with a supervisor key, the API in this process, and the worker as its own process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../src/api/app';
import { parseConfig } from '../../src/config';
import { bootstrapTenant, createUser, issueApiKey } from '../../src/db/accounts';
import { createDb } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { WORKER_NODE_ARGS } from '../../src/embedded/child-process';
import { compileEntry } from '../../src/embedded/compile-entry';
import { freePort } from '../../src/embedded/ports';
import { startTemporalDevServer } from '../../src/embedded/temporal-server';
import type { SimConfigPatch } from '../../src/simulators/ari/config';
import { startAriSimulator } from '../../src/simulators/ari/server';
import { freshDatabase, log, startProcess } from '../lib';

export async function startDialerBench(name: string, simConfig: SimConfigPatch, poolSize = 4) {
  const dbUrl = await freshDatabase(`omni_bench_${name}`);
  const { db, pool, close } = createDb({ connectionString: dbUrl, poolSize });
  await migrateToLatest(db);
  const dir = mkdtempSync(join(tmpdir(), `omni-bench-${name}-`));
  const [tPort, uiPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const temporal = await startTemporalDevServer({ port: tPort, uiPort, namespace: 'default', dbFile: join(dir, 'temporal.sqlite') });
  const sim = await startAriSimulator({ config: simConfig });

  const { tenant } = await bootstrapTenant(db, { tenantName: 'Bench' });
  const user = await createUser(db, { tenantId: tenant.id, name: 'sup', email: 'sup@bench.test', role: 'supervisor' });
  const key = (await issueApiKey(db, { tenantId: tenant.id, userId: user.id, name: 'bench' })).key;
  const env = {
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: `bench-${name}`,
    ARI_URL: sim.url,
    WORKER_METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
  };
  const config = parseConfig({ ...env, NODE_ENV: 'production', LOG_LEVEL: 'silent' });
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }), namespace: 'default' });
  const app = await buildApp({ config, db, pool, temporal: client }, { logger: false });
  const headers = { authorization: `Bearer ${key}` };
  return {
    db,
    sim,
    app,
    client,
    tenantId: tenant.id,
    headers,
    /** The worker runs as `npm start` runs it: compiled, with its memory flags. */
    async startWorker() {
      log('starting the worker process');
      // BENCH_WORKER_NODE_ARGS: extra node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
      const extraArgs = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      return startProcess(await compileEntry('src/worker.ts'), env, 'worker running', [...WORKER_NODE_ARGS, ...extraArgs]);
    },
    async stop() {
      await app.close();
      await client.connection.close();
      await sim.stop();
      await temporal.stop();
      await close();
    },
  };
}
