import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIvrCall, recordIvrStep } from '../../src/db/ivr-calls';
import { type IvrFlowDefinition, ivrFlowDefinitionSchema } from '../../src/domain/dialer/ivr-flow';
import { type IvrContext, type IvrEvent, type IvrState, startIvr, stepIvr } from '../../src/domain/dialer/ivr-interpreter';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { fastStrategy } from '../helpers/dialer';
import { collectionsFlow } from '../fixtures/ivr/collections-flow';

let stack: TestStack;
let tenant: TestTenant;
let flowId: string;
let campaignId: string;
const contacts: Record<string, number> = {};
const flow: IvrFlowDefinition = ivrFlowDefinitionSchema.parse(collectionsFlow);

const api = (method: 'GET' | 'POST', url: string, payload?: unknown, key = tenant.supervisorKey) =>
  stack.app.inject({ method, url, headers: bearer(key), ...(payload !== undefined ? { payload: payload as object } : {}) });

/** Runs one call through the flow as the dialer does: each step recorded before the next event. */
async function callThrough(phone: string, events: (IvrEvent | 'finish' | 'timeout')[], at = new Date()) {
  const attemptKey = `dc:${campaignId}:${contacts[phone]}:1`;
  const ctx: IvrContext = { flow, fields: { valor: '150,00' } };
  let step = startIvr(ctx, attemptKey);
  await openIvrCall(
    stack.database.db,
    { attemptKey, tenantId: tenant.tenantId, campaignId, contactId: contacts[phone] as number, phone, flowId, flowVersion: 1 },
    step,
    at,
  );
  let clock = at.getTime();
  for (const e of events) {
    const state: IvrState = step.state;
    const event: IvrEvent =
      e === 'finish'
        ? { type: 'playback_finished', playbackId: state.playbackId as string }
        : e === 'timeout'
          ? { type: 'timeout', timerId: state.timerId as string }
          : e;
    step = stepIvr(ctx, state, event);
    clock += 1_000;
    expect(await recordIvrStep(stack.database.db, attemptKey, state, step, new Date(clock))).toBe(true);
    // The same event applied again (a retried activity, a second worker) changes nothing.
    expect(await recordIvrStep(stack.database.db, attemptKey, state, step, new Date(clock))).toBe(false);
  }
  return attemptKey;
}
const key = (digit: string): IvrEvent => ({ type: 'dtmf', digit });

const phones = {
  agent: '5511900000001',
  boleto: '5511900000002',
  optOut: '5511900000009',
  silent: '5511900000000',
  gone: '5511900000007',
  retry: '5511900000005',
};

beforeAll(async () => {
  stack = await createTestStack({ name: 'ivr-report' });
  tenant = await stack.createTenant('Cobranças');
  const db = stack.database.db;
  flowId = (await api('POST', '/v1/dialer/ivr-flows', { name: 'Cobrança', definition: collectionsFlow })).json().id;
  const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy('URA', { answeredCall: { ivrFlowId: flowId } }))).json();
  const group = await db
    .insertInto('contact_groups')
    .values({ tenant_id: tenant.tenantId, kind: 'dialer', name: 'Devedores', name_key: 'devedores', source: 'csv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const [who, phone] of Object.entries(phones)) {
    const name = who === 'agent' ? '=HYPERLINK("http://x")' : `Cliente ${who}`;
    const row = await db
      .insertInto('contacts')
      .values({ group_id: group.id, name, phones: [phone], custom: JSON.stringify({ valor: '150,00' }) })
      .returning('id')
      .executeTakeFirstOrThrow();
    contacts[phone] = Number(row.id);
  }
  const campaign = await db
    .insertInto('dialer_campaigns')
    .values({
      tenant_id: tenant.tenantId,
      name: 'Cobrança dezembro',
      name_key: 'cobranca dezembro',
      group_id: group.id,
      strategy_id: strategy.id,
      status: 'completed',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  campaignId = campaign.id;

  const at = new Date('2026-12-01T13:00:00Z');
  await callThrough(phones.agent, ['finish', 'finish', key('1'), { type: 'transferred' }], at);
  await callThrough(phones.boleto, ['finish', key('2'), 'finish'], new Date(at.getTime() + 60_000));
  await callThrough(phones.optOut, ['finish', 'finish', key('9'), 'finish'], new Date(at.getTime() + 120_000));
  await callThrough(phones.silent, ['finish', 'finish', 'timeout', 'finish', 'timeout', 'finish', 'timeout', 'finish'], new Date(at.getTime() + 180_000));
  await callThrough(phones.gone, [{ type: 'hangup' }], new Date(at.getTime() + 240_000));
  await callThrough(phones.retry, ['finish', 'finish', key('5'), 'finish', key('2'), 'finish'], new Date(at.getTime() + 300_000));
});
afterAll(async () => stack?.close());

const csvRows = (body: string) =>
  body
    .replace(/^\uFEFF/, '')
    .trimEnd()
    .split(/\r?\n/)
    .map((line) => line.split(';'));

describe('Relatório IVR', () => {
  it('one row per call that entered the flow: path, keys, final node, disposition, opt-out, transfer, time in IVR (CSV ;, BOM, formula-safe)', async () => {
    const res = await api('GET', `/v1/dialer/reports/ivr?campaignId=${campaignId}`, undefined, tenant.viewerKey);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.body.startsWith('\uFEFF')).toBe(true);
    const [head, ...rows] = csvRows(res.body);
    expect(head).toEqual([
      'inicio',
      'campanha',
      'campanha_id',
      'contato_id',
      'contato',
      'telefone',
      'fluxo',
      'fluxo_id',
      'versao_fluxo',
      'caminho',
      'teclas',
      'no_final',
      'saida',
      'disposicao',
      'descadastrado',
      'transferido_para',
      'tempo_ura_s',
      'chamada',
    ]);
    const col = (row: string[] | undefined, name: string) => row?.[head?.indexOf(name) ?? -1];
    const byPhone = Object.fromEntries(rows.map((r) => [col(r, 'telefone'), r]));
    expect(rows).toHaveLength(6);
    const agent = byPhone[phones.agent];
    expect(col(agent, 'caminho')).toBe('saudacao > menu > atendente');
    expect(col(agent, 'transferido_para')).toBe('agente');
    expect(col(agent, 'saida')).toBe('transferred');
    expect(col(agent, 'contato')?.startsWith("'=") || col(agent, 'contato')?.startsWith('"\'=')).toBe(true);
    expect(col(agent, 'fluxo')).toBe('Cobrança');
    expect(col(agent, 'versao_fluxo')).toBe('1');
    expect(col(agent, 'tempo_ura_s')).toBe('4,0');
    const boleto = byPhone[phones.boleto];
    expect([col(boleto, 'caminho'), col(boleto, 'teclas'), col(boleto, 'disposicao'), col(boleto, 'no_final')]).toEqual([
      'saudacao > menu > boleto > boleto_aviso > fim',
      '2',
      'boleto_enviado',
      'fim',
    ]);
    expect(col(byPhone[phones.optOut], 'descadastrado')).toBe('sim');
    expect(col(byPhone[phones.boleto], 'descadastrado')).toBe('nao');
    expect(col(byPhone[phones.silent], 'caminho')).toBe('saudacao > menu > tchau > fim');
    expect([col(byPhone[phones.gone], 'caminho'), col(byPhone[phones.gone], 'saida')]).toEqual(['saudacao', 'hangup']);
    expect(col(byPhone[phones.retry], 'teclas')).toBe('52');
  });

  it('the customer who pressed 9 is on the voice opt-out list (every campaign skips it)', async () => {
    const optOuts = await stack.database.db
      .selectFrom('phone_opt_outs')
      .select(['phone', 'channel', 'source'])
      .where('tenant_id', '=', tenant.tenantId)
      .execute();
    expect(optOuts).toEqual([{ phone: phones.optOut, channel: 'voice', source: 'ivr' }]);
  });

  it('filters by flow, period and phone', async () => {
    const other = (await api('POST', '/v1/dialer/ivr-flows', { name: 'Outro', definition: collectionsFlow })).json().id;
    expect(csvRows((await api('GET', `/v1/dialer/reports/ivr?flowId=${other}`)).body)).toHaveLength(1);
    expect(csvRows((await api('GET', `/v1/dialer/reports/ivr?flowId=${flowId}`)).body)).toHaveLength(7);
    const window = new URLSearchParams({ from: '2026-12-01T13:01:00Z', to: '2026-12-01T13:03:00Z' });
    expect(csvRows((await api('GET', `/v1/dialer/reports/ivr?${window}`)).body)).toHaveLength(3);
    expect(csvRows((await api('GET', `/v1/dialer/reports/ivr?phone=11900000009`)).body)).toHaveLength(2);
    expect((await api('GET', '/v1/dialer/reports/ivr?flowId=nope')).statusCode).toBe(400);
  });

  it('the summary by node: entered, left by each key, timeouts, invalid, hang-ups', async () => {
    const res = await api('GET', `/v1/dialer/reports/ivr/summary?flowId=${flowId}`, undefined, tenant.viewerKey);
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { node: string }[];
    const node = (id: string) => items.find((i) => i.node === id);
    expect(items[0]?.node).toBe('saudacao');
    expect(node('saudacao')).toMatchObject({ entered: 6, hangups: 1, other: { next: 5 } });
    // The menu: 1, 2, 9 and 2 (after an invalid 5, retried within the node) and one timeout.
    expect(node('menu')).toMatchObject({ entered: 5, byKey: { '1': 1, '2': 2, '9': 1 }, timeouts: 1, invalid: 0, hangups: 0 });
    expect(node('atendente')).toMatchObject({ entered: 1, other: { transferred: 1 } });
    expect(node('fim')).toMatchObject({ entered: 4, other: { ended: 4 } });
    expect((await api('GET', '/v1/dialer/reports/ivr/summary?campaignId=00000000-0000-4000-8000-000000000000')).json().items).toEqual([]);
  });

  it('the catalogue run of the Relatório IVR reads the same rows', async () => {
    const catalogue = (await api('GET', '/v1/reports', undefined, tenant.viewerKey)).json().items as { id: string; filters: { name: string }[] }[];
    expect(catalogue.find((r) => r.id === 'ivr')?.filters.map((f) => f.name)).toEqual(['from', 'to', 'campaignId', 'flowId', 'phone']);
  });

  it('a flow calls have run cannot be deleted (the report needs it)', async () => {
    await api('POST', '/v1/dialer/strategies', fastStrategy('Livre'));
    const strategies = await stack.database.db.selectFrom('dial_strategies').select('id').where('tenant_id', '=', tenant.tenantId).execute();
    for (const s of strategies) {
      await stack.database.db
        .updateTable('dial_strategies')
        .set({ config: JSON.stringify({}) })
        .where('id', '=', s.id)
        .execute();
    }
    const res = await stack.app.inject({ method: 'DELETE', url: `/v1/dialer/ivr-flows/${flowId}`, headers: bearer(tenant.supervisorKey) });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('IVR_FLOW_REFERENCED');
  });
});
