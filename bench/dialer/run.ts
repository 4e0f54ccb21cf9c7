// bench/dialer: a 20,000-contact campaign against the ARI simulator with 200 channels and short calls.
//   npx tsx bench/dialer/run.ts [contacts=20000] [channels=200]
//   npx tsx bench/dialer/run.ts 15000 1000      (the 1,000-channel run)
// Calls ring 0.3–0.9 s and talk 0.6–1.8 s; above 200 channels they ring 1–3 s and talk 4–12 s, so
// that full lines need about 140 calls/s, under the strategy's ceiling of 200/s (the lines, not the
// rate, are what is measured). BENCH_RING_MS / BENCH_TALK_MS (`min-max`) set them.
// Needs a PostgreSQL server (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres);
// starts its own Temporal dev server and a worker process; the ARI simulator and the API run in this process.
// Reports: line utilisation (average calls up ÷ channels while contacts are due, seen by the simulator and
// by the lane), the delay from a channel freeing to the next originate (p50/p99), and worker CPU.
import { sql } from 'kysely';
import { cpuSeconds, log } from '../lib';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { logPlaced, logWorkerCpu } from './report';
import { startDialerBench } from './stack';

const contacts = Number(process.argv[2] ?? 20_000);
const channels = Number(process.argv[3] ?? 200);
const range = (name: string, fallback: [number, number]): [number, number] => {
  const value = process.env[name]?.split('-').map(Number);
  return value?.length === 2 && value.every(Number.isFinite) ? [value[0], value[1]] : fallback;
};
const ringMs = range('BENCH_RING_MS', channels > 200 ? [1_000, 3_000] : [300, 900]);
const talkMs = range('BENCH_TALK_MS', channels > 200 ? [4_000, 12_000] : [600, 1_800]);

async function main() {
  const { db, sim, app, client, tenantId, headers, startWorker, stop } = await startDialerBench('dialer', {
    seed: 3,
    ringMs,
    talkMs,
    defaultMix: [
      { outcome: 'answered', weight: 65 },
      { outcome: 'no_answer', weight: 15 },
      { outcome: 'busy', weight: 10 },
      { outcome: 'rejected', weight: 5 },
      { outcome: 'invalid_number', weight: 5 },
    ],
  });

  // A dialer group of `contacts` contacts, written directly.
  const group = await db
    .insertInto('contact_groups')
    .values({ tenant_id: tenantId, kind: 'dialer', name: 'Bench', name_key: 'bench', source: 'csv', contact_count: contacts })
    .returning('id')
    .executeTakeFirstOrThrow();
  await sql`INSERT INTO contacts (group_id, name, phones)
    SELECT ${group.id}::uuid, 'Contato ' || i, ARRAY['55119' || lpad(i::text, 8, '0')]
    FROM generate_series(1, ${contacts}::int) i`.execute(db);
  const worker = await startWorker();

  const strategy = (
    await app.inject({
      method: 'POST',
      url: '/v1/dialer/strategies',
      headers,
      payload: {
        name: 'Bench',
        config: {
          callingWindow: { days: [0, 1, 2, 3, 4, 5, 6], ranges: [{ from: '00:00', to: '24:00' }], excludeHolidays: false },
          pacing: { channels, callsPerSecond: 200 },
          // One pass over the list: every outcome is final, so the campaign ends when the list does.
          outcomes: { busy: { action: 'finish' }, no_answer: { action: 'finish' }, rejected: { action: 'finish' } },
        },
      },
    })
  ).json();
  const campaign = (
    await app.inject({ method: 'POST', url: '/v1/dialer/campaigns', headers, payload: { name: 'Bench', groupId: group.id, strategyId: strategy.id } })
  ).json();

  // Simulator-side utilisation: calls up, sampled every 20 ms, from the first call until nothing is pending.
  const samples: number[] = [];
  let sampling = true;
  let pendingLeft = contacts;
  const sampler = (async () => {
    while (sampling) {
      const active = sim.stats().callsActive;
      if (samples.length || active > 0) samples.push(active);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const pendingWatch = setInterval(async () => {
    const row = await db
      .selectFrom('dialer_contacts')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('campaign_id', '=', campaign.id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    pendingLeft = row?.n ?? pendingLeft;
    if (pendingLeft === 0 && samples.length) sampling = false;
  }, 200);

  const cpuBefore = cpuSeconds(worker.pid!);
  const started = Date.now();
  await app.inject({ method: 'POST', url: `/v1/dialer/campaigns/${campaign.id}/start`, headers });
  const result = await client.workflow.getHandle(dialerCampaignWorkflowId(campaign.id)).result();
  const seconds = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(worker.pid!) - cpuBefore;
  sampling = false;
  clearInterval(pendingWatch);
  await sampler;

  const stats = sim.stats();
  const simUtil = samples.reduce((a, b) => a + b, 0) / (samples.length * channels);
  const lane = result.lastLane?.metrics;
  log(`${channels} channels, calls ring ${ringMs.join('–')} ms and talk ${talkMs.join('–')} ms`);
  log(`campaign ${result.status}: ${contacts} contacts`);
  logPlaced(stats, seconds, channels);
  log(
    `line utilisation while contacts were due: ${(simUtil * 100).toFixed(1)}% (simulator, ${samples.length} samples), ` +
      `${((lane?.lineUtilisation ?? 0) * 100).toFixed(1)}% (lane)`,
  );
  log(
    `channel free → next originate: p50 ${lane?.freeToOriginateMs.p50.toFixed(2)} ms, p99 ${lane?.freeToOriginateMs.p99.toFixed(2)} ms, ` +
      `max ${lane?.freeToOriginateMs.max.toFixed(2)} ms (${lane?.freeToOriginateMs.count} samples, last lane)`,
  );
  logWorkerCpu(cpu, seconds, stats.originatesAccepted);

  worker.kill('SIGTERM');
  await stop();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
