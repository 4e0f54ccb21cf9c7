import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportSources } from '../../src/db/reports';
import { reportById } from '../../src/domain/reports/catalogue';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { agentStrategy, fastStrategy, importDialerGroup, phoneOf } from '../helpers/dialer';
import { startDialerTestStack, type DialerTestStack } from '../helpers/dialer-stack';
import { newAgent, setAgentState } from '../helpers/agents';

// `answeredCall: "agent"`: every answered customer is either bridged to one agent of the campaign
// (the simulator's bridge holds exactly the customer and `<key>:agent`) or hears the abandon
// message and ends `abandoned`; each agent ends the run back in after-call work or available.
let t: DialerTestStack;

beforeAll(async () => {
  t = await startDialerTestStack('agent-connect', {
    seed: 21,
    ringMs: [100, 300],
    talkMs: [4_000, 5_000],
    rules: [{ match: '.', mix: [{ outcome: 'answered', weight: 1 }] }],
    media: { soundMs: 300 },
    agents: { answerMs: [20, 60], talkMs: [400, 900] },
    // The IVR test's customers: numbers ending in 8 press 1 at the menu, 0.1–0.3 s after it ends
    // (well inside its 1 s timeout); the others stay silent.
    keypad: [{ match: '8$', keys: ['1'], promptMatch: 'ura/menu' }],
    keyDelayMs: [100, 300],
  });
});
afterAll(async () => {
  await t?.close();
});

/** A new agent of the tenant, logged in (available). */
async function availableAgent(n: number): Promise<string> {
  const agent = await newAgent(t, n, 'conn', 3000);
  expect((await setAgentState(t, agent.key, 'available')).json().state).toBe('available');
  return agent.id;
}

describe('connecting answered calls to agents', () => {
  it('rejects an abandon message that is not a sound: URI, and a retry of abandoned calls within the hour', async () => {
    const bad = await t.api(
      'POST',
      '/v1/dialer/strategies',
      fastStrategy('Ruim', { answeredCall: 'agent', agentConnect: { abandonMessage: 'http://x/y.wav' } }),
    );
    expect(bad.statusCode, bad.body).toBe(400);
    const soon = await t.api('POST', '/v1/dialer/strategies', fastStrategy('Cedo', { outcomes: { abandoned: { action: 'retry', afterMinutes: 30 } } }));
    expect(soon.statusCode, soon.body).toBe(400);
  });

  it('bridges each answered customer to one agent, or plays the abandon message and ends it abandoned', async () => {
    const agents = [await availableAgent(1), await availableAgent(2)];
    const phones = Array.from({ length: 10 }, (_, i) => [phoneOf(i, 7)]);
    const groupId = await importDialerGroup(t.stack, t.tenant, 'Agentes', phones);
    const strategy = await t.api('POST', '/v1/dialer/strategies', agentStrategy('Agentes', 1, { mode: 'power', channels: 5, callsPerSecond: 100 }));
    expect(strategy.statusCode, strategy.body).toBe(201);
    expect(strategy.json().config.agentConnect).toEqual({ abandonAfterSeconds: 1, abandonMessage: 'sound:custom/sem-agente' });
    expect(strategy.json().config.outcomes.abandoned).toEqual({ action: 'retry', afterMinutes: 60 });
    const created = await t.api('POST', '/v1/dialer/campaigns', {
      name: 'Agentes',
      groupId,
      strategyId: strategy.json().id,
      agentIds: agents,
      wrapUpSeconds: 0,
    });
    expect(created.statusCode, created.body).toBe(201);
    const campaignId = created.json().id as string;
    expect((await t.api('POST', `/v1/dialer/campaigns/${campaignId}/start`)).statusCode).toBe(200);
    // The monitor, read while the campaign runs: customers waiting for one of the two agents show up.
    let running = true;
    const waits: number[] = [];
    const watching = (async () => {
      while (running) {
        const m = await t.api('GET', `/v1/dialer/campaigns/${campaignId}/monitor`);
        if (m.statusCode === 200 && m.json().agents) waits.push(m.json().agents.waitingForAgent);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const result = await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(campaignId)).result();
    running = false;
    await watching;
    expect(result.status).toBe('completed');
    expect(Math.max(...waits)).toBeGreaterThan(0);
    expect(waits.at(-1)).toBe(0);

    const db = t.stack.database.db;
    const attempts = await db.selectFrom('dial_attempts').selectAll().where('campaign_id', '=', campaignId).orderBy('id').execute();
    expect(attempts).toHaveLength(10);
    const bridges = new Map(t.sim.bridges().map((b) => [b.id, b]));
    const connected = attempts.filter((a) => a.outcome === 'answered');
    const abandoned = attempts.filter((a) => a.outcome === 'abandoned');
    expect(connected.length + abandoned.length).toBe(10);
    expect(connected.length).toBeGreaterThanOrEqual(2);
    expect(abandoned.length).toBeGreaterThanOrEqual(1);
    for (const a of connected) {
      expect(agents).toContain(a.agent_id);
      expect(a.bridged_at).not.toBeNull();
      expect(a.agent_wait_ms).toBeGreaterThanOrEqual(0);
      expect(a.agent_talk_ms).toBeGreaterThan(0);
      expect(a.abandoned_at).toBeNull();
      const bridge = bridges.get(`${a.attempt_key}:bridge`);
      expect(bridge?.destroyedAt).not.toBeNull();
      expect(new Set(bridge?.members.map((m) => m.channelId))).toEqual(new Set([a.attempt_key, `${a.attempt_key}:agent`]));
      expect(t.sim.acceptedOriginates(`${a.attempt_key}:agent`)).toBe(1);
    }
    for (const a of abandoned) {
      expect(a.abandoned_at).not.toBeNull();
      expect(a.bridged_at).toBeNull();
      expect(bridges.get(`${a.attempt_key}:bridge`)?.members.length ?? 0).toBe(0);
      const played = t.sim.playbacks(a.attempt_key);
      expect(played.map((p) => p.id)).toEqual([`${a.attempt_key}:abandon`]);
      expect(played[0].media).toEqual(['sound:custom/sem-agente']);
    }
    // Nobody stays on a call; one agent never holds two customers at once.
    const states = await db.selectFrom('agent_states').select(['state', 'call_key']).where('agent_id', 'in', agents).execute();
    for (const s of states) expect(s).toEqual({ state: 'available', call_key: null });
    const ledger = await db.selectFrom('agent_calls').selectAll().where('campaign_id', '=', campaignId).execute();
    expect(ledger.every((c) => c.released_at !== null)).toBe(true);
    for (const agentId of agents) {
      const mine = ledger.filter((c) => c.agent_id === agentId).sort((x, y) => +new Date(x.reserved_at) - +new Date(y.reserved_at));
      for (let i = 1; i < mine.length; i++) expect(+new Date(mine[i].reserved_at)).toBeGreaterThanOrEqual(+new Date(mine[i - 1].released_at!));
    }
    // The calls report names the agent of every connected call and marks the abandoned ones.
    const columns = reportById('calls')!.columns.map((c) => c.key);
    const report = await reportSources.calls(db, { tenantId: t.tenant.tenantId, filters: { campaignId } }, null, 100);
    const cell = (row: unknown[], name: string) => row[columns.indexOf(name)];
    expect(report.rows).toHaveLength(10);
    for (const row of report.rows) {
      const abandonedRow = cell(row, 'resultado') === 'abandoned';
      expect(cell(row, 'abandonada')).toBe(abandonedRow ? 'sim' : 'nao');
      if (abandonedRow) expect(cell(row, 'agente')).toBeNull();
      else expect(String(cell(row, 'agente'))).toMatch(/^Agente [12]$/);
    }
    const perCampaign = await reportSources['dialer-campaigns'](db, { tenantId: t.tenant.tenantId, filters: { campaignId } }, null, 10);
    expect(perCampaign.rows[0][reportById('dialer-campaigns')!.columns.findIndex((c) => c.key === 'abandonadas')]).toBe(abandoned.length);
    const contacts = await db
      .selectFrom('dialer_contacts')
      .select(['last_outcome', 'state', 'next_attempt_at'])
      .where('campaign_id', '=', campaignId)
      .execute();
    expect(contacts.filter((c) => c.last_outcome === 'abandoned')).toHaveLength(abandoned.length);
    // A phone's history names the agent who talked to the customer (Rastreio de Interações).
    const touched = connected[0];
    const history = await t.api('GET', `/v1/interactions?phone=${touched.phone}&channel=voice`);
    expect(history.statusCode, history.body).toBe(200);
    const call = history.json().items.find((i: { sourceKey: string }) => i.sourceKey === touched.attempt_key);
    expect(call.handledBy).toEqual({ kind: 'agent', id: touched.agent_id });
    expect(call.details).toMatchObject({ agentId: touched.agent_id, agentWaitMs: touched.agent_wait_ms, agentTalkMs: touched.agent_talk_ms });
    const detail = await t.api('GET', `/v1/interactions/${call.id}`);
    expect(detail.json().events.map((e: { type: string }) => e.type)).toContain('bridged');
  }, 120_000);
  it("an IVR flow's 1 → agent bridges the customer to the campaign's agent; the Relatório IVR names who took it", async () => {
    const agentId = await availableAgent(5);
    const flow = await t.api('POST', '/v1/dialer/ivr-flows', {
      name: 'Atendimento',
      definition: {
        start: 'menu',
        nodes: [
          {
            id: 'menu',
            type: 'menu',
            prompt: ['sound:ura/menu'],
            timeoutSec: 1,
            retries: 0,
            branches: { '1': 'atendente' },
            onTimeout: 'fim',
            onInvalid: 'fim',
          },
          { id: 'atendente', type: 'transfer_agent', target: { kind: 'campaign_agent' }, noAgent: 'fim' },
          { id: 'fim', type: 'hangup' },
        ],
      },
    });
    expect(flow.statusCode, flow.body).toBe(201);
    const strategy = await t.api(
      'POST',
      '/v1/dialer/strategies',
      fastStrategy('URA agente', { maxAttemptsPerContact: 1, answeredCall: { ivrFlowId: flow.json().id } }),
    );
    expect(strategy.statusCode, strategy.body).toBe(201);
    const pressesOne = phoneOf(50, 8);
    const silent = phoneOf(51, 9);
    const groupId = await importDialerGroup(t.stack, t.tenant, 'URA agente', [[pressesOne], [silent]]);
    const created = await t.api('POST', '/v1/dialer/campaigns', {
      name: 'URA agente',
      groupId,
      strategyId: strategy.json().id,
      agentIds: [agentId],
      wrapUpSeconds: 0,
    });
    expect(created.statusCode, created.body).toBe(201);
    const campaignId = created.json().id as string;
    expect((await t.api('POST', `/v1/dialer/campaigns/${campaignId}/start`)).statusCode).toBe(200);
    expect((await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(campaignId)).result()).status).toBe('completed');

    const db = t.stack.database.db;
    const attempts = await db.selectFrom('dial_attempts').selectAll().where('campaign_id', '=', campaignId).execute();
    const byPhone = new Map(attempts.map((a) => [a.phone, a]));
    const transferred = byPhone.get(pressesOne);
    expect(transferred?.agent_id).toBe(agentId);
    expect(transferred?.bridged_at).not.toBeNull();
    const bridge = t.sim.bridges().find((b) => b.id === `${transferred?.attempt_key}:bridge`);
    expect(new Set(bridge?.members.map((m) => m.channelId))).toEqual(new Set([transferred?.attempt_key, `${transferred?.attempt_key}:agent`]));
    expect(byPhone.get(silent)?.agent_id).toBeNull();

    const columns = reportById('ivr')!.columns.map((c) => c.key);
    const report = await reportSources.ivr(db, { tenantId: t.tenant.tenantId, filters: { campaignId } }, null, 10);
    const rows = new Map(report.rows.map((r) => [r[columns.indexOf('telefone')], r]));
    const cell = (phone: string, name: string) => rows.get(phone)?.[columns.indexOf(name)];
    expect(cell(pressesOne, 'caminho')).toBe('menu > atendente');
    expect(cell(pressesOne, 'teclas')).toBe('1');
    expect(cell(pressesOne, 'transferido_para')).toBe('agente: Agente 5');
    expect(cell(silent, 'caminho')).toBe('menu > fim');
    expect(cell(silent, 'transferido_para')).toBeNull();
  }, 120_000);
});
