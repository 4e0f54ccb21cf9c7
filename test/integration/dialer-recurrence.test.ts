import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dialerRecurrenceScheduleId } from '../../src/domain/dialer/recurrence';
import { localParts } from '../../src/domain/dialer/windows';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { fastStrategy, importDialerGroup, outcomeRules, phoneOf } from '../helpers/dialer';
import { startDialerTestStack, type DialerTestStack } from '../helpers/dialer-stack';
import { waitFor } from '../helpers/worker-process';

let t: DialerTestStack;

beforeAll(async () => {
  t = await startDialerTestStack('dialer-recurrence', { seed: 3, ringMs: [10, 30], talkMs: [10, 30], rules: outcomeRules });
});
afterAll(async () => t?.close());

const api = (method: 'GET' | 'POST', url: string, payload?: unknown) => t.api(method, url, payload);
const campaign = async (id: string) => (await api('GET', `/v1/dialer/campaigns/${id}`)).json();
/** Waits until cycle `n` has run to its end (the campaign is back to waiting for the next one). */
const cycleDone = (id: string, n: number) =>
  waitFor(
    async () => {
      const c = await campaign(id);
      return c.cycle === n && c.status === 'scheduled' ? c : undefined;
    },
    `the end of cycle ${n}`,
    120_000,
  );

it('runs a cycle per Schedule occurrence, re-arming only contacts not reached; pause pauses the Schedule, stop deletes it', async () => {
  // Last digit: 5 answered, 3 invalid number, 1 busy (one attempt a cycle: exhausted at once).
  const phones = [[phoneOf(1, 5)], [phoneOf(2, 3)], [phoneOf(3, 1)], [phoneOf(4, 1)]];
  const groupId = await importDialerGroup(t.stack, t.tenant, 'Toda semana', phones);
  const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy('Uma tentativa', { maxAttemptsPerContact: 1 }))).json();
  // An occurrence far from now: only the test's triggers start cycles.
  const hour = (localParts(new Date(), 'America/Sao_Paulo').hh + 12) % 24;
  const recurrence = { days: [0, 1, 2, 3, 4, 5, 6], time: `${String(hour).padStart(2, '0')}:00`, timeZone: 'America/Sao_Paulo' };
  const res = await api('POST', '/v1/dialer/campaigns', { name: 'Recorrente', groupId, strategyId: strategy.id, recurrence });
  expect(res.statusCode).toBe(201);
  const id = res.json().id as string;
  expect(res.json()).toMatchObject({ status: 'scheduled', cycle: 0, recurrence });

  // The Schedule exists, follows the recurrence, and the campaign shows its next run.
  const schedule = t.stack.temporal.schedule.getHandle(dialerRecurrenceScheduleId(id));
  const waiting = await waitFor(
    async () => {
      const c = await campaign(id);
      return c.nextRunAt ? c : undefined;
    },
    'the next run',
    60_000,
  );
  const described = await schedule.describe();
  expect(described.spec.calendars?.[0]).toMatchObject({ hour: [{ start: hour, end: hour, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] });
  expect(described.spec.timezone).toBe('America/Sao_Paulo');
  expect(described.state.paused).toBe(false);
  expect(new Date(waiting.nextRunAt).getTime()).toBe(described.info.nextActionTimes[0].getTime());

  // Cycle 1: everyone is called once.
  await schedule.trigger();
  const afterFirst = await cycleDone(id, 1);
  expect(afterFirst.nextRunAt).not.toBeNull();
  const between = (await api('GET', `/v1/dialer/campaigns/${id}/monitor`)).json();
  expect(between).toMatchObject({ status: 'scheduled', cycle: 1, nextRunAt: afterFirst.nextRunAt, why: expect.stringContaining('Ciclo 1 concluído') });
  const db = t.stack.database.db;
  const contactStates = async () =>
    Object.fromEntries(
      (await db.selectFrom('dialer_contacts').select(['phones', 'state', 'final_outcome']).where('campaign_id', '=', id).execute()).map((c) => [
        c.phones[0],
        `${c.state}:${c.final_outcome}`,
      ]),
    );
  expect(await contactStates()).toEqual({
    [phones[0][0]]: 'done:answered',
    [phones[1][0]]: 'done:invalid_number',
    [phones[2][0]]: 'exhausted:busy',
    [phones[3][0]]: 'exhausted:busy',
  });

  // Paused between cycles: the Schedule is paused too; resuming goes back to waiting.
  expect((await api('POST', `/v1/dialer/campaigns/${id}/pause`)).json()).toMatchObject({ status: 'paused', nextRunAt: null });
  expect((await schedule.describe()).state.paused).toBe(true);
  const resumed = (await api('POST', `/v1/dialer/campaigns/${id}/resume`)).json();
  expect(resumed).toMatchObject({ status: 'scheduled', cycle: 1 });
  expect(resumed.nextRunAt).not.toBeNull();
  expect((await schedule.describe()).state.paused).toBe(false);

  // Operations' signals govern the Schedule the same way.
  const workflow = t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id));
  await workflow.signal('pause');
  await waitFor(async () => (await schedule.describe()).state.paused && (await campaign(id)).status === 'paused', 'the pause signal', 60_000);
  await workflow.signal('resume');
  await waitFor(async () => !(await schedule.describe()).state.paused && (await campaign(id)).status === 'scheduled', 'the resume signal', 60_000);

  // Cycle 2: only the busy contacts are called again, with fresh counters.
  await schedule.trigger();
  await cycleDone(id, 2);
  const attempts = await db
    .selectFrom('dial_attempts')
    .select(['phone', 'cycle', 'attempt_no', 'outcome'])
    .where('campaign_id', '=', id)
    .orderBy('id')
    .execute();
  expect(
    attempts
      .filter((a) => a.cycle === 1)
      .map((a) => a.phone)
      .sort(),
  ).toEqual(phones.map((p) => p[0]).sort());
  expect(
    attempts
      .filter((a) => a.cycle === 2)
      .map((a) => a.phone)
      .sort(),
  ).toEqual([phones[2][0], phones[3][0]].sort());
  expect(attempts.every((a) => a.attempt_no === 1)).toBe(true);
  const perNumber = t.sim.stats().perNumber;
  expect([perNumber[phones[0][0]], perNumber[phones[1][0]], perNumber[phones[2][0]], perNumber[phones[3][0]]]).toEqual([1, 1, 2, 2]);

  // The calls report says which cycle each attempt belongs to.
  const report = await api('GET', `/v1/dialer/reports/calls?campaignId=${id}`);
  const [header, ...lines] = report.body
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\r\n')
    .map((l) => l.split(';'));
  const cycleColumn = header.indexOf('ciclo');
  expect(lines.map((l) => l[cycleColumn]).sort()).toEqual(['1', '1', '1', '1', '2', '2']);

  // Stop: final, and the Schedule is gone.
  expect((await api('POST', `/v1/dialer/campaigns/${id}/stop`)).json()).toMatchObject({ status: 'stopped', cycle: 2 });
  expect((await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id)).result()).status).toBe('stopped');
  await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
});

it('completes after a cycle when no occurrence is left before its end date-time, and deletes its Schedule', async () => {
  const groupId = await importDialerGroup(t.stack, t.tenant, 'Última vez', [[phoneOf(10, 1)], [phoneOf(11, 5)]]);
  const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy('Até o fim', { maxAttemptsPerContact: 1 }))).json();
  // The only daily occurrence is twelve hours away, after the campaign's end.
  const hour = (localParts(new Date(), 'America/Sao_Paulo').hh + 12) % 24;
  const recurrence = { days: [0, 1, 2, 3, 4, 5, 6], time: `${String(hour).padStart(2, '0')}:00` };
  const endAt = new Date(Date.now() + 3 * 3600_000).toISOString();
  const created = (await api('POST', '/v1/dialer/campaigns', { name: 'Última vez', groupId, strategyId: strategy.id, recurrence, endAt })).json();
  expect(created).toMatchObject({ status: 'scheduled', nextRunAt: null });
  const schedule = t.stack.temporal.schedule.getHandle(dialerRecurrenceScheduleId(created.id));
  const described = await waitFor(() => schedule.describe().catch(() => undefined), 'the Schedule', 60_000);
  expect(described.spec.endAt?.toISOString()).toBe(endAt);
  expect(described.info.nextActionTimes).toEqual([]);

  // Started by hand, it runs one cycle; with nothing left to wait for, it completes (busy contact exhausted).
  expect((await api('POST', `/v1/dialer/campaigns/${created.id}/start`)).json().status).toBe('running');
  const result = await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(created.id)).result();
  expect(result).toMatchObject({ status: 'completed', cycle: 1, nextRunAt: null });
  await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
});
