import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { syncStartSchedule } from '../../src/activities/dialer/start-schedule';
import { dialerRecurrenceScheduleId } from '../../src/domain/dialer/recurrence';
import { dialerStartCycleWorkflowId, dialerStartScheduleId, startCalendar } from '../../src/domain/dialer/start-schedule';
import { localParts } from '../../src/domain/dialer/windows';
import { dialerCycleWorkflow } from '../../src/workflows/dialer/dialer-cycle-workflow';
import { dialerCampaignWorkflowId, dialerProgressQuery } from '../../src/workflows/dialer/messages';
import { fastStrategy, importDialerGroup, outcomeRules, phoneOf } from '../helpers/dialer';
import { startDialerTestStack, type DialerTestStack } from '../helpers/dialer-stack';
import { waitFor } from '../helpers/worker-process';

let t: DialerTestStack;

beforeAll(async () => {
  t = await startDialerTestStack('dialer-start', { seed: 5, ringMs: [10, 30], talkMs: [10, 30], rules: outcomeRules });
});
afterAll(async () => t?.close());

const api = (method: 'GET' | 'POST', url: string, payload?: unknown) => t.api(method, url, payload);
const campaign = async (id: string) => (await api('GET', `/v1/dialer/campaigns/${id}`)).json();
/** Tomorrow on a whole second: only the test's trigger fires the start Schedule. */
const tomorrow = () => new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000).toISOString();
const one = (n: number) => [{ start: n, end: n, step: 1 }];

async function createCampaign(name: string, extra: Record<string, unknown>) {
  const groupId = await importDialerGroup(t.stack, t.tenant, name, [[phoneOf(1, 5)], [phoneOf(2, 5)]]);
  const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy(name, { maxAttemptsPerContact: 1 }))).json();
  const res = await api('POST', '/v1/dialer/campaigns', { name, groupId, strategyId: strategy.id, ...extra });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; status: string };
}

it('a future startAt is a one-action Schedule at that second, paused and resumed with the campaign; its firing starts the campaign once', async () => {
  const startAt = tomorrow();
  const created = await createCampaign('Agendada', { startAt });
  expect(created.status).toBe('scheduled');
  const schedule = t.stack.temporal.schedule.getHandle(dialerStartScheduleId(created.id));
  await waitFor(async () => (await campaign(created.id)).nextRunAt === startAt, 'the start Schedule', 60_000);
  expect((await api('GET', `/v1/dialer/campaigns/${created.id}/monitor`)).json()).toMatchObject({
    status: 'scheduled',
    nextRunAt: startAt,
    why: `Agendada para ${startAt}.`,
  });

  const at = new Date(startAt);
  const described = await schedule.describe();
  expect(described.spec.calendars).toHaveLength(1);
  expect(described.spec.calendars?.[0]).toMatchObject({
    year: one(at.getUTCFullYear()),
    month: [{ start: startCalendar(startAt).month, end: startCalendar(startAt).month, step: 1 }],
    dayOfMonth: one(at.getUTCDate()),
    hour: one(at.getUTCHours()),
    minute: one(at.getUTCMinutes()),
    second: one(at.getUTCSeconds()),
  });
  expect(described.state).toMatchObject({ paused: false, remainingActions: 1 });
  expect(described.info.nextActionTimes.map((d) => d.toISOString())).toEqual([startAt]);
  expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'dialerCycleWorkflow', workflowId: dialerStartCycleWorkflowId(created.id) });

  // Creating it again (a retried activity, the same campaign created twice) keeps the one Schedule.
  const again = await syncStartSchedule(t.stack.temporal, t.stack.config.TEMPORAL_TASK_QUEUE, { campaignId: created.id, startAt, state: 'active' });
  expect(again.nextRunAt).toBe(startAt);
  expect((await schedule.describe()).state).toMatchObject({ paused: false, remainingActions: 1 });

  // Paused before its start: the Schedule is paused too; resuming unpauses it.
  expect((await api('POST', `/v1/dialer/campaigns/${created.id}/pause`)).json()).toMatchObject({ status: 'paused', nextRunAt: null });
  expect((await schedule.describe()).state.paused).toBe(true);
  expect((await api('POST', `/v1/dialer/campaigns/${created.id}/resume`)).json()).toMatchObject({ status: 'scheduled', nextRunAt: startAt, cycle: 0 });
  expect((await schedule.describe()).state.paused).toBe(false);

  // Its firing starts the first cycle; once started, the Schedule is gone.
  await schedule.trigger();
  const result = await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(created.id)).result();
  expect(result).toMatchObject({ status: 'completed', cycle: 1, dialed: 2 });
  await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
});

it('a manual start begins at once and consumes the start Schedule; a late firing does nothing; stop deletes the Schedules', async () => {
  // Recurring with a startAt: both Schedules wait, and the campaign shows startAt as its next run.
  const startAt = tomorrow();
  const hour = (localParts(new Date(), 'America/Sao_Paulo').hh + 12) % 24;
  const recurrence = { days: [0, 1, 2, 3, 4, 5, 6], time: `${String(hour).padStart(2, '0')}:00` };
  const created = await createCampaign('Manual', { startAt, recurrence });
  const start = t.stack.temporal.schedule.getHandle(dialerStartScheduleId(created.id));
  const recurring = t.stack.temporal.schedule.getHandle(dialerRecurrenceScheduleId(created.id));
  await waitFor(async () => (await campaign(created.id)).nextRunAt === startAt, 'the start Schedule', 60_000);
  expect((await recurring.describe()).spec.startAt?.toISOString()).toBe(startAt);

  // The answer comes once the start Schedule is deleted: it cannot start the campaign a second time.
  expect((await api('POST', `/v1/dialer/campaigns/${created.id}/start`)).json()).toMatchObject({ status: 'running' });
  await expect(start.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  const between = await waitFor(
    async () => {
      const c = await campaign(created.id);
      return c.cycle === 1 && c.status === 'scheduled' ? c : undefined;
    },
    'the end of cycle 1',
    120_000,
  );
  expect(between.nextRunAt).toBe((await recurring.describe()).info.nextActionTimes[0].toISOString());

  // The start Schedule's action arriving late (it raced the manual start) starts no second cycle.
  const late = await t.stack.temporal.workflow.execute(dialerCycleWorkflow, {
    taskQueue: t.stack.config.TEMPORAL_TASK_QUEUE,
    workflowId: `${dialerStartCycleWorkflowId(created.id)}-late`,
    args: [{ campaignId: created.id, first: true }],
  });
  expect(late).toEqual({ signalled: true });
  const workflow = t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(created.id));
  expect(await workflow.query(dialerProgressQuery)).toMatchObject({ status: 'scheduled', cycle: 1 });

  expect((await api('POST', `/v1/dialer/campaigns/${created.id}/stop`)).json()).toMatchObject({ status: 'stopped', cycle: 1 });
  await expect(recurring.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
});

it('stop before the start deletes the start Schedule; a startAt already past starts at once', async () => {
  const future = await createCampaign('Cancelada', { startAt: tomorrow() });
  const schedule = t.stack.temporal.schedule.getHandle(dialerStartScheduleId(future.id));
  await waitFor(() => schedule.describe().catch(() => undefined), 'the start Schedule', 60_000);
  expect((await api('POST', `/v1/dialer/campaigns/${future.id}/stop`)).json()).toMatchObject({ status: 'stopped', cycle: 0 });
  await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

  // Its second passed before the Schedule existed: it would never fire, so the campaign starts now.
  const past = await createCampaign('Atrasada', { startAt: new Date(Date.now() - 60_000).toISOString() });
  const result = await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(past.id)).result();
  expect(result).toMatchObject({ status: 'completed', cycle: 1, dialed: 2 });
  await expect(t.stack.temporal.schedule.getHandle(dialerStartScheduleId(past.id)).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
});
