import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectAgent } from '../../src/activities/dialer/ivr-runner';
import type { IvrFlowDefinitionInput } from '../../src/domain/dialer/ivr-flow';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { fastStrategy } from '../helpers/dialer';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';
import { collectionsFlow } from '../fixtures/ivr/collections-flow';
import { csvRows, expectNoOverlappingPlaybacks, ivrSimConfig } from '../helpers/ivr';

/**
 * Issue 13's Done-when: a collections flow (the amount due spoken from a custom field, 1 → agent,
 * 2 → boleto_enviado, 9 → opt-out) runs on every answered call of a campaign against the ARI
 * simulator's keypad scripts; the Relatório IVR shows each path; those who pressed 9 are on the
 * voice opt-out list and no other campaign calls them.
 */

let stack: TestStack;
let tenant: TestTenant;
let sim: AriSimulator;
let worker: RunningWorker;
/** The typed hook the agents' dispatcher plugs in: here it hands the call to an agents' queue in the dialplan. */
const connected: string[] = [];
const connectAgent: ConnectAgent = async (ctx, call) => {
  connected.push(call.key);
  return (await ctx.client.continueInDialplan(call.key, { context: 'agentes', extension: 'fila' })) ? 'connected' : 'no_agent';
};

/** The fixture, with a one-second key timeout (the silent customers' three tries stay short). */
const flow: IvrFlowDefinitionInput = {
  ...collectionsFlow,
  nodes: collectionsFlow.nodes.map((n) => (n.type === 'menu' ? { ...n, timeoutSec: 1 } : n)),
};

const phone = (last: string, i: number) => `5511977${String(i).padStart(5, '0')}${last}`;
/** Who is on the line, by the number's last digit (test/helpers/ivr.ts). */
const people = {
  agent: [phone('1', 1), phone('1', 2)],
  boleto: [phone('2', 3), phone('2', 4)],
  optOut: [phone('9', 5), phone('9', 6)],
  silent: [phone('0', 7)],
  hangsUp: [phone('7', 8)],
  invalidThenBoleto: [phone('5', 9)],
};
const noAmount = phone('2', 10);

const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
  stack.app.inject({ method, url, headers: bearer(tenant.supervisorKey), ...(payload !== undefined ? { payload: payload as object } : {}) });

beforeAll(async () => {
  stack = await createTestStack({ name: 'ivr-run' });
  tenant = await stack.createTenant('URA Cobranças');
  sim = await startAriSimulator({ config: ivrSimConfig(8_000) });
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    dialer: { ari: { url: sim.url, username: 'omni', password: 'omni', app: 'ivr-run' }, connectAgent },
  });
});
afterAll(async () => {
  await worker?.stop();
  await sim?.stop();
  await stack?.close();
});

async function group(name: string, phones: string[], custom: (phone: string) => Record<string, string>) {
  const db = stack.database.db;
  const row = await db
    .insertInto('contact_groups')
    .values({ tenant_id: tenant.tenantId, kind: 'dialer', name, name_key: name.toLowerCase(), source: 'csv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const p of phones) {
    await db
      .insertInto('contacts')
      .values({ group_id: row.id, name: `Cliente ${p.slice(-3)}`, phones: [p], custom: JSON.stringify(custom(p)) })
      .execute();
  }
  return row.id;
}

async function runCampaign(name: string, flowDefinition: IvrFlowDefinitionInput, phones: string[]) {
  const created = await api('POST', '/v1/dialer/ivr-flows', { name, definition: flowDefinition });
  expect(created.statusCode).toBe(201);
  const flowId = created.json().id as string;
  const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy(name, { answeredCall: { ivrFlowId: flowId }, maxAttemptsPerContact: 1 }))).json();
  const groupId = await group(name, phones, (p): Record<string, string> => (p === noAmount ? {} : { valor: '1.234,56' }));
  const campaign = await api('POST', '/v1/dialer/campaigns', { name, groupId, strategyId: strategy.id });
  expect(campaign.statusCode).toBe(201);
  const id = campaign.json().id as string;
  expect((await api('POST', `/v1/dialer/campaigns/${id}/start`)).statusCode).toBe(200);
  const running = stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id)).result();
  const ivrSeen = await watchIvrMonitor(id, running);
  const result = await running;
  expect(result.status).toBe('completed');
  return { campaignId: id, flowId, ivrSeen };
}

type MonitorIvr = { inIvr: number; byNode: Array<{ node: string; calls: number }> };
/** The monitor's `ivr` figures, read every 100 ms while the campaign runs. */
async function watchIvrMonitor(campaignId: string, running: Promise<unknown>): Promise<MonitorIvr[]> {
  const seen: MonitorIvr[] = [];
  let done = false;
  void running.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    seen.push((await api('GET', `/v1/dialer/campaigns/${campaignId}/monitor`)).json().ivr as MonitorIvr);
    await new Promise((r) => setTimeout(r, 100));
  }
  return seen;
}

const attemptOf = async (campaignId: string, p: string) =>
  (
    await stack.database.db
      .selectFrom('dial_attempts')
      .select(['attempt_key', 'outcome'])
      .where('campaign_id', '=', campaignId)
      .where('phone', '=', p)
      .executeTakeFirstOrThrow()
  ).attempt_key;

describe('URA ativa on a campaign', () => {
  let first: Awaited<ReturnType<typeof runCampaign>>;
  const everyone = [...Object.values(people).flat(), noAmount];

  beforeAll(async () => {
    first = await runCampaign('Cobrança URA', flow, everyone);
  }, 120_000);

  it('the Relatório IVR shows every path the simulated customers took, with the flow version', async () => {
    const res = await api('GET', `/v1/dialer/reports/ivr?campaignId=${first.campaignId}`);
    expect(res.statusCode).toBe(200);
    const [head, ...rows] = csvRows(res.body);
    const col = (row: string[] | undefined, name: string) => row?.[head?.indexOf(name) ?? -1];
    const byPhone = Object.fromEntries(rows.map((r) => [col(r, 'telefone'), r]));
    expect(rows).toHaveLength(everyone.length);
    const path = (p: string) => [col(byPhone[p], 'caminho'), col(byPhone[p], 'teclas'), col(byPhone[p], 'saida')];
    for (const p of people.agent) {
      expect(path(p)).toEqual(['saudacao > menu > atendente', '1', 'transferred']);
      expect(col(byPhone[p], 'transferido_para')).toBe('agente');
    }
    for (const p of [...people.boleto, noAmount]) {
      expect(path(p)).toEqual(['saudacao > menu > boleto > boleto_aviso > fim', '2', 'ended']);
      expect(col(byPhone[p], 'disposicao')).toBe('boleto_enviado');
    }
    for (const p of people.optOut) {
      expect(path(p)).toEqual(['saudacao > menu > descadastro > descadastro_aviso > fim', '9', 'ended']);
      expect(col(byPhone[p], 'descadastrado')).toBe('sim');
    }
    expect(path(people.silent[0] as string)).toEqual(['saudacao > menu > tchau > fim', '', 'ended']);
    expect(path(people.hangsUp[0] as string)).toEqual(['saudacao', '', 'hangup']);
    expect(path(people.invalidThenBoleto[0] as string)).toEqual(['saudacao > menu > boleto > boleto_aviso > fim', '52', 'ended']);
    expect(rows.every((r) => col(r, 'versao_fluxo') === '1' && col(r, 'fluxo') === 'Cobrança URA')).toBe(true);
    const open = await stack.database.db.selectFrom('ivr_calls').select('attempt_key').where('ended_at', 'is', null).execute();
    expect(open).toEqual([]);
  });

  it('the monitor shows the calls in the flow and on which node while they sit there, and none once they are done', async () => {
    expect(first.ivrSeen.every((s) => s.inIvr === s.byNode.reduce((n, b) => n + b.calls, 0))).toBe(true);
    // The silent customer waits out three one-second menu timeouts: the monitor sees calls on `menu`.
    expect(first.ivrSeen.some((s) => s.byNode.some((b) => b.node === 'menu' && b.calls >= 1))).toBe(true);
    expect(Math.max(...first.ivrSeen.map((s) => s.inIvr))).toBeLessThanOrEqual(everyone.length);
    const after = await api('GET', `/v1/dialer/campaigns/${first.campaignId}/monitor`);
    expect(after.json().ivr).toEqual({ inIvr: 0, byNode: [] });
    const sse = await api('GET', `/v1/dialer/campaigns/${first.campaignId}/monitor/stream?maxEvents=1`);
    const event = JSON.parse(/^data: (.*)$/m.exec(sse.body)?.[1] ?? '{}');
    expect(event.ivr).toEqual({ inIvr: 0, byNode: [] });
  });

  it('the calls report carries each attempt’s flow, disposition, final node and keys', async () => {
    const res = await api('GET', `/v1/dialer/reports/calls?campaignId=${first.campaignId}`);
    expect(res.statusCode).toBe(200);
    const [head, ...rows] = csvRows(res.body);
    const cols = ['fluxo', 'versao_fluxo', 'disposicao', 'no_final', 'teclas'].map((name) => head?.indexOf(name) ?? -1);
    const ivrOf = (p: string) => {
      const row = rows.find((r) => r[head?.indexOf('telefone') ?? -1] === p);
      return cols.map((i) => row?.[i]);
    };
    expect(ivrOf(people.boleto[0] as string)).toEqual(['Cobrança URA', '1', 'boleto_enviado', 'fim', '2']);
    expect(ivrOf(people.invalidThenBoleto[0] as string)).toEqual(['Cobrança URA', '1', 'boleto_enviado', 'fim', '52']);
    expect(ivrOf(people.agent[0] as string)).toEqual(['Cobrança URA', '1', '', 'atendente', '1']);
    expect(ivrOf(people.hangsUp[0] as string)).toEqual(['Cobrança URA', '1', '', 'saudacao', '']);
  });

  it('a phone’s history (interactions) shows the call with its IVR path, keys and disposition', async () => {
    const history = async (p: string) => {
      const res = await api('GET', `/v1/interactions?phone=${p}&campaignId=${first.campaignId}`);
      expect(res.statusCode).toBe(200);
      return res.json().items.map((i: { details: Record<string, unknown> }) => i.details.ivr);
    };
    expect(await history(people.optOut[0] as string)).toEqual([
      expect.objectContaining({
        flowName: 'Cobrança URA',
        flowVersion: 1,
        keys: '9',
        optedOut: true,
        finalNode: 'fim',
        exit: 'ended',
        path: ['saudacao', 'menu', 'descadastro', 'descadastro_aviso', 'fim'],
      }),
    ]);
    expect(await history(people.boleto[1] as string)).toEqual([expect.objectContaining({ keys: '2', disposition: 'boleto_enviado', optedOut: false })]);
    // Hung up during the first prompt: the flow's end may be recorded after the call's, and still reaches its history.
    expect(await history(people.hangsUp[0] as string)).toEqual([
      expect.objectContaining({ keys: '', finalNode: 'saudacao', path: ['saudacao'], exit: 'hangup' }),
    ]);
  });

  it('speaks the amount due from the custom field (skipped when the contact has none), one playback at a time', async () => {
    const spoken = sim.playbacks(await attemptOf(first.campaignId, people.boleto[0] as string)).flatMap((p) => p.media);
    expect(spoken.slice(0, 4)).toEqual(['sound:cobranca/ola', 'sound:cobranca/valor', 'number:1234', 'sound:cobranca/reais']);
    const without = sim.playbacks(await attemptOf(first.campaignId, noAmount)).flatMap((p) => p.media);
    expect(without.slice(0, 3)).toEqual(['sound:cobranca/ola', 'sound:cobranca/valor', 'sound:cobranca/reais']);
    expectNoOverlappingPlaybacks(sim);
  });

  it('1 goes to an agent through the injected connector; 2 records boleto_enviado on the attempt', async () => {
    const agentKeys = await Promise.all(people.agent.map((p) => attemptOf(first.campaignId, p)));
    expect(connected.sort()).toEqual([...agentKeys].sort());
    for (const key of agentKeys) expect(sim.continues(key)).toMatchObject([{ context: 'agentes', extension: 'fila' }]);
    const boleto = await stack.database.db
      .selectFrom('ivr_calls')
      .select(['disposition', 'flow_version'])
      .where('attempt_key', '=', await attemptOf(first.campaignId, people.boleto[0] as string))
      .executeTakeFirstOrThrow();
    expect(boleto).toEqual({ disposition: 'boleto_enviado', flow_version: 1 });
  });

  it('those who pressed 9 are on the voice opt-out list and no other campaign calls them; a dialplan transfer continues the call there', async () => {
    const optOuts = await stack.database.db.selectFrom('phone_opt_outs').select(['phone', 'channel']).where('tenant_id', '=', tenant.tenantId).execute();
    expect(optOuts.map((o) => o.phone).sort()).toEqual([...people.optOut].sort());
    expect(optOuts.every((o) => o.channel === 'voice')).toBe(true);

    const queueFlow: IvrFlowDefinitionInput = {
      ...flow,
      nodes: flow.nodes.map((n) => (n.type === 'transfer_agent' ? { ...n, target: { kind: 'dialplan', context: 'fila-cobranca', extension: '100' } } : n)),
    };
    const newcomer = phone('1', 11);
    const second = await runCampaign('Cobrança URA 2', queueFlow, [...people.optOut, newcomer]);
    const perNumber = sim.stats().perNumber;
    expect(people.optOut.map((p) => perNumber[p])).toEqual([1, 1]);
    const states = await stack.database.db.selectFrom('dialer_contacts').select('state').where('campaign_id', '=', second.campaignId).execute();
    expect(states.filter((s) => s.state === 'blocked')).toHaveLength(2);
    expect(sim.continues(await attemptOf(second.campaignId, newcomer))).toMatchObject([{ context: 'fila-cobranca', extension: '100', priority: 1 }]);
    expect(connected).toHaveLength(people.agent.length);
  }, 120_000);
});
