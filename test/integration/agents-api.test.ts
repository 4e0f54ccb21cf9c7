import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, issueApiKey } from '../../src/db/accounts';
import { releaseAgent, reserveAgent } from '../../src/db/agents';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { fastStrategy } from '../helpers/dialer';

let stack: TestStack;
let tenant: TestTenant;
const campaigns: string[] = [];

beforeAll(async () => {
  stack = await createTestStack({ name: 'agents-api' });
  tenant = await stack.createTenant('Agentes API');
});
afterAll(async () => {
  for (const id of campaigns)
    await stack.temporal.workflow
      .getHandle(dialerCampaignWorkflowId(id))
      .terminate('test over')
      .catch(() => undefined);
  await stack.close();
});

const api = (method: 'GET' | 'POST', url: string, key: string, payload?: object) => stack.app.inject({ method, url, headers: bearer(key), payload });
const keyOf = async (userId: string) => (await issueApiKey(stack.database.db, { tenantId: tenant.tenantId, userId, name: 'desktop' })).key;

async function newAgent(n: number) {
  const res = await api('POST', '/v1/agents', tenant.supervisorKey, {
    name: `Agente ${n}`,
    email: `agente${n}@empresa.test`,
    sipEndpoint: `PJSIP/agent-${1000 + n}`,
  });
  expect(res.statusCode, res.body).toBe(201);
  const agent = res.json();
  return { ...agent, key: await keyOf(agent.userId) };
}

async function newCampaign(name: string, body: object) {
  const group = await stack.database.db
    .insertInto('contact_groups')
    .values({ tenant_id: tenant.tenantId, kind: 'dialer', name, name_key: name.toLowerCase(), source: 'csv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const strategy = await api('POST', '/v1/dialer/strategies', tenant.supervisorKey, fastStrategy(`Estratégia ${name}`));
  expect(strategy.statusCode, strategy.body).toBe(201);
  return api('POST', '/v1/dialer/campaigns', tenant.supervisorKey, { name, groupId: group.id, strategyId: strategy.json().id, ...body });
}

describe('pause reasons', () => {
  it('supervisors add them, names are unique ignoring case and accents, viewers only read', async () => {
    for (const name of ['Almoço', 'Treinamento', 'Feedback'])
      expect((await api('POST', '/v1/dialer/pause-reasons', tenant.supervisorKey, { name })).statusCode).toBe(201);
    const dup = await api('POST', '/v1/dialer/pause-reasons', tenant.supervisorKey, { name: 'almoco' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('PAUSE_REASON_TAKEN');
    expect((await api('POST', '/v1/dialer/pause-reasons', tenant.viewerKey, { name: 'Café' })).json().code).toBe('ROLE_TOO_LOW');
    const list = await api('GET', '/v1/dialer/pause-reasons', tenant.viewerKey);
    expect(list.json().items.map((r: { name: string }) => r.name)).toEqual(['Almoço', 'Feedback', 'Treinamento']);
  });
});

describe('agents', () => {
  let a1: Awaited<ReturnType<typeof newAgent>>;
  let a2: Awaited<ReturnType<typeof newAgent>>;

  it('supervisors create agents (a new agent user, or an existing one), offline, with a SIP endpoint unique in the tenant', async () => {
    a1 = await newAgent(1);
    a2 = await newAgent(2);
    expect(a1).toMatchObject({ name: 'Agente 1', sipEndpoint: 'PJSIP/agent-1001', state: 'offline', pauseReason: null, campaignIds: [] });
    const taken = await api('POST', '/v1/agents', tenant.supervisorKey, { name: 'Outro', email: 'outro@empresa.test', sipEndpoint: 'PJSIP/agent-1001' });
    expect([taken.statusCode, taken.json().code]).toEqual([409, 'SIP_ENDPOINT_TAKEN']);
    // Nothing half-written: the refused request left no user behind.
    expect(await stack.database.db.selectFrom('users').select('id').where('email', '=', 'outro@empresa.test').executeTakeFirst()).toBeUndefined();

    const viewer = await createUser(stack.database.db, { tenantId: tenant.tenantId, name: 'Leitor', email: 'leitor@empresa.test', role: 'viewer' });
    const notAgent = await api('POST', '/v1/agents', tenant.supervisorKey, { userId: viewer.id, sipEndpoint: 'PJSIP/agent-1009' });
    expect([notAgent.statusCode, notAgent.json().code]).toEqual([422, 'USER_NOT_AGENT']);
    const again = await api('POST', '/v1/agents', tenant.supervisorKey, { userId: a1.userId, sipEndpoint: 'PJSIP/agent-1010' });
    expect([again.statusCode, again.json().code]).toEqual([409, 'USER_ALREADY_AGENT']);
    const user = await createUser(stack.database.db, { tenantId: tenant.tenantId, name: 'Agente 3', email: 'agente3@empresa.test', role: 'agent' });
    const existing = await api('POST', '/v1/agents', tenant.supervisorKey, { userId: user.id, sipEndpoint: 'SIP/ramal-3' });
    expect(existing.statusCode).toBe(201);
    const bad = await api('POST', '/v1/agents', tenant.supervisorKey, { name: 'X', email: 'x@empresa.test', sipEndpoint: 'agent 1001' });
    expect(bad.statusCode).toBe(400);
    expect((await api('POST', '/v1/agents', a1.key, { name: 'Y', email: 'y@empresa.test', sipEndpoint: 'PJSIP/y' })).json().code).toBe('ROLE_TOO_LOW');
    expect((await api('GET', '/v1/me', a1.key)).json().user.role).toBe('agent');
  });

  it('an agent logs in, pauses with a tenant reason (by name or id), and is refused an unknown or missing reason', async () => {
    expect((await api('GET', '/v1/agents/me', a1.key)).json()).toMatchObject({ id: a1.id, state: 'offline' });
    const login = await api('POST', '/v1/agents/me/state', a1.key, { state: 'available' });
    expect([login.statusCode, login.json().state]).toEqual([200, 'available']);
    const noReason = await api('POST', '/v1/agents/me/state', a1.key, { state: 'paused' });
    expect([noReason.statusCode, noReason.json().code]).toEqual([422, 'PAUSE_REASON_REQUIRED']);
    const unknown = await api('POST', '/v1/agents/me/state', a1.key, { state: 'paused', pauseReason: 'Dormir' });
    expect([unknown.statusCode, unknown.json().code]).toEqual([422, 'PAUSE_REASON_UNKNOWN']);
    const stray = await api('POST', '/v1/agents/me/state', a1.key, { state: 'available', pauseReason: 'Almoço' });
    expect([stray.statusCode, stray.json().code]).toEqual([422, 'PAUSE_REASON_NOT_EXPECTED']);
    const lunch = await api('POST', '/v1/agents/me/state', a1.key, { state: 'paused', pauseReason: 'almoco' });
    expect(lunch.json()).toMatchObject({ state: 'paused', pauseReason: { name: 'Almoço' } });
    const reasons = (await api('GET', '/v1/dialer/pause-reasons', a1.key)).json().items as { id: string; name: string }[];
    const training = reasons.find((r) => r.name === 'Treinamento')!;
    const byId = await api('POST', `/v1/agents/${a1.id}/state`, a1.key, { state: 'paused', pauseReason: training.id });
    expect(byId.json().pauseReason).toEqual({ id: training.id, name: 'Treinamento' });
    expect((await api('POST', '/v1/agents/me/state', a1.key, { state: 'available' })).json().state).toBe('available');
    expect((await api('POST', '/v1/agents/me/state', a1.key, { state: 'on_call' })).statusCode).toBe(400);
  });

  it('only the agent themself or a supervisor changes a state; supervisors force only a pause or a log-out', async () => {
    const other = await api('POST', `/v1/agents/${a1.id}/state`, a2.key, { state: 'offline' });
    expect([other.statusCode, other.json().code]).toEqual([403, 'AGENT_NOT_SELF']);
    expect((await api('POST', `/v1/agents/${a1.id}/state`, tenant.viewerKey, { state: 'offline' })).json().code).toBe('ROLE_TOO_LOW');
    const forced = await api('POST', `/v1/agents/${a1.id}/state`, tenant.supervisorKey, { state: 'paused', pauseReason: 'Feedback' });
    expect(forced.json()).toMatchObject({ state: 'paused', pauseReason: { name: 'Feedback' } });
    const login = await api('POST', `/v1/agents/${a2.id}/state`, tenant.supervisorKey, { state: 'available' });
    expect([login.statusCode, login.json().code]).toEqual([403, 'AGENT_COMMAND_NOT_ALLOWED']);
    const offline = await api('POST', `/v1/agents/${a2.id}/state`, tenant.supervisorKey, { state: 'paused', pauseReason: 'Feedback' });
    expect([offline.statusCode, offline.json().code]).toEqual([409, 'AGENT_OFFLINE']);
    const noAgent = await api('GET', '/v1/agents/me', tenant.supervisorKey);
    expect([noAgent.statusCode, noAgent.json().code]).toEqual([404, 'AGENT_NOT_FOUND']);
    expect((await api('GET', '/v1/agents/00000000-0000-4000-8000-000000000000', tenant.viewerKey)).json().code).toBe('AGENT_NOT_FOUND');
    const audit = await stack.database.db.selectFrom('audit_log').select(['action', 'target_id']).where('action', '=', 'agent.force_pause').execute();
    expect(audit).toEqual([{ action: 'agent.force_pause', target_id: a1.id }]);
  });

  it('campaigns take agentIds and wrapUpSeconds; an agent on a call cannot leave it, and wrap-up ends when they say ready', async () => {
    const unknown = await newCampaign('Sem agente', { agentIds: ['00000000-0000-4000-8000-000000000000'] });
    expect([unknown.statusCode, unknown.json().code]).toEqual([422, 'AGENT_UNKNOWN']);
    const created = await newCampaign('Cobrança', { agentIds: [a1.id, a2.id], wrapUpSeconds: 45 });
    expect(created.statusCode, created.body).toBe(201);
    const campaign = created.json();
    campaigns.push(campaign.id);
    expect(campaign).toMatchObject({ agentIds: [a1.id, a2.id].sort(), wrapUpSeconds: 45 });
    expect((await api('GET', `/v1/dialer/campaigns/${campaign.id}`, tenant.viewerKey)).json().agentIds).toEqual([a1.id, a2.id].sort());
    expect((await api('GET', '/v1/dialer/campaigns', tenant.viewerKey)).json().items[0]).toMatchObject({ id: campaign.id, wrapUpSeconds: 45 });
    const assigned = (await api('GET', `/v1/agents?campaignId=${campaign.id}`, tenant.viewerKey)).json().items.map((a: { id: string }) => a.id);
    expect(assigned.sort()).toEqual([a1.id, a2.id].sort());

    // a1 is paused and a2 offline: no agent for the call until a2 logs in.
    expect(await reserveAgent(stack.database.db, { campaignId: campaign.id, callKey: 'c1' })).toBeUndefined();
    await api('POST', '/v1/agents/me/state', a2.key, { state: 'available' });
    expect((await reserveAgent(stack.database.db, { campaignId: campaign.id, callKey: 'c1' }))?.agentId).toBe(a2.id);
    expect((await api('GET', `/v1/agents/${a2.id}`, tenant.viewerKey)).json()).toMatchObject({ state: 'on_call', callKey: 'c1', campaignId: campaign.id });
    const leave = await api('POST', '/v1/agents/me/state', a2.key, { state: 'offline' });
    expect([leave.statusCode, leave.json().code]).toEqual([409, 'AGENT_ON_CALL']);
    const forced = await api('POST', `/v1/agents/${a2.id}/state`, tenant.supervisorKey, { state: 'offline' });
    expect([forced.statusCode, forced.json().code]).toEqual([409, 'AGENT_ON_CALL']);
    expect((await api('GET', '/v1/agents?state=on_call', tenant.viewerKey)).json().items.map((a: { id: string }) => a.id)).toEqual([a2.id]);

    await releaseAgent(stack.database.db, { callKey: 'c1' });
    const wrap = (await api('GET', '/v1/agents/me', a2.key)).json();
    expect(wrap.state).toBe('wrap_up');
    expect(new Date(wrap.wrapUpUntil).getTime() - new Date(wrap.since).getTime()).toBe(45_000);
    expect((await api('POST', '/v1/agents/me/state', a2.key, { state: 'available' })).json()).toMatchObject({ state: 'available', wrapUpUntil: null });
    expect((await api('POST', '/v1/agents/me/state', a2.key, { state: 'offline' })).json().state).toBe('offline');

    const events = await stack.database.db
      .selectFrom('agent_state_events')
      .select(['reason', 'actor_kind'])
      .where('agent_id', '=', a2.id)
      .orderBy('id')
      .execute();
    expect(events).toEqual([
      { reason: 'log_in', actor_kind: 'agent' },
      { reason: 'take_call', actor_kind: 'system' },
      { reason: 'end_call', actor_kind: 'system' },
      { reason: 'ready', actor_kind: 'agent' },
      { reason: 'log_out', actor_kind: 'agent' },
    ]);
  });
});
