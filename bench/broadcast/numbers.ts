// bench/broadcast, several numbers at once: `numbers` channels of one WABA, each at `mps`, send
// together to groups of `perNumber` contacts each; while they run, a burst of signed `read`
// statuses for an earlier send's delivered messages measures how many statuses/s are applied.
//   npx tsx bench/broadcast/run.ts 100000 1000 3      (three numbers, 3 × 100,000; 3 × 20000 for a quick run)
// Reports the aggregate and each number's msg/s (and its share of the limit), refusals,
// duplicates, CPU per message of worker + API + PostgreSQL + Temporal (the simulator apart) —
// measured outside the burst, so the burst's work is not charged to the sends — and the burst's rate.
// With autovacuum off on the server (the shared build machine), the bench vacuums the rewritten tables every 20 s.
import { log } from '../lib';
import { API, type BroadcastStack, cpuBetween, type CpuSample, json, PHONE_ID, postSigned, readStatusBodies, SIM, sleep, startBroadcastStack } from './stack';

interface Totals {
  state: string;
  totals: Record<'pending' | 'accepted' | 'sent' | 'delivered' | 'read' | 'failed' | 'unknown' | 'skipped', number>;
}
const handedOver = (m: Totals) => m.totals.accepted + m.totals.sent + m.totals.delivered + m.totals.read;
const monitor = (stack: BroadcastStack, sendId: string): Promise<Totals> => json('GET', `${API}/v1/broadcast/sends/${sendId}/monitor`, undefined, stack.key);
const monitors = (stack: BroadcastStack, sendIds: string[]) => Promise.all(sendIds.map((id) => monitor(stack, id)));
type Cpu = CpuSample;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Polls until `done` holds for the sends' monitors. */
async function until(stack: BroadcastStack, sendIds: string[], done: (ms: Totals[]) => boolean, everyMs: number): Promise<Totals[]> {
  for (;;) {
    const ms = await monitors(stack, sendIds);
    if (done(ms)) return ms;
    await sleep(everyMs);
  }
}

const unapplied = async (stack: BroadcastStack) =>
  (await stack.pool.query(`SELECT count(*)::int AS n FROM webhook_events WHERE applied_at IS NULL`)).rows[0].n as number;

export async function runNumbers(perNumber: number, mps: number, numbers: number): Promise<void> {
  const stack = await startBroadcastStack(mps);
  const { pool } = stack;
  try {
    const ids = Array.from({ length: numbers }, (_, n) => String(BigInt(PHONE_ID) + BigInt(n)));
    await json('PUT', `${SIM}/_sim/config`, {
      phoneNumbers: Object.fromEntries(ids.map((id, n) => [id, `Bench ${n + 1}`])),
      mpsByPhoneNumberId: Object.fromEntries(ids.map((id) => [id, mps])),
    });
    const channels: { id: string; webhookUrl: string }[] = [];
    for (const [n, id] of ids.entries()) channels.push(await stack.createChannel(`Bench ${n + 1}`, id, `55114004000${n}`, mps));
    // Each number's webhooks to its channel's URL (Meta's per-number callback override).
    const urls = Object.fromEntries(ids.map((id, n) => [id, channels[n].webhookUrl]));

    const stopVacuum = await stack.vacuumWhileAutovacuumOff(20_000);
    // 1. An earlier send, left `delivered` (no read), whose messages the burst will read.
    const burstPerNumber = Math.min(Math.floor(60_000 / numbers), Math.floor(perNumber / 5));
    const burst = burstPerNumber * numbers;
    const total = perNumber * numbers;
    await json('PUT', `${SIM}/_sim/config`, { webhook: { urlByPhoneNumberId: urls, readFraction: 0 } });
    const earlierGroups: string[] = [];
    for (const n of channels.keys()) earlierGroups.push(await stack.createGroup(`Earlier ${n + 1}`, total + n * burstPerNumber, burstPerNumber));
    log(`earlier send: ${burst} messages over ${numbers} numbers, left delivered …`);
    const earlier = await Promise.all(channels.map((c, n) => stack.startSend(c.id, earlierGroups[n], mps, `Earlier ${n + 1}`)));
    await until(stack, earlier, (ms) => sum(ms.map((m) => m.totals.delivered)) === burst, 500);
    while ((await unapplied(stack)) > 0) await sleep(250);
    const bodies = await Promise.all(
      earlier.map(async (sendId, n) => {
        const rows = (await pool.query(`SELECT send_id, contact_id, wamid, wa_id FROM broadcast_messages WHERE send_id = $1 ORDER BY seq`, [sendId])).rows;
        return readStatusBodies(rows, ids[n]);
      }),
    );
    await json('PUT', `${SIM}/_sim/config`, { webhook: { readFraction: 1 } });
    await json('POST', `${SIM}/_sim/reset`, {});

    // 2. The sends, together.
    const groups: string[] = [];
    for (const n of channels.keys()) groups.push(await stack.createGroup(`Bench ${n + 1}`, n * perNumber, perNumber));
    log(`${numbers} sends of ${perNumber} at ${mps} msg/s each …`);
    const t0 = new Date();
    const cpu0 = await stack.cpu();
    const sends = await Promise.all(channels.map((c, n) => stack.startSend(c.id, groups[n], mps, `Bench ${n + 1}`)));

    // 3. Once a third is handed over, the burst: every earlier message read, POSTed about 8 at a time.
    let burstDone: Promise<{ b1: Date; b2: Date; cpuB1: Cpu; cpuB2: Cpu }> | undefined;
    const fireBurst = async () => {
      const cpuB1 = await stack.cpu();
      const b1 = new Date();
      await Promise.all(channels.map((c, n) => postSigned(c.webhookUrl, bodies[n], Math.ceil(8 / numbers))));
      // Stored; applied once no POST up to the last one stored is left (the applier goes in id order).
      // Watched on the applier's own index: counting the messages would cost PostgreSQL a scan each time.
      const last = (await pool.query(`SELECT max(id) AS id FROM webhook_events`)).rows[0].id;
      while ((await pool.query(`SELECT 1 FROM webhook_events WHERE applied_at IS NULL AND id <= $1 LIMIT 1`, [last])).rowCount) await sleep(100);
      const b2 = new Date();
      return { b1, b2, cpuB1, cpuB2: await stack.cpu() };
    };
    let lastLog = Date.now();
    // Watched as supervisors' screens watch them: each send's monitor once a second.
    for (;;) {
      await sleep(1000);
      const ms = await monitors(stack, sends);
      if (!burstDone && sum(ms.map(handedOver)) >= total / 3) burstDone = fireBurst();
      if (ms.every((m) => m.state === 'completed' || m.state === 'stopped')) break;
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`  handed over ${ms.map(handedOver).join(' + ')}, pending ${sum(ms.map((m) => m.totals.pending))}`);
      }
    }
    const tEnd = new Date();
    const cpuEnd = await stack.cpu();
    await stopVacuum();
    const wall = (tEnd.getTime() - t0.getTime()) / 1000;
    const b = burstDone ? await burstDone : undefined;
    const simStats = await json('GET', `${SIM}/_sim/stats?detail=false`);
    await report(stack, { perNumber, mps, numbers, sends, total, burst, t0, tEnd, wall, cpu0, cpuEnd, b, simStats });
  } finally {
    await stack.stop();
  }
}

async function report(
  stack: BroadcastStack,
  r: {
    perNumber: number;
    mps: number;
    numbers: number;
    sends: string[];
    total: number;
    burst: number;
    t0: Date;
    tEnd: Date;
    wall: number;
    cpu0: Cpu;
    cpuEnd: Cpu;
    b?: { b1: Date; b2: Date; cpuB1: Cpu; cpuB2: Cpu };
    simStats: { accepted: number; refused: number; refusedByCode: Record<string, number>; duplicateRecipients: string[]; duplicateCallbackData: string[] };
  },
): Promise<void> {
  const { pool } = stack;
  const at = `coalesce(accepted_at, sent_at)`;
  const perSend = (
    await pool.query(
      `SELECT send_id, count(*)::int AS n, extract(epoch FROM max(${at}) - min(${at}))::float8 AS s,
              count(*) FILTER (WHERE state NOT IN ('accepted', 'sent', 'delivered', 'read'))::int AS other
       FROM broadcast_messages WHERE send_id = ANY($1::uuid[]) GROUP BY send_id`,
      [r.sends],
    )
  ).rows;
  const all = (
    await pool.query(
      `SELECT count(*)::int AS n, extract(epoch FROM max(${at}) - min(${at}))::float8 AS s FROM broadcast_messages WHERE send_id = ANY($1::uuid[])`,
      [r.sends],
    )
  ).rows[0];
  const bySend = new Map(perSend.map((row: { send_id: string; n: number; s: number; other: number }) => [row.send_id, row]));
  const lines = r.sends.map((id, n) => {
    const row = bySend.get(id)!;
    const rate = row.n / row.s;
    return `  number ${n + 1}  ${row.n} handed over in ${row.s.toFixed(1)} s: ${rate.toFixed(0)} msg/s = ${((rate / r.mps) * 100).toFixed(1)}% of its limit; not handed over ${row.other}`;
  });

  // CPU per message outside the burst: [t0, b1] and [b2, end] (when the burst ended before the
  // sends did), and the messages handed over then.
  const spans = !r.b
    ? [[r.cpu0, r.cpuEnd, r.t0, r.tEnd]]
    : r.b.b2 < r.tEnd
      ? [
          [r.cpu0, r.b.cpuB1, r.t0, r.b.b1],
          [r.b.cpuB2, r.cpuEnd, r.b.b2, r.tEnd],
        ]
      : [[r.cpu0, r.b.cpuB1, r.t0, r.b.b1]];
  const cpu = { worker: 0, api: 0, postgres: 0, temporal: 0, sim: 0, busy: 0, idle: 0 };
  let messages = 0;
  for (const [from, to, t1, t2] of spans as [Cpu, Cpu, Date, Date][]) {
    const d = cpuBetween(from, to);
    for (const k of Object.keys(cpu) as (keyof typeof cpu)[]) cpu[k] += d[k];
    messages += (
      await pool.query(`SELECT count(*)::int AS n FROM broadcast_messages WHERE send_id = ANY($1::uuid[]) AND ${at} > $2 AND ${at} <= $3`, [r.sends, t1, t2])
    ).rows[0].n;
  }
  const ours = cpu.worker + cpu.api + cpu.postgres + cpu.temporal;
  const perMsg = (s: number) => ((s / messages) * 1000).toFixed(3);

  let burstLine = '  no burst (the sends ended first)';
  if (r.b) {
    const seconds = (r.b.b2.getTime() - r.b.b1.getTime()) / 1000;
    const applied = (
      await pool.query(`SELECT coalesce(sum(statuses), 0)::int AS n FROM webhook_events WHERE applied_at > $1 AND applied_at <= $2`, [r.b.b1, r.b.b2])
    ).rows[0].n;
    const sendsMeanwhile = (
      await pool.query(`SELECT count(*)::int AS n FROM broadcast_messages WHERE send_id = ANY($1::uuid[]) AND ${at} > $2 AND ${at} <= $3`, [
        r.sends,
        r.b.b1,
        r.b.b2,
      ])
    ).rows[0].n;
    burstLine =
      `  burst of ${r.burst} read statuses   all applied in ${seconds.toFixed(2)} s: ${(r.burst / seconds).toFixed(0)} statuses/s (burst alone); ` +
      `${(applied / seconds).toFixed(0)} statuses/s applied in all (burst + the sends' own); the sends handed over ${(sendsMeanwhile / seconds).toFixed(0)} msg/s meanwhile`;
  }
  // Row writes over the whole bench (the earlier send and the burst included), and how many were
  // updates in place (HOT: no index touched).
  const tables = (
    await pool.query(
      `SELECT relname, n_tup_ins::int AS ins, n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables
       WHERE relname IN ('broadcast_messages', 'interactions') ORDER BY relname`,
    )
  ).rows.map((t) => `${t.relname} ${t.ins} inserted, ${t.upd} updated (${((t.hot / Math.max(1, t.upd)) * 100).toFixed(0)}% in place)`);
  const s = r.simStats;
  console.log(
    `
broadcast, ${r.numbers} numbers at once: ${r.numbers} × ${r.perNumber} contacts at ${r.mps} msg/s each
  aggregate                      ${all.n} handed over in ${all.s.toFixed(1)} s: ${(all.n / all.s).toFixed(0)} msg/s ` +
      `(${((all.n / all.s / (r.mps * r.numbers)) * 100).toFixed(1)}% of ${r.mps * r.numbers}); wall ${r.wall.toFixed(1)} s (create → all completed)
${lines.join('\n')}
  simulator                      accepted ${s.accepted}, refused ${s.refused} ${JSON.stringify(s.refusedByCode)} = ` +
      `${((s.refused / Math.max(1, s.accepted)) * 100).toFixed(2)}% of messages; duplicates ${s.duplicateRecipients.length} recipients, ${s.duplicateCallbackData.length} keys
  CPU outside the burst (${messages} messages): worker ${cpu.worker.toFixed(1)} s, API ${cpu.api.toFixed(1)} s, ` +
      `PostgreSQL ${cpu.postgres.toFixed(1)} s, Temporal ${cpu.temporal.toFixed(1)} s = ${perMsg(ours)} ms/message ` +
      `(worker ${perMsg(cpu.worker)}, API ${perMsg(cpu.api)}, PostgreSQL ${perMsg(cpu.postgres)}, Temporal ${perMsg(cpu.temporal)}); ` +
      `simulator apart ${cpu.sim.toFixed(1)} s = ${perMsg(cpu.sim)} ms/message; machine idle ${cpu.idle.toFixed(1)} of ${(cpu.busy + cpu.idle).toFixed(1)} s
  rows written                   ${tables.join('; ')}
webhooks while the sends run
${burstLine}
`,
  );
}
