import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { newAgent, setAgentState } from '../helpers/agents';
import { startCrashStack, type CrashStack } from '../helpers/crash-stack';
import { agentStrategy, phoneOf } from '../helpers/dialer';
import { expectNoOverlappingPlaybacks } from '../helpers/ivr';

/**
 * A predictive campaign with agents, its worker SIGKILLed three times with customers bridged to
 * agents: the next worker finds each call by its id and connects it, plays the abandon message,
 * or leaves the live bridge alone and ends it when a side hangs up. Proven from the simulator's
 * records and the database: no second originate (customer or agent), never two agents for one
 * customer, nobody left connected, no agent left on a call, every abandon heard its message.
 */
let c: CrashStack;

beforeAll(async () => {
  // Customers never hang up first (40 s): the agent ends each call (1–3 s), or the dialer does.
  c = await startCrashStack('agent-crash', 'Agentes Resilientes', {
    seed: 5,
    ringMs: [100, 300],
    talkMs: [40_000, 45_000],
    defaultMix: [
      { outcome: 'answered', weight: 70 },
      { outcome: 'no_answer', weight: 30 },
    ],
    media: { soundMs: 400 },
    agents: { answerMs: [20, 80], talkMs: [1_000, 3_000] },
  });
});
afterAll(async () => {
  await c?.close();
});

it('SIGKILLed three times with customers bridged to agents: each call connected, abandoned with its message or its bridge left alone; no second originate, no agent left on a call', async () => {
  const { stack, sim, api } = c;
  const db = stack.database.db;
  const agents = [];
  for (let n = 1; n <= 6; n++) {
    const agent = await newAgent(c, n, 'crash', 4000);
    expect((await setAgentState(c, agent.key, 'available')).json().state).toBe('available');
    agents.push(agent.id);
  }
  const group = await db
    .insertInto('contact_groups')
    .values({ tenant_id: c.tenant.tenantId, kind: 'dialer', name: 'Clientes', name_key: 'clientes', source: 'csv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('contacts')
    .values(Array.from({ length: 70 }, (_, i) => ({ group_id: group.id, name: `Cliente ${i}`, phones: [phoneOf(i, 3)] })))
    .execute();
  const strategy = (
    await api('POST', '/v1/dialer/strategies', agentStrategy('Preditivo', 1.5, { mode: 'predictive', channels: 12, callsPerSecond: 20 }))
  ).json();
  const created = await api('POST', '/v1/dialer/campaigns', {
    name: 'Preditivo',
    groupId: group.id,
    strategyId: strategy.id,
    agentIds: agents,
    wrapUpSeconds: 1,
  });
  expect(created.statusCode, created.body).toBe(201);
  const campaignId = created.json().id as string;

  const worker = await c.spawnWorker();
  expect((await api('POST', `/v1/dialer/campaigns/${campaignId}/start`)).statusCode).toBe(200);
  let seenBridges = 0;
  const { seen } = await c.killRepeatedly(worker, 3, async () => {
    const stats = sim.stats();
    if (stats.bridgesLive < 2 || stats.bridgesCreated < seenBridges + 4) return undefined;
    seenBridges = stats.bridgesCreated;
    return stats.bridgesLive;
  });
  expect(seen.every((live) => live >= 2)).toBe(true);

  const result = await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(campaignId)).result();
  expect(result.status).toBe('completed');

  // No second originate, for customers or agents; nobody left connected to anything.
  const stats = sim.stats();
  expect(stats.reoriginated).toEqual([]);
  expect(stats.callsActive).toBe(0);
  expect(stats.bridgesLive).toBe(0);
  expectNoOverlappingPlaybacks(sim);

  const attempts = await db.selectFrom('dial_attempts').selectAll().where('campaign_id', '=', campaignId).execute();
  expect(attempts.filter((a) => a.state !== 'done')).toEqual([]);
  const byKey = new Map(attempts.map((a) => [a.attempt_key, a]));
  // Each bridge holds one customer and that customer's own agent channel: never two agents per customer.
  const bridges = sim.bridges();
  expect(bridges.length).toBeGreaterThanOrEqual(10);
  const customersBridged = new Set<string>();
  for (const b of bridges) {
    const key = b.id.replace(/:bridge$/, '');
    expect(byKey.has(key)).toBe(true);
    expect(b.destroyedAt).not.toBeNull();
    if (b.members.length === 0) {
      // Made by a worker killed before it added the two channels; the next found a side gone (the
      // simulated agent hangs up 1–3 s after answering, bridged or not) and destroyed it: nobody's call.
      expect(byKey.get(key)!.bridged_at).toBeNull();
      expect(sim.acceptedOriginates(`${key}:agent`)).toBe(1);
      continue;
    }
    expect(new Set(b.members.map((m) => m.channelId))).toEqual(new Set([key, `${key}:agent`]));
    expect(customersBridged.has(key)).toBe(false);
    customersBridged.add(key);
    expect(sim.acceptedOriginates(`${key}:agent`)).toBe(1);
  }
  // Every answered customer was connected (agent, wait, talk written) or heard the abandon message.
  for (const a of attempts.filter((x) => x.outcome === 'answered')) {
    expect(customersBridged.has(a.attempt_key)).toBe(true);
    expect(agents).toContain(a.agent_id);
    expect(a.bridged_at).not.toBeNull();
    expect(a.agent_talk_ms).not.toBeNull();
  }
  for (const a of attempts.filter((x) => x.outcome === 'abandoned')) {
    expect(customersBridged.has(a.attempt_key)).toBe(false);
    expect(sim.playbacks(a.attempt_key).map((p) => p.id)).toContain(`${a.attempt_key}:abandon`);
  }
  // The calls in flight at the kills were taken over by the next worker.
  const lost = attempts.filter((a) => a.lost);
  expect(lost.length).toBeGreaterThanOrEqual(3);

  // No agent stays on a call; every reservation was released; one agent never held two calls at once.
  const states = await db.selectFrom('agent_states').select(['state', 'call_key']).where('agent_id', 'in', agents).execute();
  expect(states.filter((s) => s.state === 'on_call' || s.call_key !== null)).toEqual([]);
  const ledger = await sql<{ agent_id: string; reserved_at: Date; released_at: Date | null }>`
    SELECT agent_id, reserved_at, released_at FROM agent_calls WHERE campaign_id = ${campaignId} ORDER BY agent_id, reserved_at`.execute(db);
  expect(ledger.rows.filter((r) => r.released_at === null)).toEqual([]);
  for (let i = 1; i < ledger.rows.length; i++) {
    const [prev, next] = [ledger.rows[i - 1], ledger.rows[i]];
    if (prev.agent_id === next.agent_id) expect(+new Date(next.reserved_at)).toBeGreaterThanOrEqual(+new Date(prev.released_at!));
  }
}, 300_000);
