// bench/import: our whole import path vs plain COPY of the same file, in one run.
//   npx tsx bench/import/run.ts [rows=1000000]
// Needs a PostgreSQL server (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres);
// starts its own Temporal dev server, API process and worker process.
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { bootstrapTenant } from '../../src/db/accounts';
import { createDb } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { WORKER_NODE_ARGS } from '../../src/embedded/child-process';
import { compileEntry } from '../../src/embedded/compile-entry';
import { freePort } from '../../src/embedded/ports';
import { startTemporalDevServer } from '../../src/embedded/temporal-server';
import { cpuOf, cpuSeconds, cpuSpent, databaseBackends, freshDatabase, log, machineCpu, memorySampler, startProcess } from '../lib';
import { generateContactsCsv } from './generate';

const rows = Number(process.argv[2] ?? 1_000_000);
const outDir = join('bench', 'out');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `contacts-${rows}.csv`);
async function main() {
  if (
    !(() => {
      try {
        return statSync(file).size > 0;
      } catch {
        return false;
      }
    })()
  ) {
    log(`generating ${rows} rows into ${file} …`);
    await generateContactsCsv(file, rows);
  }
  const size = statSync(file).size;
  log(`file: ${(size / 1e6).toFixed(1)} MB, ${rows} rows`);

  const dbUrl = await freshDatabase('omni_bench_import');

  const { db, pool, close } = createDb({ connectionString: dbUrl });
  await migrateToLatest(db);
  const { key } = await bootstrapTenant(db, { tenantName: 'Bench' });

  // Baseline: plain COPY of the same file into a table with the same columns.
  await pool.query('CREATE TABLE copy_baseline (nome text, telefone1 text, telefone2 text, email text, documento text, cidade text, plano text)');
  const copyClient = await pool.connect();
  const copyStart = process.hrtime.bigint();
  await pipeline(createReadStream(file), copyClient.query(copyFrom("COPY copy_baseline FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)")));
  const copySeconds = Number(process.hrtime.bigint() - copyStart) / 1e9;
  copyClient.release();
  log(`COPY baseline: ${copySeconds.toFixed(2)} s`);

  const [temporalPort, uiPort, apiPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const temporal = await startTemporalDevServer({ port: temporalPort, uiPort, namespace: 'default' });
  const env = {
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench-import',
    API_PORT: String(apiPort),
    WORKER_METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
    IMPORT_MAX_BYTES: String(2 * 1024 * 1024 * 1024),
  };
  // BENCH_WORKER_NODE_ARGS: extra node flags for the worker, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const workerArgs = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // The processes run as `npm start` runs them: compiled.
  const [workerEntry, apiEntry] = await Promise.all([compileEntry('src/worker.ts'), compileEntry('src/server.ts')]);
  const worker = await startProcess(
    workerEntry,
    { ...env, ...(process.env.BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS } : {}) },
    'worker running',
    [...WORKER_NODE_ARGS, ...workerArgs],
  );
  const api = await startProcess(apiEntry, env, 'Server listening');
  const apiMemory = memorySampler(api.pid!);
  const workerMemory = memorySampler(worker.pid!);
  const workerCpuBefore = cpuSeconds(worker.pid!);
  const apiCpuBefore = cpuSeconds(api.pid!);
  const backends = () => databaseBackends(pool);
  const pgBefore = cpuOf(await backends());
  const machineBefore = machineCpu();

  // Upload, streamed from disk as multipart/form-data.
  const boundary = '----omnibench';
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBench\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\ndialer\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="contacts.csv"\r\nContent-Type: text/csv\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  async function* body() {
    yield Buffer.from(head);
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
    yield Buffer.from(tail);
  }
  const started = process.hrtime.bigint();
  const res = await request(`http://127.0.0.1:${apiPort}/v1/contact-groups`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Readable.from(body()),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const accepted = (await res.body.json()) as { import: { id: string } };
  if (res.statusCode !== 202) throw new Error(`upload answered ${res.statusCode}: ${JSON.stringify(accepted)}`);
  const uploadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  let status: { status: string; rowsRead: number; rowsImported: number; rowsRejected: number };
  for (;;) {
    const r = await request(`http://127.0.0.1:${apiPort}/v1/imports/${accepted.import.id}`, { headers: { authorization: `Bearer ${key.key}` } });
    status = (await r.body.json()) as typeof status;
    if (status.status !== 'pending' && status.status !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const oursSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const workerCpu = cpuSeconds(worker.pid!) - workerCpuBefore;
  const apiCpu = cpuSeconds(api.pid!) - apiCpuBefore;
  const machineAfter = machineCpu();
  const pgCpu = cpuSpent(pgBefore, cpuOf(await backends()));
  const apiPeak = apiMemory.stop();
  const workerPeak = workerMemory.stop();

  console.log(
    `
import of ${rows} rows (${(size / 1e6).toFixed(1)} MB), ${status.status}: imported ${status.rowsImported}, rejected ${status.rowsRejected}
  plain COPY of the same file      ${copySeconds.toFixed(2)} s
  ours: upload through the API     ${uploadSeconds.toFixed(2)} s
  ours: upload until import done   ${oursSeconds.toFixed(2)} s   (${Math.round(rows / oursSeconds)} rows/s)
  ratio ours / COPY                ${(oursSeconds / copySeconds).toFixed(2)}×   (target ≤ 2×)
  peak RSS during the run          api ${apiPeak.toFixed(0)} MB, worker ${workerPeak.toFixed(0)} MB   (target ≤ 300 MB each)
  CPU during the run               api ${apiCpu.toFixed(1)} s, worker ${workerCpu.toFixed(1)} s, ` +
      `PostgreSQL (this database's backends) ${pgCpu.toFixed(1)} s; ` +
      `machine busy ${(machineAfter.busy - machineBefore.busy).toFixed(1)} s, idle ${(machineAfter.idle - machineBefore.idle).toFixed(1)} s
`,
  );
  api.kill('SIGTERM');
  worker.kill('SIGTERM');
  await temporal.stop();
  await close();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
