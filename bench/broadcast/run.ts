// bench/broadcast: a 100,000-contact WhatsApp send against the simulator at 1,000 msg/s, next to a
// bare HTTP loop sending the same requests with the same concurrency; then webhook ingestion.
//   npx tsx bench/broadcast/run.ts [contacts=100000] [mps=1000]
// Needs a PostgreSQL server (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres);
// starts its own Temporal dev server, WhatsApp simulator, API process and worker process.
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { bootstrapTenant } from '../../src/db/accounts';
import { createDb } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { messageKey } from '../../src/domain/broadcast';
import { WORKER_NODE_ARGS } from '../../src/embedded/child-process';
import { compileEntry } from '../../src/embedded/compile-entry';
import { startTemporalDevServer } from '../../src/embedded/temporal-server';
import { createWhatsAppClient } from '../../src/integrations/whatsapp/client';
import { signBody } from '../../src/integrations/whatsapp/webhook';
import { cpuOf, cpuSeconds, cpuSpent, databaseBackends, freshDatabase, log, machineCpu, startProcess } from '../lib';
import { execSync } from 'node:child_process';

const contacts = Number(process.argv[2] ?? 100_000);
const mps = Number(process.argv[3] ?? 1000);
// BENCH_SIM_MPS: the simulator's own limit when it should differ from the channel's (default: the same).
const simMps = Number(process.env.BENCH_SIM_MPS ?? mps);
const CONCURRENCY = 128;
const SIM = 'http://127.0.0.1:18089';
const API = 'http://127.0.0.1:13001';
const TOKEN = 'bench-token';
const SECRET = 'bench-app-secret';
const PHONE_ID = '106540352242922';
const WABA = '102290129340398';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function json(method: string, url: string, body?: unknown, key?: string) {
  const res = await request(url, {
    method: method as 'GET',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const phone = (i: number) => `55119${String(10_000_000 + i).padStart(8, '0')}`;

/** The same requests, bare: CONCURRENCY loops over one keep-alive pool; a 130429 is tried again after 5 ms. */
async function bareLoop(): Promise<{ seconds: number; accepted: number; refused: number }> {
  const client = createWhatsAppClient({ baseUrl: SIM, accessToken: TOKEN, connections: CONCURRENCY });
  let next = 0;
  let accepted = 0;
  let refused = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < contacts; i = next++) {
        for (;;) {
          const r = await client.sendTemplate({
            phoneNumberId: PHONE_ID,
            to: phone(i + 1),
            templateName: 'lembrete_pagamento',
            language: 'pt_BR',
            bodyParameters: [`Cliente ${i + 1}`, '10/12'],
            bizOpaqueCallbackData: `bare:${i}`,
          });
          if (r.ok) {
            accepted++;
            break;
          }
          refused++;
          await sleep(5);
        }
      }
    }),
  );
  await client.close();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, accepted, refused };
}

async function main() {
  const dbUrl = await freshDatabase('omni_bench_broadcast');
  const { db, pool, close } = createDb({ connectionString: dbUrl });
  await migrateToLatest(db);
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
  const env = {
    DATABASE_URL: dbUrl,
    DATABASE_POOL_SIZE: '20',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench-broadcast',
    API_PORT: '13001',
    WORKER_METRICS_PORT: '19465',
    LOG_LEVEL: 'warn',
    SECRETS_KEY: randomBytes(32).toString('hex'),
    WHATSAPP_GRAPH_URL: SIM,
    BROADCAST_PAGE_SIZE: process.env.BENCH_PAGE_SIZE ?? '1000',
    BROADCAST_PAGES_IN_FLIGHT: process.env.BENCH_PAGES_IN_FLIGHT ?? '4',
  };
  const worker = await startProcess(workerEntry, { ...env, LOG_LEVEL: 'info' }, 'worker running', [...WORKER_NODE_ARGS, ...extraArgs('WORKER')]);
  const api = await startProcess(apiEntry, { ...env, LOG_LEVEL: 'info' }, 'Server listening', extraArgs('API'));

  try {
    // 1. Bare HTTP loop (no webhooks, so it competes with nothing).
    log(`bare HTTP loop: ${contacts} requests, ${CONCURRENCY} concurrent, simulator limit ${simMps}/s …`);
    const bareCpuBefore = { own: process.cpuUsage(), sim: cpuSeconds(sim.pid!) };
    const bare = await bareLoop();
    const bareCpu = {
      own: (() => {
        const u = process.cpuUsage(bareCpuBefore.own);
        return (u.user + u.system) / 1e6;
      })(),
      sim: cpuSeconds(sim.pid!) - bareCpuBefore.sim,
    };
    log(`bare: ${bare.accepted} accepted in ${bare.seconds.toFixed(1)} s (${bare.refused} refusals retried)`);
    await json('POST', `${SIM}/_sim/reset`, {});

    // 2. Ours: channel, templates, a 100,000-contact group, a campaign and a send at the full pace.
    const channel = await json(
      'POST',
      `${API}/v1/whatsapp/channels`,
      {
        name: 'Bench',
        phoneNumberId: PHONE_ID,
        wabaId: WABA,
        displayNumber: '551140040000',
        accessToken: TOKEN,
        appSecret: SECRET,
        mpsLimit: mps,
        messagingLimitTier: 'TIER_UNLIMITED',
      },
      key.key,
    );
    await json('PUT', `${SIM}/_sim/config`, { webhook: { url: channel.webhookUrl.replace('http://localhost:13001', API) } });
    await json('POST', `${API}/v1/whatsapp/channels/${channel.id}/templates/sync`, undefined, key.key);
    const group = await pool.query(
      `INSERT INTO contact_groups (tenant_id, kind, name, name_key, source, contact_count) VALUES ($1, 'broadcast', 'Bench', 'bench', 'csv', $2) RETURNING id`,
      [tenant.id, contacts],
    );
    const groupId = group.rows[0].id;
    await pool.query(
      `INSERT INTO contacts (group_id, name, phones, custom)
       SELECT $1, 'Cliente ' || i, ARRAY['55119' || lpad((10000000 + i)::text, 8, '0')],
         jsonb_build_object('vencimento', '10/12') FROM generate_series(1, $2) i`,
      [groupId, contacts],
    );
    const campaign = await json('POST', `${API}/v1/broadcast/campaigns`, { name: 'Bench', channelId: channel.id }, key.key);
    log(`ours: send of ${contacts} at ${mps} msg/s …`);
    const backends = () => databaseBackends(pool);
    const temporalPid = Number(execSync(`pgrep -f -- '--port 17234' | head -1`).toString().trim());
    const pgBefore = cpuOf(await backends());
    const cpuBefore = {
      temporal: cpuSeconds(temporalPid),
      worker: cpuSeconds(worker.pid!),
      api: cpuSeconds(api.pid!),
      sim: cpuSeconds(sim.pid!),
      machine: machineCpu(),
    };
    const started = process.hrtime.bigint();
    const send = await json(
      'POST',
      `${API}/v1/broadcast/campaigns/${campaign.id}/sends`,
      { groupId, template: { name: 'lembrete_pagamento' }, variables: { '1': { column: 'nome' }, '2': { column: 'vencimento' } }, paceMps: mps },
      key.key,
    );
    let status = send.status;
    let lastLog = Date.now();
    // Watched as a supervisor's screen watches it: the monitor once a second (the SSE default).
    while (status !== 'completed' && status !== 'stopped') {
      await sleep(1000);
      const s = await json('GET', `${API}/v1/broadcast/sends/${send.id}/monitor`, undefined, key.key);
      status = s.state;
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(
          `  ${s.state}: accepted+ ` +
            `${s.totals.accepted + s.totals.sent + s.totals.delivered + s.totals.read}, pending ${s.totals.pending}, ${s.currentMps} msg/s`,
        );
      }
    }
    const oursWall = Number(process.hrtime.bigint() - started) / 1e9;
    const machineAfter = machineCpu();
    const pgAfter = cpuOf(await backends());
    const postgres = cpuSpent(pgBefore, pgAfter);
    const cpu = {
      worker: cpuSeconds(worker.pid!) - cpuBefore.worker,
      api: cpuSeconds(api.pid!) - cpuBefore.api,
      sim: cpuSeconds(sim.pid!) - cpuBefore.sim,
      temporal: cpuSeconds(temporalPid) - cpuBefore.temporal,
      postgres,
      busy: machineAfter.busy - cpuBefore.machine.busy,
      idle: machineAfter.idle - cpuBefore.machine.idle,
    };
    const window = await pool.query(
      `SELECT count(*)::int AS n, extract(epoch FROM max(coalesce(accepted_at, sent_at)) - min(coalesce(accepted_at, sent_at))) AS s,
              count(*) FILTER (WHERE state NOT IN ('accepted', 'sent', 'delivered', 'read'))::int AS other
       FROM broadcast_messages WHERE send_id = $1`,
      [send.id],
    );
    const w = window.rows[0];
    const simStats = await json('GET', `${SIM}/_sim/stats?detail=false`);

    // 3. Webhooks of the run: wait for the simulator to finish posting and the applier to catch up.
    for (;;) {
      const pending = await pool.query(`SELECT count(*)::int AS n FROM webhook_events WHERE applied_at IS NULL`);
      const m = await json('GET', `${API}/v1/broadcast/sends/${send.id}/monitor`, undefined, key.key);
      if (pending.rows[0].n === 0 && m.totals.read + m.totals.failed + m.totals.unknown + m.totals.skipped === contacts) break;
      await sleep(250);
    }
    const run = (
      await pool.query(
        `SELECT sum(statuses)::int AS n, extract(epoch FROM max(applied_at) - min(received_at)) AS s, count(*)::int AS posts FROM webhook_events`,
      )
    ).rows[0];

    // 4. Webhook ingestion capacity: a burst of signed status POSTs (200 statuses each) for the same messages.
    const rows = (await pool.query(`SELECT contact_id, wamid, wa_id FROM broadcast_messages WHERE send_id = $1 ORDER BY seq`, [send.id])).rows;
    await pool.query(`DELETE FROM webhook_events`);
    const url = `${API}/v1/webhooks/whatsapp/${channel.id}`;
    const bodies: Buffer[] = [];
    const ts = String(Math.floor(Date.now() / 1000));
    for (let i = 0; i < rows.length; i += 200) {
      const statuses = rows
        .slice(i, i + 200)
        .map((r) => ({ id: r.wamid, status: 'read', timestamp: ts, recipient_id: r.wa_id, biz_opaque_callback_data: messageKey(send.id, r.contact_id) }));
      bodies.push(
        Buffer.from(
          JSON.stringify({
            object: 'whatsapp_business_account',
            entry: [
              {
                id: WABA,
                changes: [
                  {
                    field: 'messages',
                    value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '551140040000', phone_number_id: PHONE_ID }, statuses },
                  },
                ],
              },
            ],
          }),
        ),
      );
    }
    const burstCpu = { worker: cpuSeconds(worker.pid!), api: cpuSeconds(api.pid!), pg: cpuOf(await backends()) };
    const burstStart = process.hrtime.bigint();
    let nextBody = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = nextBody++; i < bodies.length; i = nextBody++) {
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
    const postSeconds = Number(process.hrtime.bigint() - burstStart) / 1e9;
    for (;;) {
      const pending = await pool.query(`SELECT count(*)::int AS n FROM webhook_events WHERE applied_at IS NULL`);
      if (pending.rows[0].n === 0) break;
      await sleep(50);
    }
    const applySeconds = Number(process.hrtime.bigint() - burstStart) / 1e9;
    const burstPg = cpuSpent(burstCpu.pg, cpuOf(await backends()));
    const burstCpuLine =
      `worker ${(cpuSeconds(worker.pid!) - burstCpu.worker).toFixed(1)} s, ` +
      `API ${(cpuSeconds(api.pid!) - burstCpu.api).toFixed(1)} s, PostgreSQL ${burstPg.toFixed(1)} s`;

    const sustained = w.n / Number(w.s);
    console.log(
      `
broadcast send of ${contacts} contacts at ${mps} msg/s, simulator limit ${simMps} msg/s, ${CONCURRENCY} concurrent for the bare loop
  bare HTTP loop                 ${bare.seconds.toFixed(1)} s   ${(bare.accepted / bare.seconds).toFixed(0)} msg/s  (${bare.refused} refusals retried); ` +
        `CPU: loop ${bareCpu.own.toFixed(1)} s, simulator ${bareCpu.sim.toFixed(1)} s
  ours (API → workflow → PG)     ${oursWall.toFixed(1)} s wall (create → completed); sustained ${sustained.toFixed(0)} msg/s over ${Number(w.s).toFixed(1)} s
  ours / bare                    ${((sustained / (bare.accepted / bare.seconds)) * 100).toFixed(0)}% (sustained)   ` +
        `${((contacts / oursWall / (bare.accepted / bare.seconds)) * 100).toFixed(0)}% (wall)
  simulator: accepted ${simStats.accepted}, refused ${simStats.refused} ` +
        `${JSON.stringify(simStats.refusedByCode)}, duplicates ${simStats.duplicateRecipients.length}
  messages not handed over: ${w.other}
  CPU during ours (s): worker ${cpu.worker.toFixed(1)}, API ${cpu.api.toFixed(1)}, simulator ${cpu.sim.toFixed(1)}, ` +
        `PostgreSQL (this database's backends) ${cpu.postgres.toFixed(1)}, Temporal ${cpu.temporal.toFixed(1)}, ` +
        `rest of the machine ${(cpu.busy - cpu.worker - cpu.api - cpu.sim - cpu.postgres - cpu.temporal).toFixed(1)}; ` +
        `machine idle ${cpu.idle.toFixed(1)} of ${(cpu.busy + cpu.idle).toFixed(1)}
webhooks
  during the run                 ${run.n} statuses in ${run.posts} POSTs, ` +
        `applied over ${Number(run.s).toFixed(1)} s (${(run.n / Number(run.s)).toFixed(0)} statuses/s, bounded by the send)
  burst of ${rows.length} statuses      POSTed in ${postSeconds.toFixed(1)} s (${(rows.length / postSeconds).toFixed(0)}/s received), ` +
        `all applied after ${applySeconds.toFixed(1)} s (${(rows.length / applySeconds).toFixed(0)} statuses/s applied); CPU: ${burstCpuLine}
`,
    );
  } finally {
    for (const child of [api, worker, sim]) child.kill('SIGTERM');
    await close();
    await temporal.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
