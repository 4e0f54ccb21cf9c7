import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IvrFlowDefinitionInput } from '../../src/domain/dialer/ivr-flow';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { fastStrategy } from '../helpers/dialer';
import { collectionsFlow } from '../fixtures/ivr/collections-flow';

let stack: TestStack;
let tenant: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  stack = await createTestStack({ name: 'ivr-flows-api' });
  tenant = await stack.createTenant('Cobranças');
  other = await stack.createTenant('Outra');
});
afterAll(async () => stack?.close());

const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, key = tenant.supervisorKey) =>
  stack.app.inject({ method, url, headers: bearer(key), ...(payload !== undefined ? { payload: payload as object } : {}) });

describe('IVR flows API', () => {
  it('creates, lists and gets a flow, with its defaults filled in and the custom fields it speaks', async () => {
    const created = await api('POST', '/v1/dialer/ivr-flows', { name: 'Cobrança', definition: collectionsFlow });
    expect(created.statusCode).toBe(201);
    const flow = created.json();
    expect(created.headers.location).toBe(`/v1/dialer/ivr-flows/${flow.id}`);
    expect(flow).toMatchObject({ name: 'Cobrança', version: 1, currentVersion: 1, variables: ['valor'], usedBy: [] });
    expect(flow.definition.nodes[1]).toMatchObject({ id: 'menu', maxDigits: 1, retries: 2 });

    const list = (await api('GET', '/v1/dialer/ivr-flows', undefined, tenant.viewerKey)).json();
    expect(list.items.map((f: { id: string }) => f.id)).toEqual([flow.id]);
    expect((await api('GET', `/v1/dialer/ivr-flows/${flow.id}`)).json().definition).toEqual(flow.definition);
    // Nothing crosses tenants.
    expect((await api('GET', `/v1/dialer/ivr-flows/${flow.id}`, undefined, other.supervisorKey)).json().code).toBe('IVR_FLOW_NOT_FOUND');
    expect((await api('GET', '/v1/dialer/ivr-flows', undefined, other.supervisorKey)).json().items).toEqual([]);
    expect((await api('POST', '/v1/dialer/ivr-flows', { name: 'cobrança', definition: collectionsFlow })).json().code).toBe('IVR_FLOW_NAME_TAKEN');
  });

  it('refuses a bad flow with 422 IVR_FLOW_INVALID naming each problem node, and a shapeless one with 400', async () => {
    const bad: IvrFlowDefinitionInput = {
      start: 'menu',
      nodes: [
        { id: 'menu', type: 'menu', prompt: ['sound:opcoes'], branches: { '1': 'laco', '2': 'sumiu' }, onTimeout: 'fim', onInvalid: 'fim' },
        { id: 'laco', type: 'play', media: ['tone:beep'], next: 'laco' },
        { id: 'solto', type: 'hangup' },
        { id: 'fim', type: 'hangup' },
      ],
    };
    const res = await api('POST', '/v1/dialer/ivr-flows', { name: 'Ruim', definition: bad });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.code).toBe('IVR_FLOW_INVALID');
    expect(body.detail).toContain('menu, laco, solto');
    expect(body.problems.map((p: { node: string; code: string }) => `${p.node}:${p.code}`)).toEqual([
      'menu:UNKNOWN_TARGET',
      'laco:MEDIA_INVALID',
      'laco:NEVER_ENDS',
      'laco:UNBOUNDED_LOOP',
      'solto:UNREACHABLE',
    ]);
    expect((await api('POST', '/v1/dialer/ivr-flows', { name: 'Sem forma', definition: { start: 'x', nodes: [{ id: 'x', type: 'sing' }] } })).statusCode).toBe(
      400,
    );
    expect((await api('GET', '/v1/dialer/ivr-flows', undefined, tenant.viewerKey)).json().items.map((f: { name: string }) => f.name)).not.toContain('Ruim');
  });

  it('a new version bumps the version and keeps the earlier one readable; an invalid one changes nothing', async () => {
    const flow = (await api('POST', '/v1/dialer/ivr-flows', { name: 'Lembrete', definition: collectionsFlow })).json();
    const v2def = {
      start: 'aviso',
      nodes: [
        { id: 'aviso', type: 'play', media: ['sound:lembrete'], next: 'fim' },
        { id: 'fim', type: 'hangup' },
      ],
    };
    const v2 = await api('PUT', `/v1/dialer/ivr-flows/${flow.id}`, { name: 'Lembrete', definition: v2def });
    expect(v2.statusCode).toBe(200);
    expect(v2.json()).toMatchObject({ version: 2, currentVersion: 2, variables: [] });
    const refused = await api('PUT', `/v1/dialer/ivr-flows/${flow.id}`, {
      name: 'Lembrete',
      definition: { start: 'nada', nodes: [{ id: 'fim', type: 'hangup' }] },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().problems).toEqual([expect.objectContaining({ node: null, code: 'START_NODE_MISSING' })]);
    const v1 = (await api('GET', `/v1/dialer/ivr-flows/${flow.id}?version=1`)).json();
    expect(v1).toMatchObject({ version: 1, currentVersion: 2, variables: ['valor'] });
    expect((await api('GET', `/v1/dialer/ivr-flows/${flow.id}`)).json()).toMatchObject({ version: 2 });
    expect((await api('GET', `/v1/dialer/ivr-flows/${flow.id}?version=3`)).json().code).toBe('IVR_FLOW_VERSION_NOT_FOUND');
    // A version past PostgreSQL's integer is a 400 naming the field, not a database error.
    const huge = await api('GET', `/v1/dialer/ivr-flows/${flow.id}?version=6227020801`);
    expect(huge.statusCode).toBe(400);
    expect(huge.json().errors).toEqual([expect.objectContaining({ field: 'version' })]);
    expect((await api('PUT', '/v1/dialer/ivr-flows/00000000-0000-4000-8000-000000000000', { name: 'X', definition: v2def })).statusCode).toBe(404);
  });

  it("a strategy's answered calls run a flow of the tenant's; the flow cannot be deleted while a strategy refers to it", async () => {
    const flow = (await api('POST', '/v1/dialer/ivr-flows', { name: 'Pesquisa', definition: collectionsFlow })).json();
    const defaulted = (await api('POST', '/v1/dialer/strategies', fastStrategy('Sem URA'))).json();
    expect(defaulted.config.answeredCall).toBe('hangup');

    const strategy = await api('POST', '/v1/dialer/strategies', fastStrategy('Com URA', { answeredCall: { ivrFlowId: flow.id } }));
    expect(strategy.statusCode).toBe(201);
    expect(strategy.json().config.answeredCall).toEqual({ ivrFlowId: flow.id });
    const foreign = (await api('POST', '/v1/dialer/ivr-flows', { name: 'Alheio', definition: collectionsFlow }, other.supervisorKey)).json();
    const refused = await api('POST', '/v1/dialer/strategies', fastStrategy('URA de outro', { answeredCall: { ivrFlowId: foreign.id } }));
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('IVR_FLOW_UNKNOWN');
    expect((await api('PUT', `/v1/dialer/strategies/${defaulted.id}`, fastStrategy('Sem URA', { answeredCall: { ivrFlowId: foreign.id } }))).statusCode).toBe(
      422,
    );
    expect((await api('POST', '/v1/dialer/strategies', fastStrategy('URA torta', { answeredCall: 'transfer' }))).statusCode).toBe(400);

    expect((await api('GET', `/v1/dialer/ivr-flows/${flow.id}`)).json().usedBy).toEqual([{ id: strategy.json().id, name: 'Com URA' }]);
    const inUse = await api('DELETE', `/v1/dialer/ivr-flows/${flow.id}`);
    expect(inUse.statusCode).toBe(409);
    expect(inUse.json()).toMatchObject({ code: 'IVR_FLOW_IN_USE', strategies: [{ name: 'Com URA' }] });

    // Back to hanging up: the flow is free and goes, with its versions.
    const back = await api('PUT', `/v1/dialer/strategies/${strategy.json().id}`, fastStrategy('Com URA', { answeredCall: 'hangup' }));
    expect(back.json()).toMatchObject({ version: 2, config: { answeredCall: 'hangup' } });
    expect((await api('DELETE', `/v1/dialer/ivr-flows/${flow.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/v1/dialer/ivr-flows/${flow.id}`)).statusCode).toBe(404);
    expect(await stack.database.db.selectFrom('ivr_flow_versions').select('version').where('flow_id', '=', flow.id).execute()).toEqual([]);
  });
});
