import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { bootstrapTenant, createUser } from '../../src/db/accounts';
import { agentCountsByCampaign, changeAgentState, createAgent, releaseAgent, reserveAgent } from '../../src/db/agents';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let database: TestDatabase;
let tenantId: string;
let campaignId: string;
let otherCampaignId: string;

async function campaign(name: string, wrapUpSeconds: number) {
  const db = database.db;
  const group = await db
    .insertInto('contact_groups')
    .values({ tenant_id: tenantId, kind: 'dialer', name, name_key: name.toLowerCase(), source: 'csv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const strategy = await db
    .insertInto('dial_strategies')
    .values({ tenant_id: tenantId, name, name_key: name.toLowerCase(), config: JSON.stringify({}) })
    .returning('id')
    .executeTakeFirstOrThrow();
  const row = await db
    .insertInto('dialer_campaigns')
    .values({
      tenant_id: tenantId,
      name,
      name_key: name.toLowerCase(),
      group_id: group.id,
      strategy_id: strategy.id,
      status: 'running',
      wrap_up_seconds: wrapUpSeconds,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function agent(n: number, campaigns: string[]) {
  const user = await createUser(database.db, { tenantId, name: `Agente ${n}`, email: `agente${n}@test`, role: 'agent' });
  const created = await database.db
    .transaction()
    .execute((trx) => createAgent(trx, { tenantId, userId: user.id, sipEndpoint: `PJSIP/agent-${1000 + n}`, createdBy: null }));
  for (const c of campaigns)
    await database.db.insertInto('dialer_campaign_agents').values({ campaign_id: c, agent_id: created.id, tenant_id: tenantId }).execute();
  const login = await changeAgentState(database.db, { tenantId, agentId: created.id, command: 'log_in', by: 'agent', actorUserId: user.id });
  expect(login?.state.state).toBe('available');
  return created.id;
}

beforeAll(async () => {
  database = await createTestDatabase();
  tenantId = (await bootstrapTenant(database.db, { tenantName: 'Agentes' })).tenant.id;
  campaignId = await campaign('Cobrança', 0);
  otherCampaignId = await campaign('Vendas', 30);
});
afterAll(async () => database?.destroy());

describe('agent reservations', () => {
  it('gives each call at most one agent, the same one however often and however concurrently it is asked', async () => {
    const agents = await Promise.all([1, 2, 3].map((n) => agent(n, [campaignId])));
    const keys = Array.from({ length: 6 }, (_, i) => `call-${i}`);
    // Six calls, four requests each, all at once, for three agents.
    const answers = await Promise.all(
      keys.flatMap((callKey) => [0, 1, 2, 3].map(async () => ({ callKey, r: await reserveAgent(database.db, { campaignId, callKey }) }))),
    );
    const agentOfCall = new Map<string, Set<string>>();
    for (const { callKey, r } of answers) {
      if (!r) continue;
      expect(r.callKey).toBe(callKey);
      agentOfCall.set(callKey, (agentOfCall.get(callKey) ?? new Set()).add(r.agentId));
    }
    for (const set of agentOfCall.values()) expect(set.size).toBe(1);
    const given = [...agentOfCall.values()].map((s) => [...s][0]);
    expect(given.sort()).toEqual([...agents].sort());
    expect(agentOfCall.size).toBe(3);
    const ledger = await database.db.selectFrom('agent_calls').select(['call_key', 'agent_id']).where('campaign_id', '=', campaignId).execute();
    expect(ledger).toHaveLength(3);
    const states = await database.db.selectFrom('agent_states').selectAll().where('agent_id', 'in', agents).execute();
    expect(states.every((s) => s.state === 'on_call' && agentOfCall.has(s.call_key!))).toBe(true);
    expect((await agentCountsByCampaign(database.db, [campaignId])).get(campaignId)).toMatchObject({ on_call: 3, available: 0 });

    // Asked again later: the same agent.
    const [first] = [...agentOfCall.keys()];
    expect((await reserveAgent(database.db, { campaignId, callKey: first }))?.agentId).toBe([...agentOfCall.get(first)!][0]);
  });

  it('releases a call once: the agent goes back (no wrap-up on this campaign) and a retried release or reservation changes nothing', async () => {
    const [call] = await database.db.selectFrom('agent_calls').selectAll().where('campaign_id', '=', campaignId).orderBy('call_key').limit(1).execute();
    expect(await releaseAgent(database.db, { callKey: call.call_key })).toEqual({ agentId: call.agent_id, state: 'available' });
    expect(await releaseAgent(database.db, { callKey: call.call_key })).toBeUndefined();
    const again = await reserveAgent(database.db, { campaignId, callKey: call.call_key });
    expect(again).toMatchObject({ agentId: call.agent_id, released: true });
    const state = await database.db.selectFrom('agent_states').selectAll().where('agent_id', '=', call.agent_id).executeTakeFirstOrThrow();
    expect(state).toMatchObject({ state: 'available', call_key: null });
    const events = await database.db
      .selectFrom('agent_state_events')
      .select(['from_state', 'to_state', 'reason', 'actor_kind', 'call_key'])
      .where('agent_id', '=', call.agent_id)
      .orderBy('id')
      .execute();
    expect(events).toEqual([
      { from_state: 'offline', to_state: 'available', reason: 'log_in', actor_kind: 'agent', call_key: null },
      { from_state: 'available', to_state: 'on_call', reason: 'take_call', actor_kind: 'system', call_key: call.call_key },
      { from_state: 'on_call', to_state: 'available', reason: 'end_call', actor_kind: 'system', call_key: call.call_key },
    ]);
  });

  it('puts the agent in wrap-up for the campaign seconds, refuses a pause while on a call, and settles an expired wrap-up as available', async () => {
    const id = await agent(9, [otherCampaignId]);
    const reserved = await reserveAgent(database.db, { campaignId: otherCampaignId, callKey: 'vendas-1' });
    expect(reserved?.agentId).toBe(id);
    expect(await reserveAgent(database.db, { campaignId: otherCampaignId, callKey: 'vendas-2' })).toBeUndefined();
    const pause = await changeAgentState(database.db, { tenantId, agentId: id, command: 'log_out', by: 'supervisor', actorUserId: null });
    expect(pause?.decision).toMatchObject({ ok: false, code: 'AGENT_ON_CALL' });
    expect(await releaseAgent(database.db, { callKey: 'vendas-1' })).toEqual({ agentId: id, state: 'wrap_up' });
    const row = await database.db.selectFrom('agent_states').selectAll().where('agent_id', '=', id).executeTakeFirstOrThrow();
    expect(new Date(row.wrap_up_until!).getTime() - new Date(row.since).getTime()).toBe(30_000);
    expect(await reserveAgent(database.db, { campaignId: otherCampaignId, callKey: 'vendas-2' })).toBeUndefined();

    // The after-call time passes: the next reservation finds the agent available again.
    await database.db
      .updateTable('agent_states')
      .set({ since: sql`now() - interval '40 seconds'`, wrap_up_until: sql`now() - interval '10 seconds'` })
      .where('agent_id', '=', id)
      .execute();
    expect((await agentCountsByCampaign(database.db, [otherCampaignId])).get(otherCampaignId)).toMatchObject({ available: 1, wrap_up: 0 });
    expect((await reserveAgent(database.db, { campaignId: otherCampaignId, callKey: 'vendas-2' }))?.agentId).toBe(id);
    const reasons = await database.db.selectFrom('agent_state_events').select('reason').where('agent_id', '=', id).orderBy('id').execute();
    expect(reasons.map((r) => r.reason)).toEqual(['log_in', 'take_call', 'end_call', 'wrap_up_over', 'take_call']);
  });
});
