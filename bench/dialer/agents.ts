// bench/dialer/agents.ts: progressive 1:1 and predictive (abandon target 3%) side by side, each a
// campaign of `contacts` contacts with its own `agents` agents, a 35% answer rate, through the real
// connect path (answeredCall "agent", agent-connect.ts): the lane reserves an agent, originates the
// agent's phone (the simulator's agent endpoints auto-answer in 20–60 ms, as softphones set to
// auto-answer do, and hang up after 2–10 s of talk), bridges both, and plays the abandon message
// to a customer left 2 s without an agent. After-call work: the campaign's 3 s.
//   npx tsx bench/dialer/agents.ts [contacts=10000] [agents=50] [maxSeconds=900]
// Needs PostgreSQL (BENCH_DATABASE_URL); starts its own Temporal dev server and a worker process.
// Both campaigns run at once until the predictive one has dialled its list (or maxSeconds); each
// is measured over the time it was dialling, from the database (attempts and the agent ledger).
// Reports per mode: agent occupancy, abandon rate, average and p99 answer → bridged (the wait for
// an agent), the share of bridged calls that waited over 300 ms, the p99 of the calls that found an
// agent free at the answer (reserved at the first try, within RESERVE_RETRY_MS) and of agent
// reserved → bridged (both the system's own connect latency), calls per agent-hour; and worker CPU
// per call. BENCH_SERVICE_LEVEL=<waitMs>:<maxSharePercent> (e.g. 300:1) turns on the predictive
// campaign's service-level brake (pacing.serviceLevel; off by default).
import { sql, type Kysely } from 'kysely';
import { createUser } from '../../src/db/accounts';
import { changeAgentState, createAgent } from '../../src/db/agents';
import type { Database } from '../../src/db/schema';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { cpuSeconds, log } from '../lib';
import { logWorkerCpu, percentile } from './report';
import { startDialerBench } from './stack';

const contacts = Number(process.argv[2] ?? 10_000);
const agentsPerCampaign = Number(process.argv[3] ?? 50);
const maxSeconds = Number(process.argv[4] ?? 900);
const MODES = ['progressive', 'predictive'] as const;
const WRAP_UP_SECONDS = 3;
/** A customer with no agent at the answer is retried this often (the lane's connector poll): reserved sooner = found one free. */
const RESERVE_RETRY_MS = 100;
const SLOW_WAIT_MS = 300;
const serviceLevel = process.env.BENCH_SERVICE_LEVEL?.split(':').map(Number);

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

interface CampaignFigures {
  connected: number;
  abandoned: number;
  /** Answer → bridged of every connected call (ms). */
  waits: number[];
  /** Answer → bridged of the calls that found an agent free at the answer (ms). */
  freeWaits: number[];
  /** Agent reserved → bridged of every connected call (ms). */
  connectMs: number[];
  /** Agent time taken by calls (reserved → released + after-call work) within the window (ms). */
  busyMs: number;
}

/** A campaign's figures over [from, to] (wall clock), read from its attempts and its agent ledger. */
async function figuresOf(db: Kysely<Database>, campaignId: string, from: Date, to: Date): Promise<CampaignFigures> {
  const counts = await sql<{ connected: number; abandoned: number }>`
    SELECT count(*) FILTER (WHERE bridged_at IS NOT NULL)::int AS connected, count(*) FILTER (WHERE outcome = 'abandoned')::int AS abandoned
    FROM dial_attempts WHERE campaign_id = ${campaignId} AND started_at >= ${from} AND started_at < ${to}`.execute(db);
  const waits = await sql<{ ms: number; reserve_ms: number | null; connect_ms: number | null }>`
    SELECT a.agent_wait_ms AS ms,
      (EXTRACT(epoch FROM c.reserved_at - a.answered_at) * 1000)::float8 AS reserve_ms,
      (EXTRACT(epoch FROM a.bridged_at - c.reserved_at) * 1000)::float8 AS connect_ms
    FROM dial_attempts a LEFT JOIN agent_calls c ON c.call_key = a.attempt_key
    WHERE a.campaign_id = ${campaignId} AND a.bridged_at >= ${from} AND a.bridged_at < ${to} AND a.agent_wait_ms IS NOT NULL`.execute(db);
  const busy = await sql<{ ms: number | null }>`
    SELECT sum(GREATEST(0, EXTRACT(epoch FROM LEAST(COALESCE(released_at + make_interval(secs => ${WRAP_UP_SECONDS}), now()), ${to}::timestamptz)
      - GREATEST(reserved_at, ${from}::timestamptz)))) * 1000 AS ms
    FROM agent_calls WHERE campaign_id = ${campaignId} AND reserved_at < ${to}`.execute(db);
  return {
    ...counts.rows[0],
    waits: waits.rows.map((r) => r.ms),
    freeWaits: waits.rows.filter((r) => r.reserve_ms !== null && r.reserve_ms < RESERVE_RETRY_MS).map((r) => r.ms),
    connectMs: waits.rows.filter((r) => r.connect_ms !== null).map((r) => r.connect_ms!),
    busyMs: Number(busy.rows[0].ms ?? 0),
  };
}

async function main() {
  const { db, sim, app, client, tenantId, headers, startWorker, stop } = await startDialerBench(
    'dialer_agents',
    {
      seed: 5,
      ringMs: [1000, 6000],
      // The agents hang up; the customer never does first.
      talkMs: [120_000, 120_000],
      media: { soundMs: 2_500 },
      agents: { match: '^(progressive|predictive)-', answerMs: [20, 60], talkMs: [2_000, 10_000], endpoints: {} },
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
        answeredCall: 'agent',
        agentConnect: { abandonAfterSeconds: 2, abandonMessage: 'sound:custom/sem-agente' },
        callingWindow: { days: [0, 1, 2, 3, 4, 5, 6], ranges: [{ from: '00:00', to: '24:00' }], excludeHolidays: false },
        pacing: {
          mode,
          ratio: 1,
          abandonTargetPercent: 3,
          channels: 300,
          callsPerSecond: 60,
          ...(mode === 'predictive' && serviceLevel ? { serviceLevel: { waitMs: serviceLevel[0], maxSharePercent: serviceLevel[1] } } : {}),
        },
        outcomes: { busy: { action: 'finish' }, no_answer: { action: 'finish' }, rejected: { action: 'finish' }, abandoned: { action: 'finish' } },
        failurePause: { window: 1000, ratio: 1 },
      },
    });
    campaigns[mode] = (
      await post('/v1/dialer/campaigns', { name: `Bench ${mode}`, groupId, strategyId: strategy.id, agentIds, wrapUpSeconds: WRAP_UP_SECONDS })
    ).id;
    for (const agentId of agentIds) await changeAgentState(db, { tenantId: tenantId, agentId, command: 'log_in', by: 'agent', actorUserId: null });
  }

  const worker = await startWorker();
  const cpuBefore = cpuSeconds(worker.pid!);
  const started = performance.now();
  const startedAt = new Date();
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
  const calls = sim.stats().originatesAccepted;
  const wall = (at: number) => new Date(startedAt.getTime() + (at - started));

  for (const mode of MODES) {
    const to = endedAt[mode] ?? until;
    const f = await figuresOf(db, campaigns[mode], startedAt, wall(to));
    const hours = (to - started) / 3_600_000;
    const dialled = contacts - (await pendingOf(campaigns[mode]));
    log(
      `${mode.padEnd(11)} over ${((to - started) / 1000).toFixed(0)} s (${dialled} contacts dialled${endedAt[mode] ? '' : ', list not finished'}): ` +
        `occupancy ${((f.busyMs / (agentsPerCampaign * (to - started))) * 100).toFixed(1)}%, abandon ${((f.abandoned / Math.max(1, f.abandoned + f.connected)) * 100).toFixed(2)}% ` +
        `(${f.abandoned} of ${f.abandoned + f.connected} answered), answer → bridged avg ${(f.waits.reduce((a, b) => a + b, 0) / Math.max(1, f.waits.length)).toFixed(0)} ms ` +
        `p99 ${percentile(f.waits, 0.99).toFixed(0)} ms, ${(f.connected / (agentsPerCampaign * hours)).toFixed(0)} calls per agent-hour`,
    );
    const slow = f.waits.filter((w) => w > SLOW_WAIT_MS).length;
    log(
      `${''.padEnd(11)} waited > ${SLOW_WAIT_MS} ms: ${((slow / Math.max(1, f.waits.length)) * 100).toFixed(1)}% of bridged (${slow} of ${f.waits.length}); ` +
        `found an agent free at the answer: ${f.freeWaits.length} calls, answer → bridged p99 ${percentile(f.freeWaits, 0.99).toFixed(0)} ms; ` +
        `agent reserved → bridged p99 ${percentile(f.connectMs, 0.99).toFixed(0)} ms`,
    );
  }
  const a = predictiveMonitor.agents;
  if (serviceLevel) log(`predictive service-level brake on: ${serviceLevel[1]}% of bridged calls may wait > ${serviceLevel[0]} ms (last minute)`);
  log(
    `predictive monitor at the end: dial level ${a?.dialLevel?.toFixed(2)}, phase ${a?.pacingPhase}, abandon (campaign) ${((a?.abandonRate?.campaign?.rate ?? 0) * 100).toFixed(2)}%`,
  );
  const customerCalls = (
    await db
      .selectFrom('dial_attempts')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('campaign_id', 'in', [campaigns.progressive, campaigns.predictive])
      .executeTakeFirstOrThrow()
  ).n;
  log(`${calls} originates (${customerCalls} to customers, ${calls - customerCalls} to agents), reoriginated ${sim.stats().reoriginated.length}`);
  logWorkerCpu(cpu, (until - started) / 1000, customerCalls, 'customer calls of both campaigns');

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
