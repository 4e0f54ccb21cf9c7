// bench/import: our whole import path next to two COPY baselines, in one run.
//   npx tsx bench/import/run.ts [rows=1000000] [--existing=N]
// `--existing=N` first puts N contacts into the group (written by PostgreSQL itself, see
// seedGroup) and imports the file into it, as an append (POST /v1/contact-groups/{id}/imports).
// Needs a PostgreSQL server (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres);
// starts its own Temporal dev server, API process and worker process.
import { createReadStream, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { bootstrapTenant } from '../../src/db/accounts';
import { createDb } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { API_NODE_ARGS, WORKER_NODE_ARGS } from '../../src/embedded/child-process';
import { compileEntry } from '../../src/embedded/compile-entry';
import { freePort } from '../../src/embedded/ports';
import { startTemporalDevServer } from '../../src/embedded/temporal-server';
import { cpuOf, cpuSeconds, cpuSpent, databaseBackends, freshDatabase, log, machineCpu, memorySampler, residentMb, startProcess } from '../lib';
import { rawCopySeconds, seedGroup, typedCopySeconds } from './baselines';
import { generateContactsCsv } from './generate';

const args = process.argv.slice(2);
const rows = Number(args.find((a) => !a.startsWith('--')) ?? 1_000_000);
const existing = Number(args.find((a) => a.startsWith('--existing='))?.split('=')[1] ?? 0);
const outDir = join('bench', 'out');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `contacts-${rows}.csv`);
const exists = (path: string) => {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
};

/** The file as a multipart/form-data body, streamed from disk. */
function multipartBody(fields: Record<string, string>) {
  const boundary = '----omnibench';
  const head =
    Object.entries(fields)
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
      .join('') + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="contacts.csv"\r\nContent-Type: text/csv\r\n\r\n`;
  async function* body() {
    yield Buffer.from(head);
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Readable.from(body()) };
}

async function main() {
  if (!exists(file)) {
    log(`generating ${rows} rows into ${file} …`);
    await generateContactsCsv(file, rows);
  }
  const size = statSync(file).size;
  log(`file: ${(size / 1e6).toFixed(1)} MB, ${rows} rows`);

  const dbUrl = await freshDatabase('omni_bench_import');
  const { db, pool, close } = createDb({ connectionString: dbUrl });
  await migrateToLatest(db);
  const { key, tenant } = await bootstrapTenant(db, { tenantName: 'Bench' });
  let groupId: string | undefined;
  if (existing > 0) {
    const group = await db
      .insertInto('contact_groups')
      .values({ tenant_id: tenant.id, kind: 'dialer', name: 'Bench', name_key: 'bench', source: 'csv' })
      .returning('id')
      .executeTakeFirstOrThrow();
    groupId = group.id;
    const seedStart = Date.now();
    await seedGroup(pool, groupId, existing);
    log(`group seeded with ${existing} contacts in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);
  }

  const header = readFileSync(file, 'utf8').slice(0, 4096).split('\n')[0].split(';');
  const rawSeconds = await rawCopySeconds(pool, file, header);
  log(`raw COPY: ${rawSeconds.toFixed(2)} s`);

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
  // BENCH_API_NODE_ARGS: extra node flags for the API, after API_NODE_ARGS (V8 takes a flag's last value), as in bench/broadcast.
  const apiArgs = process.env.BENCH_API_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const api = await startProcess(apiEntry, env, 'Server listening', [...API_NODE_ARGS, ...apiArgs]);
  const workerIdle = residentMb(worker.pid!);
  const apiIdle = residentMb(api.pid!);
  const apiMemory = memorySampler(api.pid!);
  const workerMemory = memorySampler(worker.pid!);
  const workerCpuBefore = cpuSeconds(worker.pid!);
  const apiCpuBefore = cpuSeconds(api.pid!);
  const backends = () => databaseBackends(pool);
  const pgBefore = cpuOf(await backends());
  const machineBefore = machineCpu();

  const upload = groupId ? multipartBody({}) : multipartBody({ name: 'Bench', kind: 'dialer' });
  const started = process.hrtime.bigint();
  const res = await request(`http://127.0.0.1:${apiPort}/v1/contact-groups${groupId ? `/${groupId}/imports` : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.key}`, 'content-type': upload.contentType },
    body: upload.body,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const accepted = (await res.body.json()) as { id: string } & { import: { id: string } };
  if (res.statusCode !== 202) throw new Error(`upload answered ${res.statusCode}: ${JSON.stringify(accepted)}`);
  const importId = groupId ? accepted.id : accepted.import.id;
  const uploadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  let status: { status: string; rowsRead: number; rowsImported: number; rowsRejected: number };
  for (;;) {
    const r = await request(`http://127.0.0.1:${apiPort}/v1/imports/${importId}`, { headers: { authorization: `Bearer ${key.key}` } });
    status = (await r.body.json()) as typeof status;
    if (status.status !== 'pending' && status.status !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const oursSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const workerCpu = cpuSeconds(worker.pid!) - workerCpuBefore;
  const apiCpu = cpuSeconds(api.pid!) - apiCpuBefore;
  const machineAfter = machineCpu();
  const pgCpu = cpuSpent(pgBefore, cpuOf(await backends()));
  const apiPeak = apiMemory.stop();
  const workerPeak = workerMemory.stop();
  api.kill('SIGTERM');
  worker.kill('SIGTERM');
  await temporal.stop();

  const typed = await typedCopySeconds(pool, importId, join(outDir, `contacts-${rows}.typed.bin`));
  log(`typed COPY: ${typed.seconds.toFixed(2)} s (${typed.rows} rows)`);
  const perMillion = (s: number) => ((s * 1e6) / rows).toFixed(2);

  console.log(
    `
import of ${rows} rows (${(size / 1e6).toFixed(1)} MB)${existing ? ` into a group of ${existing} contacts` : ''}, ${status.status}: imported ${status.rowsImported}, rejected ${status.rowsRejected}
  raw COPY of the file (text table)      ${rawSeconds.toFixed(2)} s   (${Math.round(rows / rawSeconds)} rows/s)
  COPY of the valid rows, typed (binary,
    LIKE contacts INCLUDING ALL)         ${typed.seconds.toFixed(2)} s   (${Math.round(typed.rows / typed.seconds)} rows/s)
  ours: upload answered (202)            ${uploadSeconds.toFixed(2)} s
  ours: upload until import done         ${oursSeconds.toFixed(2)} s   (${Math.round(rows / oursSeconds)} rows/s; tail after the answer ${(oursSeconds - uploadSeconds).toFixed(2)} s)
  ratio ours / typed COPY                ${(oursSeconds / typed.seconds).toFixed(2)}×   (target ≤ 1.5×)
  ratio ours / raw COPY                  ${(oursSeconds / rawSeconds).toFixed(2)}×   (target ≤ 4×)
  worker CPU per million rows            ${perMillion(workerCpu)} s   (target ≤ 5 s)
  peak RSS during the run                api ${apiPeak.toFixed(0)} MB (${apiIdle.toFixed(0)} before the upload), worker ${workerPeak.toFixed(0)} MB (${workerIdle.toFixed(0)} before)   (target ≤ 300 MB each)
  CPU during the run                     api ${apiCpu.toFixed(1)} s, worker ${workerCpu.toFixed(1)} s, ` +
      `PostgreSQL (this database's backends) ${pgCpu.toFixed(1)} s; ` +
      `machine busy ${(machineAfter.busy - machineBefore.busy).toFixed(1)} s, idle ${(machineAfter.idle - machineBefore.idle).toFixed(1)} s
`,
  );
  await close();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
