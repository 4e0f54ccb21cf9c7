// bench/broadcast: a 100,000-contact WhatsApp send against the simulator at 1,000 msg/s, next to a
// bare HTTP loop sending the same requests with the same concurrency; then webhook ingestion.
//   npx tsx bench/broadcast/run.ts [contacts=100000] [mps=1000] [numbers=1]
// With numbers > 1 it is the several-numbers run of bench/broadcast/numbers.ts instead.
// Needs a PostgreSQL server (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres);
// starts its own Temporal dev server, WhatsApp simulator, API process and worker process.
import { createWhatsAppClient } from '../../src/integrations/whatsapp/client';
import { cpuOf, cpuSeconds, cpuSpent, databaseBackends, log } from '../lib';
import { runNumbers } from './numbers';
import { API, json, PHONE_ID, phone, postSigned, readStatusBodies, SIM, sleep, startBroadcastStack, TEMPLATE, TOKEN } from './stack';

const contacts = Number(process.argv[2] ?? 100_000);
const mps = Number(process.argv[3] ?? 1000);
// numbers > 1: that many channels at `mps` each, sending together to groups of `contacts` (bench/broadcast/numbers.ts).
const numbers = Number(process.argv[4] ?? 1);
// BENCH_SIM_MPS: the simulator's own limit when it should differ from the channel's (default: the same).
const simMps = Number(process.env.BENCH_SIM_MPS ?? mps);
// BENCH_SIM_NICE: the simulator's scheduling priority (e.g. -10, as root), see bench/broadcast/stack.ts.
const CONCURRENCY = 128;

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
            templateName: TEMPLATE,
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
  const stack = await startBroadcastStack(simMps);
  const { pool, sim, worker, api } = stack;
  const key = { key: stack.key };

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
    const channel = await stack.createChannel('Bench', PHONE_ID, '551140040000', mps);
    await json('PUT', `${SIM}/_sim/config`, { webhook: { url: channel.webhookUrl } });
    const groupId = await stack.createGroup('Bench', 0, contacts);
    log(`ours: send of ${contacts} at ${mps} msg/s …`);
    const backends = () => databaseBackends(pool);
    const cpuBefore = await stack.cpu();
    const started = process.hrtime.bigint();
    const send = { id: await stack.startSend(channel.id, groupId, mps, 'Bench') };
    let status = '';
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
    const cpu = await stack.cpuSince(cpuBefore);
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
    const rows = (await pool.query(`SELECT send_id, contact_id, wamid, wa_id FROM broadcast_messages WHERE send_id = $1 ORDER BY seq`, [send.id])).rows;
    await pool.query(`DELETE FROM webhook_events`);
    const url = `${API}/v1/webhooks/whatsapp/${channel.id}`;
    const bodies = readStatusBodies(rows);
    const burstCpu = { worker: cpuSeconds(worker.pid!), api: cpuSeconds(api.pid!), pg: cpuOf(await backends()) };
    const burstStart = process.hrtime.bigint();
    await postSigned(url, bodies, 8);
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
    await stack.stop();
  }
}

(numbers > 1 ? runNumbers(contacts, mps, numbers) : main()).then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
