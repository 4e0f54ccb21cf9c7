// bench/reports: a 1,000,000-row Relatório de Chamadas and a 1,000,000-interaction Rastreio de
// Interações, CSV and XLSX, each written by the report activities in a separate process under the
// worker's heap flags (rows/s, peak RSS), next to plain COPY (SELECT …) TO STDOUT of the same rows.
//   npx tsx bench/reports/run.ts [rows=1000000] [report:format …]   e.g. `1000000 calls:csv interactions:csv`
// BENCH_PAGES_AT_ONCE=n writes n CSV pages at once (default: the worker's). BENCH_REUSE=1 keeps the database the previous run seeded (same rows) instead of seeding again.
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { createDb } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { CHILD_ENV, nodeArgsFor } from '../../src/embedded/child-process';
import { freshDatabase, log } from '../lib';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const ONLY = process.argv.slice(3);
const wanted = (reportId: string, format: string) => ONLY.length === 0 || ONLY.includes(`${reportId}:${format}`);
const WORKER_FLAGS = ['--max-old-space-size=128', '--max-semi-space-size=8'];
// BENCH_PAGES_AT_ONCE=n: the CSV activity writes n pages at once (the worker's default otherwise).
const PAGES_AT_ONCE = process.env.BENCH_PAGES_AT_ONCE;

const reused = process.env.BENCH_REUSE === '1' ? await seededBefore() : undefined;
const url = reused ?? (await freshDatabase('bench_reports'));
const { db, close } = createDb({ connectionString: url });
const pool = new pg.Pool({ connectionString: url });
const tenantId = reused ? (await db.selectFrom('tenants').select('id').where('name', '=', 'Bench').executeTakeFirstOrThrow()).id : await seed();

/** The URL of the database a previous run seeded with ROWS rows, if there is one. */
async function seededBefore(): Promise<string | undefined> {
  const url = new URL(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = '/bench_reports';
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    const { rows } = await client.query('SELECT (SELECT count(*) FROM dial_attempts)::int AS a, (SELECT count(*) FROM interactions)::int AS i');
    return rows[0].a === ROWS && rows[0].i === ROWS ? url.toString() : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function seed(): Promise<string> {
  await migrateToLatest(db);
  const tenantId = (await db.insertInto('tenants').values({ name: 'Bench' }).returning('id').executeTakeFirstOrThrow()).id;
  log(`seeding ${ROWS} call attempts and ${ROWS} interactions`);
  await pool.query(
    `
  INSERT INTO contact_groups (id, tenant_id, kind, name, name_key, source) VALUES ('00000000-0000-0000-0000-000000000001', $1, 'dialer', 'G', 'g', 'csv');
  INSERT INTO dial_strategies (id, tenant_id, name, name_key, config) VALUES ('00000000-0000-0000-0000-000000000002', $1, 'S', 's', '{}');
  INSERT INTO dialer_campaigns (id, tenant_id, name, name_key, group_id, strategy_id, status)
    VALUES ('00000000-0000-0000-0000-000000000003', $1, 'Cobrança Dezembro',
      'cobranca', '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002', 'completed');
  INSERT INTO contacts (group_id, name, phones) SELECT '00000000-0000-0000-0000-000000000001', 'Cliente ' || g, ARRAY['55119' || (80000000 + g)::text]
    FROM generate_series(1, 10000) g;`.replace(/\$1/g, `'${tenantId}'`),
  );
  await pool.query(
    `
  INSERT INTO dial_attempts (attempt_key, tenant_id, campaign_id, contact_id, dial_no, attempt_no, phone, strategy_version, state, outcome, cause, cause_txt,
    ring_ms, talk_ms, started_at, answered_at, ended_at, cycle)
  SELECT 'dc:b:' || g, $1, '00000000-0000-0000-0000-000000000003', 1 + g % 10000, 1 + g / 10000, 1 + g / 10000,
    '55119' || (80000000 + g % 10000)::text, 1, 'done',
    (ARRAY['answered', 'busy', 'no_answer'])[1 + g % 3], (ARRAY[16, 17, 19])[1 + g % 3], (ARRAY['Normal Clearing', 'User busy', 'No answer'])[1 + g % 3],
    1000 + g % 20000, CASE WHEN g % 3 = 0 THEN 5000 + g % 300000 END,
      now() - (g || ' seconds')::interval, NULL, now() - (g || ' seconds')::interval + interval '40 seconds', 1
  FROM generate_series(1, $2::int) g`,
    [tenantId, ROWS],
  );
  await pool.query(
    `
  INSERT INTO interactions (tenant_id, channel, direction, kind, source_key, phone, phone_key, contact_id, campaign_id, started_at, ended_at, outcome,
    handled_by_kind, details, events)
  SELECT $1, 'voice', 'outbound', 'call', 'dc:b:' || g, '55119' || (80000000 + g % 10000)::text, '5511' || (80000000 + g % 10000)::text, 1 + g % 10000,
    '00000000-0000-0000-0000-000000000003',
      now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval + interval '40 seconds', 'answered', 'system',
    jsonb_build_object('attemptNo', 1, 'cause', 16, 'talkMs', 35000),
    jsonb_build_array(jsonb_build_object('key', 'dialing', 'type', 'dialing', 'at',
      to_char((now() - (g || ' seconds')::interval) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                      jsonb_build_object('key', 'ended', 'type', 'ended', 'at',
                        to_char((now() - (g || ' seconds')::interval + interval '40 seconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
  FROM generate_series(1, $2::int) g`,
    [tenantId, ROWS],
  );
  await pool.query('VACUUM ANALYZE');
  return tenantId;
}

/** The same rows as our sources select, as plain COPY to CSV. */
const COPY_SQL: Record<string, string> = {
  calls: `SELECT a.started_at, c.name, a.campaign_id, a.contact_id, ct.name, a.phone, a.attempt_no, a.dial_no, a.outcome, a.cause, a.cause_txt, a.ring_ms,
            a.talk_ms, a.strategy_version, a.attempt_key, a.cycle, a.amd_status
          FROM dial_attempts a JOIN dialer_campaigns c ON c.id = a.campaign_id LEFT JOIN contacts ct ON ct.id = a.contact_id
          WHERE a.tenant_id = '${tenantId}' ORDER BY a.id`,
  interactions: `SELECT i.id, i.started_at, i.ended_at, i.ended_at - i.started_at, i.channel, i.direction, i.kind, i.phone, i.company_contact_id, i.contact_id,
            i.ml_buyer_id, COALESCE(dc.name, bc.name), i.campaign_id, i.send_id, i.ml_account_id,
              i.outcome, i.handled_by_kind, i.handled_by_id, i.events, i.details,
            i.source_key
          FROM interactions i LEFT JOIN dialer_campaigns dc ON dc.id = i.campaign_id LEFT JOIN broadcast_campaigns bc ON bc.id = i.campaign_id
          WHERE i.tenant_id = '${tenantId}' ORDER BY i.started_at, i.id`,
};

async function plainCopy(sql: string): Promise<{ seconds: number; bytes: number }> {
  const client = await pool.connect();
  const started = process.hrtime.bigint();
  let bytes = 0;
  await pipeline(
    client.query(copyTo(`COPY (${sql}) TO STDOUT WITH (FORMAT csv, DELIMITER ';', HEADER)`)),
    new Writable({
      write(c, _e, cb) {
        bytes += c.length;
        cb();
      },
    }),
  );
  client.release();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes };
}

function runChild(reportId: string, format: string): Promise<{ rows: number; seconds: number; bytes: number; maxRssMb: number }> {
  return (async () => {
    const exportId = (
      await db
        .insertInto('exports')
        .values({ tenant_id: tenantId, kind: 'report', report_id: reportId, format: format as 'csv', status: 'running', file_name: 'bench' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    const child = spawn(
      process.execPath,
      [...WORKER_FLAGS, ...nodeArgsFor(new URL('./write.ts', import.meta.url).pathname), url, exportId, tenantId, reportId, format, PAGES_AT_ONCE ?? ''],
      {
        env: { ...CHILD_ENV, ...process.env, MALLOC_ARENA_MAX: '2' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
    if (code !== 0) throw new Error(`${reportId} ${format} exited with ${code}`);
    await db.deleteFrom('export_chunks').where('export_id', '=', exportId).execute();
    return JSON.parse(out.trim().split('\n').pop()!);
  })();
}

const results: string[] = [];
for (const reportId of ['calls', 'interactions']) {
  if (!wanted(reportId, 'csv') && !wanted(reportId, 'xlsx')) continue;
  const copy = await plainCopy(COPY_SQL[reportId]);
  log(`${reportId} COPY: ${copy.seconds.toFixed(2)} s, ${(ROWS / copy.seconds).toFixed(0)} rows/s, ${(copy.bytes / 1e6).toFixed(1)} MB`);
  for (const format of ['csv', 'xlsx']) {
    if (!wanted(reportId, format)) continue;
    const r = await runChild(reportId, format);
    const line =
      `${reportId} ${format}: ${r.rows} rows in ${r.seconds.toFixed(2)} s = ${(r.rows / r.seconds).toFixed(0)} rows/s, ${(r.bytes / 1e6).toFixed(1)} MB, ` +
      `peak RSS ${r.maxRssMb.toFixed(0)} MB, ${(r.seconds / copy.seconds).toFixed(2)}× COPY (${copy.seconds.toFixed(2)} s)`;
    log(line);
    results.push(line);
  }
}
console.log(results.join('\n'));
await pool.end();
await close();
