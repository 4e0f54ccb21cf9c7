// Runs the import activity alone (no Temporal server) on a generated file, to profile it, with
// the worker's heap flags:
//   node --max-old-space-size=128 --max-semi-space-size=8 [--cpu-prof --cpu-prof-dir=/tmp/prof] --import tsx bench/import/activity-profile.ts [rows]
// The file is generated once per row count and reused (bench/out/contacts-<rows>.csv).
// PROFILE_SQL: statements (`;` separated) run after the migrations, to try a schema change, e.g.
//   PROFILE_SQL='DROP INDEX contacts_import_line_key'
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'kysely';
import { createImportActivities } from '../../src/activities/imports/import-activities';
import { bootstrapTenant } from '../../src/db/accounts';
import { createDb } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { storeUpload } from '../../src/db/uploads';
import { cpuOf, cpuSpent, databaseBackends } from '../lib';
import { generateContactsCsv } from './generate';

const rows = Number(process.argv[2] ?? 100_000);
const file = `bench/out/contacts-${rows}.csv`;
mkdirSync('bench/out', { recursive: true });
if (!existsSync(file)) await generateContactsCsv(file, rows);
const schema = 'bench_profile';
const { db, pool, close } = createDb({ connectionString: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', schema });
await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
await migrateToLatest(db, schema);
for (const stmt of (process.env.PROFILE_SQL ?? '').split(';').filter((s) => s.trim())) await sql.raw(stmt).execute(db);
const { tenant } = await bootstrapTenant(db, { tenantName: 'Profile' });
const upload = await storeUpload({ db, pool }, { tenantId: tenant.id, fileName: 'x.csv', createdBy: null, source: createReadStream(file), maxBytes: 1e10 });
const group = await db
  .insertInto('contact_groups')
  .values({ tenant_id: tenant.id, kind: 'dialer', name: 'p', name_key: 'p', source: 'csv' })
  .returning('id')
  .executeTakeFirstOrThrow();
const imp = await db
  .insertInto('imports')
  .values({ tenant_id: tenant.id, target: 'contact_group', group_id: group.id, upload_id: upload.uploadId, file_name: 'x.csv', status: 'pending' })
  .returning('id')
  .executeTakeFirstOrThrow();
// PROFILE_BATCH: rows per transaction, to try another batch size.
const activities = createImportActivities({ db, pool, sliceMs: 1e9, batchSize: process.env.PROFILE_BATCH ? Number(process.env.PROFILE_BATCH) : undefined });
let peakRss = 0;
let peakHeap = 0;
let peakExternal = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakExternal = Math.max(peakExternal, m.external);
}, 50);
const started = process.hrtime.bigint();
// The CPU of the import alone: not tsx compiling, the migrations or the upload above.
const cpuBefore = process.cpuUsage();
// And PostgreSQL's: the backends of this database (the pool's, kept through the run).
const pgBefore = cpuOf(await databaseBackends(pool));
const result = await new MockActivityEnvironment().run(activities.importSlice, { importId: imp.id });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
const pgCpu = cpuSpent(pgBefore, cpuOf(await databaseBackends(pool)));
clearInterval(sampler);
console.log(
  result,
  `${seconds.toFixed(2)} s, ${Math.round(rows / seconds)} rows/s, ` +
    `import cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, system ${(cpu.system / 1e6).toFixed(2)}), ` +
    `PostgreSQL cpu ${pgCpu.toFixed(2)} s, peak rss ${(peakRss / 2 ** 20).toFixed(0)} MB, ` +
    `peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MB, peak external ${(peakExternal / 2 ** 20).toFixed(0)} MB`,
);
await close();
