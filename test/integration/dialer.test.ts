import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialerStartScheduleId } from '../../src/domain/dialer/start-schedule';
import { dialerCampaignWorkflowId, dialerProgressQuery } from '../../src/workflows/dialer/messages';
import { createAriClient } from '../../src/integrations/ari';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { fastStrategy, importDialerGroup, outcomeRules, phoneOf } from '../helpers/dialer';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/worker-process';

let stack: TestStack;
let tenant: TestTenant;
let other: TestTenant;
let sim: AriSimulator;
let worker: RunningWorker;

beforeAll(async () => {
  stack = await createTestStack({ name: 'dialer' });
  tenant = await stack.createTenant('Discador SA');
  other = await stack.createTenant('Outra');
  sim = await startAriSimulator({ config: { seed: 7, ringMs: [20, 80], talkMs: [20, 120], rules: outcomeRules } });
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    dialer: { ari: { url: sim.url, username: 'omni', password: 'omni', app: 'dialer-it' }, tuning: { strategyEveryMs: 1000 } },
  });
});
afterAll(async () => {
  await worker?.stop();
  await sim?.stop();
  await stack?.close();
});

const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, key = tenant.supervisorKey) =>
  stack.app.inject({ method, url, headers: bearer(key), ...(payload !== undefined ? { payload: payload as object } : {}) });

const campaign = async (id: string) => (await api('GET', `/v1/dialer/campaigns/${id}`)).json();

describe('block list', () => {
  it('adds, lists, imports in bulk and removes phones; refuses invalid ones', async () => {
    expect((await api('POST', '/v1/dialer/block-list', { phone: '+55 (48) 99828-8774', reason: 'pediu' })).statusCode).toBe(201);
    const bad = await api('POST', '/v1/dialer/block-list', { phone: '4899828' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().code).toBe('PHONE_INVALID');
    const bulk = await api('POST', '/v1/dialer/block-list/import', { csv: 'telefone\n5511999990001\n5511999990002;x\n123\n', phones: ['5548998288774'] });
    expect(bulk.json()).toMatchObject({ added: 2, alreadyBlocked: 1 });
    expect(bulk.json().invalid).toHaveLength(1);
    const list = (await api('GET', '/v1/dialer/block-list')).json();
    expect(list.items.map((i: { phone: string }) => i.phone).sort()).toEqual(['5511999990001', '5511999990002', '5548998288774']);
    expect((await api('GET', '/v1/dialer/block-list', undefined, other.viewerKey)).json().items).toEqual([]);
    expect((await api('DELETE', '/v1/dialer/block-list/5511999990002')).statusCode).toBe(204);
    expect((await api('DELETE', '/v1/dialer/block-list/5511999990002')).statusCode).toBe(404);
  });
});

describe('strategies', () => {
  it('fills defaults, requires a 0303 caller id for telemarketing, bumps the version on edit', async () => {
    const created = await api('POST', '/v1/dialer/strategies', { name: 'Padrão' });
    expect(created.statusCode).toBe(201);
    const s = created.json();
    expect(s.version).toBe(1);
    expect(s.config.outcomes.busy).toEqual({ action: 'retry', afterMinutes: 5 });
    expect(s.config.callingWindow.timeZone).toBe('America/Sao_Paulo');

    const tm = await api('POST', '/v1/dialer/strategies', { name: 'Telemarketing', telemarketing: true, config: { callerId: '4833334444' } });
    expect(tm.statusCode).toBe(422);
    expect(tm.json().code).toBe('CALLER_ID_0303_REQUIRED');
    expect((await api('POST', '/v1/dialer/strategies', { name: 'Telemarketing', telemarketing: true, config: { callerId: '03034445555' } })).statusCode).toBe(
      201,
    );
    expect((await api('POST', '/v1/dialer/strategies', { name: 'padrao' })).json().code).toBe('STRATEGY_NAME_TAKEN');

    const edited = await api('PUT', `/v1/dialer/strategies/${s.id}`, { name: 'Padrão', config: { maxAttemptsPerContact: 5 } });
    expect(edited.json()).toMatchObject({ version: 2, config: { maxAttemptsPerContact: 5 } });
    expect((await api('GET', `/v1/dialer/strategies/${s.id}`, undefined, other.viewerKey)).statusCode).toBe(404);
    expect((await api('DELETE', `/v1/dialer/strategies/${s.id}`)).statusCode).toBe(204);
  });
});

describe('a campaign on an imported group', () => {
  it('starts when its start Schedule fires, pauses and resumes by API with 409s, ' +
    'never calls blocked contacts, and its report matches the simulator', async () => {
    // 24 contacts: outcomes by last digit; contacts 0 and 1 are on the block list (one by each of their phones).
    const phones = Array.from({ length: 24 }, (_, i) => [phoneOf(i, i % 6), ...(i % 4 === 0 ? [phoneOf(i + 100, 5)] : [])]);
    const blocked = [phones[0][0], phones[1][0]];
    // Contact 5's call is held up until the test hangs it up: the campaign cannot finish before
    // the pause below, however fast or slow the machine is.
    const held = phones[5][0];
    sim.configure({ rules: [{ match: `^${held}$`, mix: [{ outcome: 'answered', weight: 1 }], talkMs: [3_600_000, 3_600_000] }, ...outcomeRules] });
    for (const phone of blocked) expect((await api('POST', '/v1/dialer/block-list', { phone })).statusCode).toBe(201);
    const groupId = await importDialerGroup(stack, tenant, 'Cobrança Novembro', phones);
    const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy('Rápida'))).json();

    // A broadcast group or an inactive one is refused.
    // Tomorrow, on a whole second: only the test's trigger of the start Schedule starts it.
    const startAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000).toISOString();
    const res = await api('POST', '/v1/dialer/campaigns', { name: 'Cobrança', groupId, strategyId: strategy.id, startAt });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({ status: 'scheduled', startAt, nextRunAt: null });
    expect((await api('GET', `/v1/contact-groups/${groupId}`)).json()).toMatchObject({ locked: true, campaign: { id: created.id } });
    expect((await api('POST', '/v1/dialer/campaigns', { name: 'Outra', groupId, strategyId: strategy.id })).json().code).toBe('GROUP_ALREADY_LINKED');
    expect((await api('DELETE', `/v1/dialer/strategies/${strategy.id}`)).json().code).toBe('STRATEGY_IN_USE');

    // Nobody starts it: its start Schedule does, at startAt (here, now, by the Schedules page's "trigger").
    const schedule = stack.temporal.schedule.getHandle(dialerStartScheduleId(created.id));
    await waitFor(async () => (await campaign(created.id)).nextRunAt === startAt, 'the start Schedule', 60_000);
    expect((await schedule.describe()).info.nextActionTimes[0].toISOString()).toBe(startAt);
    await schedule.trigger();
    await waitFor(async () => (await campaign(created.id)).status === 'running', 'the scheduled start', 120_000);
    await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

    const paused = await api('POST', `/v1/dialer/campaigns/${created.id}/pause`);
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ status: 'paused', pauseReason: 'manual' });
    const again = await api('POST', `/v1/dialer/campaigns/${created.id}/pause`);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('CAMPAIGN_NOT_RUNNING');
    expect((await api('POST', `/v1/dialer/campaigns/${created.id}/start`)).json().code).toBe('CAMPAIGN_ALREADY_STARTED');
    const handle = stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(created.id));
    expect((await handle.query(dialerProgressQuery)).status).toBe('paused');
    expect((await api('POST', `/v1/dialer/campaigns/${created.id}/resume`)).json().status).toBe('running');

    // Release the held call (a normal hangup: answered, cause 16); then the campaign can complete.
    const ari = createAriClient({ baseUrl: sim.url, username: 'omni', password: 'omni', app: 'dialer-it-test' });
    const heldChannel = await waitFor(
      async () => (await ari.listChannels()).find((c) => c.connected.number === held && c.state === 'Up'),
      'the held call',
      120_000,
    );
    expect(await ari.hangup(heldChannel.id)).toBe(true);
    await ari.close();

    const result = await handle.result();
    expect(result.status).toBe('completed');
    const done = await campaign(created.id);
    expect(done.status).toBe('completed');
    const stop = await api('POST', `/v1/dialer/campaigns/${created.id}/stop`);
    expect(stop.statusCode).toBe(409);
    expect(stop.json().code).toBe('CAMPAIGN_FINISHED');

    // Every contact is final; the blocked ones ended `blocked` and none of their phones was dialled.
    const db = stack.database.db;
    const contacts = await db.selectFrom('dialer_contacts').select(['state', 'final_outcome', 'phones']).where('campaign_id', '=', created.id).execute();
    expect(contacts).toHaveLength(24);
    expect(contacts.every((c) => ['done', 'blocked', 'exhausted'].includes(c.state))).toBe(true);
    expect(
      contacts
        .filter((c) => c.state === 'blocked')
        .map((c) => c.phones[0])
        .sort(),
    ).toEqual([...blocked].sort());
    const stats = sim.stats();
    for (const p of [...phones[0], ...phones[1]]) expect(stats.perNumber[p]).toBeUndefined();
    expect(stats.reoriginated).toEqual([]);

    // The calls report has one row per originate the simulator accepted, with matching causes.
    const report = await api('GET', `/v1/dialer/reports/calls?campaignId=${created.id}`);
    expect(report.headers['content-type']).toContain('text/csv');
    expect(report.body.startsWith('\uFEFFquando;campanha;')).toBe(true);
    const rows = report.body
      .trim()
      .split('\r\n')
      .slice(1)
      .map((l) => l.split(';'));
    expect(rows).toHaveLength(stats.originatesAccepted);
    const causes: Record<string, number> = {};
    for (const r of rows) causes[r[9]] = (causes[r[9]] ?? 0) + 1;
    expect(causes).toEqual(Object.fromEntries(Object.entries(stats.byCause).map(([k, v]) => [k, v])));
    expect(rows.every((r) => r[13] === '1')).toBe(true); // strategy version

    const monitor = (await api('GET', `/v1/dialer/campaigns/${created.id}/monitor`)).json();
    expect(monitor).toMatchObject({ status: 'completed', attempts: stats.originatesAccepted, callsInProgress: 0, channels: 5, etaSeconds: 0 });
    expect(monitor.contacts).toMatchObject({ total: 24, blocked: 2, pending: 0, inProgress: 0 });

    const campaigns = await api('GET', `/v1/dialer/reports/campaigns?campaignId=${created.id}`);
    const line = campaigns.body.trim().split('\r\n')[1].split(';');
    expect(line[0]).toBe('Cobrança');
    expect(Number(line[4])).toBe(stats.originatesAccepted);
    expect(Number(line[12])).toBe(2);

    const list = (await api('GET', '/v1/dialer/campaigns', undefined, tenant.viewerKey)).json();
    expect(list.items[0].headline).toMatchObject({ contacts: 24, finished: 24, attempts: stats.originatesAccepted });
  }, 300_000); // waits on the real campaign; slow when the 20,000-contact crash tests share the 2 cores

  it('refuses to resume a stopped campaign (409 CAMPAIGN_FINISHED) and streams the monitor as SSE', async () => {
    const groupId = await importDialerGroup(stack, tenant, 'Rascunho', [[phoneOf(900, 5)]]);
    const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy('Rascunho'))).json();
    const created = (await api('POST', '/v1/dialer/campaigns', { name: 'Rascunho', groupId, strategyId: strategy.id })).json();
    expect(created.status).toBe('draft');
    const sse = await stack.app.inject({
      method: 'GET',
      url: `/v1/dialer/campaigns/${created.id}/monitor/stream?maxEvents=1`,
      headers: bearer(tenant.viewerKey),
    });
    expect(sse.headers['content-type']).toContain('text/event-stream');
    expect(sse.body).toMatch(/^event: monitor\nid: 0\ndata: \{.*"status":"draft".*\}\n\n$/s);
    expect((await api('POST', `/v1/dialer/campaigns/${created.id}/resume`)).json().code).toBe('CAMPAIGN_NOT_PAUSED');
    expect((await api('POST', `/v1/dialer/campaigns/${created.id}/stop`)).json().status).toBe('stopped');
    const resumed = await api('POST', `/v1/dialer/campaigns/${created.id}/resume`);
    expect(resumed.statusCode).toBe(409);
    expect(resumed.json().code).toBe('CAMPAIGN_FINISHED');
  });

  it('pauses by itself, with a visible reason, when most recent attempts are network failures', async () => {
    const groupId = await importDialerGroup(
      stack,
      tenant,
      'Rede ruim',
      Array.from({ length: 8 }, (_, i) => [phoneOf(500 + i, 4)]),
    );
    const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy('Rede', { failurePause: { window: 5, ratio: 0.5 } }))).json();
    const created = (await api('POST', '/v1/dialer/campaigns', { name: 'Rede ruim', groupId, strategyId: strategy.id })).json();
    expect((await api('POST', `/v1/dialer/campaigns/${created.id}/start`)).json().status).toBe('running');
    const paused = await waitFor(
      async () => {
        const c = await campaign(created.id);
        return c.status === 'paused' ? c : undefined;
      },
      'the automatic pause',
      30_000,
    );
    expect(paused).toMatchObject({ pauseReason: 'network_failures', pauseReasonText: expect.stringContaining('erro de rede') });
    const monitor = (await api('GET', `/v1/dialer/campaigns/${created.id}/monitor`)).json();
    expect(monitor.why).toContain('erro de rede');
    // Network failures do not use up attempts.
    const attempts = await stack.database.db.selectFrom('dialer_contacts').select(['attempts', 'dials']).where('campaign_id', '=', created.id).execute();
    expect(attempts.every((a) => a.attempts === 0)).toBe(true);
    expect(attempts.some((a) => a.dials > 0)).toBe(true);
    expect((await api('POST', `/v1/dialer/campaigns/${created.id}/stop`)).json().status).toBe('stopped');
  });

  it('an invalid number on phone 1 moves the contact to phone 2 (a fact about a phone, not the contact)', async () => {
    // Phone 1 invalid (last digit 3), phone 2 answers; a single-phone contact with an invalid number ends invalid.
    const groupId = await importDialerGroup(stack, tenant, 'Dois telefones', [[phoneOf(700, 3), phoneOf(701, 5)], [phoneOf(702, 3)]]);
    const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy('Dois telefones'))).json();
    const created = (await api('POST', '/v1/dialer/campaigns', { name: 'Dois telefones', groupId, strategyId: strategy.id })).json();
    expect((await api('POST', `/v1/dialer/campaigns/${created.id}/start`)).json().status).toBe('running');
    await waitFor(async () => ((await campaign(created.id)).status === 'completed' ? true : undefined), 'the campaign to complete', 60_000);
    const db = stack.database.db;
    const attempts = await db.selectFrom('dial_attempts').select(['phone', 'outcome']).where('campaign_id', '=', created.id).orderBy('id').execute();
    expect(attempts.map((a) => `${a.phone}:${a.outcome}`).sort()).toEqual(
      [`${phoneOf(700, 3)}:invalid_number`, `${phoneOf(701, 5)}:answered`, `${phoneOf(702, 3)}:invalid_number`].sort(),
    );
    const contacts = await db.selectFrom('dialer_contacts').select(['phones', 'state', 'final_outcome']).where('campaign_id', '=', created.id).execute();
    expect(Object.fromEntries(contacts.map((c) => [c.phones[0], `${c.state}:${c.final_outcome}`]))).toEqual({
      [phoneOf(700, 3)]: 'done:answered',
      [phoneOf(702, 3)]: 'done:invalid_number',
    });
  });
});
