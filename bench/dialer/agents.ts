// bench/dialer/agents.ts: progressive 1:1 and predictive (abandon target 3%) side by side, each a
// campaign of `contacts` contacts with its own `agents` simulated agents (talk 2–10 s, after-call
// work 1–4 s), a 35% answer rate, customers abandoned after 2 s without an agent.
//   npx tsx bench/dialer/agents.ts [contacts=10000] [agents=50] [maxSeconds=900]
// Needs PostgreSQL (BENCH_DATABASE_URL); starts its own Temporal dev server and a worker process.
// Both campaigns run at once until the predictive one has dialled its list (or maxSeconds); each
// is measured over the time it was dialling. Reports per mode: agent occupancy, abandon rate,
// average and p99 wait for an agent after the answer, calls per agent-hour; and worker CPU per call.
import { sql, type Kysely } from 'kysely';
import { createUser } from '../../src/db/accounts';
import { changeAgentState, createAgent } from '../../src/db/agents';
import type { Database } from '../../src/db/schema';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { cpuSeconds, log } from '../lib';
import { startDialerBench } from './stack';
import { SimulatedAgents, type CampaignFigures } from './simulated-agents';

const contacts = Number(process.argv[2] ?? 10_000);
const agentsPerCampaign = Number(process.argv[3] ?? 50);
const maxSeconds = Number(process.argv[4] ?? 900);
const MODES = ['progressive', 'predictive'] as const;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? 0;
};

async function seedCampaignAgents(db: Kysely<Database>, tenantId: string, mode: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < agentsPerCampaign; i++) {
    const user = await createUser(db, { tenantId, name: `${mode} ${i}`, email: `${mode}${i}@bench.test`, role: 'agent' });
    const agent = await db.transaction().execute((trx) => createAgent(trx, { tenantId, userId: user.id, sipEndpoint: `PJSIP/${mode}-${i}`, createdBy: null }));
    ids.push(agent.id);
  }
  return ids;
}

async function seedGroup(db: Kysely<Database>, tenantId: string, name: string, offset: number): Promise<string> {
  const group = await db
    .insertInto('contact_groups')
    .values({ tenant_id: tenantId, kind: 'dialer', name, name_key: name.toLowerCase(), source: 'csv', contact_count: contacts })
    .returning('id')
    .executeTakeFirstOrThrow();
  await sql`INSERT INTO contacts (group_id, name, phones)
    SELECT ${group.id}::uuid, 'Contato ' || i, ARRAY['55119' || lpad((i + ${offset}::int)::text, 8, '0')]
    FROM generate_series(1, ${contacts}::int) i`.execute(db);
  return group.id;
}

/** Busy agent-time of the handles within [from, to], ÷ agents × (to − from). */
function occupancy(f: CampaignFigures, from: number, to: number): number {
  const busy = f.handles.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
  return busy / (agentsPerCampaign * (to - from));
}

async function main() {
  const { db, sim, app, client, tenantId, headers, startWorker, stop } = await startDialerBench(
    'dialer_agents',
    {
      seed: 5,
      ringMs: [1000, 6000],
      // The simulated agents hang up; the customer never does first.
      talkMs: [120_000, 120_000],
      defaultMix: [
        { outcome: 'answered', weight: 35 },
        { outcome: 'no_answer', weight: 35 },
        { outcome: 'busy', weight: 20 },
        { outcome: 'rejected', weight: 5 },
        { outcome: 'invalid_number', weight: 5 },
      ],
    },
    12,
  );
  const post = async (url: string, payload?: object) => (await app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) })).json();

  const campaigns: Record<(typeof MODES)[number], string> = { progressive: '', predictive: '' };
  for (const [i, mode] of MODES.entries()) {
    const agentIds = await seedCampaignAgents(db, tenantId, mode);
    const groupId = await seedGroup(db, tenantId, `Bench ${mode}`, i * contacts);
    const strategy = await post('/v1/dialer/strategies', {
      name: `Bench ${mode}`,
      config: {
        maxAttemptsPerContact: 1,
        callingWindow: { days: [0, 1, 2, 3, 4, 5, 6], ranges: [{ from: '00:00', to: '24:00' }], excludeHolidays: false },
        pacing: { mode, ratio: 1, abandonTargetPercent: 3, channels: 300, callsPerSecond: 60 },
        outcomes: { busy: { action: 'finish' }, no_answer: { action: 'finish' }, rejected: { action: 'finish' } },
        failurePause: { window: 1000, ratio: 1 },
      },
    });
    campaigns[mode] = (await post('/v1/dialer/campaigns', { name: `Bench ${mode}`, groupId, strategyId: strategy.id, agentIds, wrapUpSeconds: 5 })).id;
    for (const agentId of agentIds) await changeAgentState(db, { tenantId: tenantId, agentId, command: 'log_in', by: 'agent', actorUserId: null });
  }

  const agents = new SimulatedAgents(db, tenantId, {
    ariUrl: sim.url,
    auth: `Basic ${Buffer.from('omni:omni').toString('base64')}`,
    talkMs: [2000, 10_000],
    wrapUpMs: [1000, 4000],
    abandonAfterMs: 2000,
  });
  agents.start();
  const worker = await startWorker();
  const cpuBefore = cpuSeconds(worker.pid!);
  const started = performance.now();
  for (const mode of MODES) await post(`/v1/dialer/campaigns/${campaigns[mode]}/start`);

  // Each campaign is measured while it still has contacts to dial.
  const endedAt: Partial<Record<(typeof MODES)[number], number>> = {};
  const pendingOf = async (id: string) =>
    (
      await db
        .selectFrom('dialer_contacts')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('campaign_id', '=', id)
        .where('state', '=', 'pending')
        .executeTakeFirstOrThrow()
    ).n;
  while (!endedAt.predictive && performance.now() - started < maxSeconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    for (const mode of MODES) if (!endedAt[mode] && (await pendingOf(campaigns[mode])) === 0) endedAt[mode] = performance.now();
  }
  const until = performance.now();
  const predictiveMonitor = (await app.inject({ method: 'GET', url: `/v1/dialer/campaigns/${campaigns.predictive}/monitor`, headers })).json();
  for (const mode of MODES) await post(`/v1/dialer/campaigns/${campaigns[mode]}/stop`);
  for (const mode of MODES)
    await client.workflow
      .getHandle(dialerCampaignWorkflowId(campaigns[mode]))
      .result()
      .catch(() => undefined);
  const cpu = cpuSeconds(worker.pid!) - cpuBefore;
  await agents.stop();
  const calls = sim.stats().originatesAccepted;

  for (const mode of MODES) {
    const f = agents.figuresOf(campaigns[mode]);
    const to = endedAt[mode] ?? until;
    const hours = (to - started) / 3_600_000;
    const dialled = contacts - (await pendingOf(campaigns[mode]));
    log(
      `${mode.padEnd(11)} over ${((to - started) / 1000).toFixed(0)} s (${dialled} contacts dialled${endedAt[mode] ? '' : ', list not finished'}): ` +
        `occupancy ${(occupancy(f, started, to) * 100).toFixed(1)}%, abandon ${((f.abandoned / Math.max(1, f.abandoned + f.connected)) * 100).toFixed(2)}% ` +
        `(${f.abandoned} of ${f.abandoned + f.connected} answered), wait for agent avg ${(f.waits.reduce((a, b) => a + b, 0) / Math.max(1, f.waits.length)).toFixed(0)} ms ` +
        `p99 ${pct(f.waits, 0.99).toFixed(0)} ms, ${(f.connected / (agentsPerCampaign * hours)).toFixed(0)} calls per agent-hour`,
    );
  }
  const a = predictiveMonitor.agents;
  log(
    `predictive monitor at the end: dial level ${a?.dialLevel?.toFixed(2)}, phase ${a?.pacingPhase}, abandon (campaign) ${((a?.abandonRate?.campaign?.rate ?? 0) * 100).toFixed(2)}%`,
  );
  log(`worker CPU: ${cpu.toFixed(1)} s for ${calls} calls of both campaigns = ${((cpu / Math.max(1, calls)) * 1000).toFixed(2)} ms per call`);

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
