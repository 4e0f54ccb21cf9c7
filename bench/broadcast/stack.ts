// What both broadcast benches start: a fresh database with a tenant, a Temporal dev server, the
// WhatsApp simulator, the API and the worker, each its own process as `npm start` runs it; and
// the CPU of each of them.
import { randomBytes } from 'node:crypto';
import { execSync } from 'node:child_process';
import { setPriority } from 'node:os';
import type pg from 'pg';
import { request } from 'undici';
import { messageKey } from '../../src/domain/broadcast';
import { signBody } from '../../src/integrations/whatsapp/webhook';
import { bootstrapTenant } from '../../src/db/accounts';
import { createDb } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { API_NODE_ARGS, WORKER_NODE_ARGS } from '../../src/embedded/child-process';
import { compileEntry } from '../../src/embedded/compile-entry';
import { startTemporalDevServer } from '../../src/embedded/temporal-server';
import { cpuOf, cpuSeconds, cpuSpent, databaseBackends, freshDatabase, machineCpu, startProcess } from '../lib';

export const SIM = 'http://127.0.0.1:18089';
export const API = 'http://127.0.0.1:13001';
export const TOKEN = 'bench-token';
export const SECRET = 'bench-app-secret';
export const PHONE_ID = '106540352242922';
export const WABA = '102290129340398';
export const TEMPLATE = 'lembrete_pagamento';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function json(method: string, url: string, body?: unknown, key?: string) {
  const res = await request(url, {
    method: method as 'GET',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The bench's recipients: distinct Brazilian mobiles by index. */
export const phone = (i: number) => `55119${String(10_000_000 + i).padStart(8, '0')}`;

export type BroadcastStack = Awaited<ReturnType<typeof startBroadcastStack>>;
export type CpuSample = Awaited<ReturnType<typeof sampleCpu>>;

/** CPU seconds so far of each process of the stack; PostgreSQL: the backends of the pool's database. */
async function sampleCpu(pids: { worker: number; api: number; sim: number; temporal: number }, pool: pg.Pool) {
  return {
    worker: cpuSeconds(pids.worker),
    api: cpuSeconds(pids.api),
    sim: cpuSeconds(pids.sim),
    temporal: cpuSeconds(pids.temporal),
    pg: cpuOf(await databaseBackends(pool)),
    machine: machineCpu(),
  };
}

/** CPU seconds each process used from sample `a` to `b`, and the machine's busy and idle seconds. */
export function cpuBetween(a: CpuSample, b: CpuSample) {
  return {
    worker: b.worker - a.worker,
    api: b.api - a.api,
    sim: b.sim - a.sim,
    temporal: b.temporal - a.temporal,
    postgres: cpuSpent(a.pg, b.pg),
    busy: b.machine.busy - a.machine.busy,
    idle: b.machine.idle - a.machine.idle,
  };
}

/** `simMps`: the simulator's default per-number limit. */
export async function startBroadcastStack(simMps: number) {
  const dbUrl = await freshDatabase('omni_bench_broadcast');
  const { db, pool, close } = createDb({ connectionString: dbUrl });
  await migrateToLatest(db);
  // BENCH_FILLFACTOR: leaves that share of each page free for updates in place (HOT) of the rows a
  // message rewrites five times — an experiment before a migration would set it.
  if (process.env.BENCH_FILLFACTOR) {
    const fillfactor = Number(process.env.BENCH_FILLFACTOR);
    if (!(fillfactor >= 10 && fillfactor <= 100)) throw new Error(`BENCH_FILLFACTOR must be 10..100: ${process.env.BENCH_FILLFACTOR}`);
    for (const table of ['broadcast_messages', 'interactions']) await pool.query(`ALTER TABLE ${table} SET (fillfactor = ${fillfactor})`);
  }
  const { key, tenant } = await bootstrapTenant(db, { tenantName: 'Bench' });

  const temporal = await startTemporalDevServer({ port: 17234, uiPort: 18234, namespace: 'default' });
  // Every process runs as `npm start` runs it: compiled, the worker with its memory flags.
  const [workerEntry, apiEntry, simEntry] = await Promise.all([
    compileEntry('src/worker.ts'),
    compileEntry('src/server.ts'),
    compileEntry('src/simulators/whatsapp/main.ts'),
  ]);
  // BENCH_<WORKER|API|SIM>_NODE_ARGS: extra node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const extraArgs = (name: string) => process.env[`BENCH_${name}_NODE_ARGS`]?.split(' ').filter(Boolean) ?? [];
  const sim = await startProcess(
    simEntry,
    { WA_SIM_PORT: '18089', WA_SIM_MPS: String(simMps), WA_SIM_ACCESS_TOKEN: TOKEN, WA_SIM_APP_SECRET: SECRET },
    'simulator on',
    extraArgs('SIM'),
  );
  // BENCH_SIM_NICE=-10: the simulator ahead of our processes in the scheduler. Meta counts a
  // number's messages by when its servers take them; a simulator starved of CPU on this shared
  // box reads its clock late, in bunches, and refuses calls that left in pace.
  if (process.env.BENCH_SIM_NICE) setPriority(sim.pid!, Number(process.env.BENCH_SIM_NICE));
  const env = {
    DATABASE_URL: dbUrl,
    DATABASE_POOL_SIZE: '20',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench-broadcast',
    API_PORT: '13001',
    WORKER_METRICS_PORT: '19465',
    LOG_LEVEL: 'info',
    SECRETS_KEY: randomBytes(32).toString('hex'),
    WHATSAPP_GRAPH_URL: SIM,
    BROADCAST_PAGE_SIZE: process.env.BENCH_PAGE_SIZE ?? '1000',
    BROADCAST_PAGES_IN_FLIGHT: process.env.BENCH_PAGES_IN_FLIGHT ?? '4',
  };
  const worker = await startProcess(workerEntry, env, 'worker running', [...WORKER_NODE_ARGS, ...extraArgs('WORKER')]);
  const api = await startProcess(apiEntry, env, 'Server listening', [...API_NODE_ARGS, ...extraArgs('API')]);
  const temporalPid = Number(execSync(`pgrep -f -- '--port 17234' | head -1`).toString().trim());

  const pids = { worker: worker.pid!, api: api.pid!, sim: sim.pid!, temporal: temporalPid };
  const cpu = () => sampleCpu(pids, pool);
  /** CPU seconds each used since `before`, and the machine's busy and idle seconds. */
  const cpuSince = async (before: CpuSample) => cpuBetween(before, await cpu());

  /** A channel of the bench's WABA at `mps`, its templates synced; its webhook URL as the API names it. */
  const createChannel = async (name: string, phoneNumberId: string, displayNumber: string, mps: number) => {
    const channel = await json(
      'POST',
      `${API}/v1/whatsapp/channels`,
      { name, phoneNumberId, wabaId: WABA, displayNumber, accessToken: TOKEN, appSecret: SECRET, mpsLimit: mps, messagingLimitTier: 'TIER_UNLIMITED' },
      key.key,
    );
    await json('POST', `${API}/v1/whatsapp/channels/${channel.id}/templates/sync`, undefined, key.key);
    return { id: channel.id as string, webhookUrl: (channel.webhookUrl as string).replace('http://localhost:13001', API) };
  };

  /** A broadcast group of `n` contacts whose phones are `phone(first + 1 …)`, written directly. */
  const createGroup = async (name: string, first: number, n: number): Promise<string> => {
    const group = await pool.query(
      `INSERT INTO contact_groups (tenant_id, kind, name, name_key, source, contact_count) VALUES ($1, 'broadcast', $2, lower($2), 'csv', $3) RETURNING id`,
      [tenant.id, name, n],
    );
    const groupId = group.rows[0].id;
    await pool.query(
      `INSERT INTO contacts (group_id, name, phones, custom)
       SELECT $1, 'Cliente ' || i, ARRAY['55119' || lpad((10000000 + i)::text, 8, '0')],
         jsonb_build_object('vencimento', '10/12') FROM generate_series($2::int + 1, $2::int + $3::int) i`,
      [groupId, first, n],
    );
    return groupId;
  };

  /** A campaign on the channel and a send of the template to the group at `mps`; the send's id. */
  const startSend = async (channelId: string, groupId: string, mps: number, name: string): Promise<string> => {
    const campaign = await json('POST', `${API}/v1/broadcast/campaigns`, { name, channelId }, key.key);
    const send = await json(
      'POST',
      `${API}/v1/broadcast/campaigns/${campaign.id}/sends`,
      { groupId, template: { name: TEMPLATE }, variables: { '1': { column: 'nome' }, '2': { column: 'vencimento' } }, paceMps: mps },
      key.key,
    );
    return send.id;
  };

  /**
   * With autovacuum off on the server (as on the shared build machine), does its work: the tables a
   * message rewrites are vacuumed every `everyMs` (autovacuum's default threshold, a fifth of the
   * rows dead, comes about that often here). Its CPU counts as PostgreSQL's. Returns a stop.
   */
  const vacuumWhileAutovacuumOff = async (everyMs: number) => {
    if ((await pool.query(`SHOW autovacuum`)).rows[0].autovacuum === 'on') return async () => undefined;
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        for (let waited = 0; waited < everyMs && !stopped; waited += 250) await sleep(250);
        if (!stopped) await pool.query(`VACUUM (ANALYZE) broadcast_messages, interactions, webhook_events, rate_windows, broadcast_send_tallies`);
      }
    })();
    return async () => {
      stopped = true;
      await loop;
    };
  };

  const stop = async () => {
    for (const child of [api, worker, sim]) child.kill('SIGTERM');
    await close();
    await temporal.stop();
  };

  return { db, pool, key: key.key, tenant, worker, api, sim, cpu, cpuSince, createChannel, createGroup, startSend, vacuumWhileAutovacuumOff, stop };
}

/** Signed webhook bodies of 200 `read` statuses each, one per message row, as Meta posts them. */
export function readStatusBodies(rows: { send_id: string; contact_id: number; wamid: string; wa_id: string }[], phoneNumberId = PHONE_ID): Buffer[] {
  const bodies: Buffer[] = [];
  const ts = String(Math.floor(Date.now() / 1000));
  for (let i = 0; i < rows.length; i += 200) {
    const statuses = rows
      .slice(i, i + 200)
      .map((r) => ({ id: r.wamid, status: 'read', timestamp: ts, recipient_id: r.wa_id, biz_opaque_callback_data: messageKey(r.send_id, r.contact_id) }));
    const value = { messaging_product: 'whatsapp', metadata: { display_phone_number: '551140040000', phone_number_id: phoneNumberId }, statuses };
    bodies.push(Buffer.from(JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: WABA, changes: [{ field: 'messages', value }] }] })));
  }
  return bodies;
}

/** POSTs the bodies to the webhook URL, signed, `concurrency` at a time; each must be answered 200. */
export async function postSigned(url: string, bodies: Buffer[], concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(bodies[i], SECRET) },
          body: bodies[i],
        });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}`);
      }
    }),
  );
}
