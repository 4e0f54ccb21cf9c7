import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { fastStrategy, importDialerGroup, phoneOf } from '../helpers/dialer';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/worker-process';

let stack: TestStack;
let tenant: TestTenant;
let sim: AriSimulator;
let worker: RunningWorker;

// A low guard: from 4 calls a day, 40% short. Every number is busy after 1 s of ringing: each call is short.
beforeAll(async () => {
  stack = await createTestStack({ name: 'dialer-short-guard', env: { SHORT_CALL_GUARD_DAILY_CALLS: '4', SHORT_CALL_GUARD_MAX_SHARE: '0.4' } });
  tenant = await stack.createTenant('Curtas Demais');
  sim = await startAriSimulator({
    config: { seed: 3, ringMs: [1000, 1000], talkMs: [20, 50], rules: [{ match: '.', mix: [{ outcome: 'busy', weight: 1 }] }] },
  });
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    dialer: {
      ari: { url: sim.url, username: 'omni', password: 'omni', app: 'dialer-short-guard' },
      tuning: { shortCallGuardEveryMs: 200 },
      shortCallGuard: { dailyCalls: stack.config.SHORT_CALL_GUARD_DAILY_CALLS, maxShare: stack.config.SHORT_CALL_GUARD_MAX_SHARE },
    },
  });
});
afterAll(async () => {
  await worker?.stop();
  await sim?.stop();
  await stack?.close();
});

const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
  stack.app.inject({ method, url, headers: bearer(tenant.supervisorKey), ...(payload !== undefined ? { payload: payload as object } : {}) });
const campaign = async (id: string) => (await api('GET', `/v1/dialer/campaigns/${id}`)).json();
const attemptsOf = async (id: string) => stack.database.db.selectFrom('dial_attempts').select(['ended_at']).where('campaign_id', '=', id).execute();
const pausedOf = (id: string, what: string) =>
  waitFor(
    async () => {
      const c = await campaign(id);
      return c.status === 'paused' ? c : undefined;
    },
    what,
    30_000,
    100,
  );

it('pauses the running campaign with reason short_call_guard once the day is over the guard, and again on a resume while still over', async () => {
  const groupId = await importDialerGroup(
    stack,
    tenant,
    'Ocupados',
    Array.from({ length: 40 }, (_, i) => [phoneOf(100 + i, 1)]),
  );
  const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy('Ocupados', { pacing: { channels: 2, callsPerSecond: 100 } }))).json();
  const created = (await api('POST', '/v1/dialer/campaigns', { name: 'Ocupados', groupId, strategyId: strategy.id })).json();
  expect((await api('POST', `/v1/dialer/campaigns/${created.id}/start`)).json().status).toBe('running');

  const paused = await pausedOf(created.id, 'the short-call guard pause');
  expect(paused).toMatchObject({ pauseReason: 'short_call_guard', pauseReasonText: expect.stringContaining('chamadas curtas') });
  expect((await api('GET', `/v1/dialer/campaigns/${created.id}/monitor`)).json().shortCalls.guard.over).toBe(true);
  // It stopped well before the 40 contacts × 2 attempts were dialled.
  await waitFor(async () => ((await attemptsOf(created.id)).every((a) => a.ended_at !== null) ? true : undefined), 'the calls in flight to end', 20_000, 100);
  const placed = (await attemptsOf(created.id)).length;
  expect(placed).toBeGreaterThanOrEqual(4);
  expect(placed).toBeLessThan(80);

  // Still over the line: a resume pauses again at once, without a new call.
  // The resume is accepted; its answer may already show the new pause (the lane checks the guard before its first call).
  const resumed = await api('POST', `/v1/dialer/campaigns/${created.id}/resume`);
  expect(resumed.statusCode).toBe(200);
  expect(['running', 'paused']).toContain(resumed.json().status);
  const audits = () =>
    stack.database.db
      .selectFrom('audit_log')
      .select(['action', 'actor_kind', 'details'])
      .where('target_id', '=', created.id)
      .where('action', '=', 'dialer_campaign.auto_pause')
      .execute();
  await waitFor(async () => ((await audits()).length >= 2 ? true : undefined), 'the second automatic pause', 30_000, 100);
  expect((await campaign(created.id)).pauseReason).toBe('short_call_guard');
  expect((await attemptsOf(created.id)).length).toBe(placed);
  for (const entry of await audits()) expect(entry).toMatchObject({ actor_kind: 'system', details: { reason: 'short_call_guard' } });
  expect((await api('POST', `/v1/dialer/campaigns/${created.id}/stop`)).json().status).toBe('stopped');
});
