import { Context } from '@temporalio/activity';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { dialerCycleWorkflowId, dialerRecurrenceScheduleId, recurrenceCalendar, type Recurrence, type ScheduleState } from '../../domain/dialer/recurrence';

export interface RecurrenceSync {
  campaignId: string;
  recurrence: Recurrence;
  startAt?: string;
  endAt?: string;
  state: ScheduleState;
}

const NOTE = 'Omni Campaigns: follows the dialer campaign (paused with it, deleted when it ends)';

/**
 * Brings a recurring campaign's Temporal Schedule (`dialer-recurrence-<id>`, the business key)
 * to `state`: created when missing, paused or unpaused, deleted. Idempotent. Answers when the
 * next occurrence is (null when paused, deleted, or past the campaign's end).
 */
export async function syncRecurrenceSchedule(client: Client, taskQueue: string, input: RecurrenceSync): Promise<{ nextRunAt: string | null }> {
  const scheduleId = dialerRecurrenceScheduleId(input.campaignId);
  const handle = client.schedule.getHandle(scheduleId);
  if (input.state === 'deleted') {
    await handle.delete().catch((error) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
    return { nextRunAt: null };
  }
  const paused = input.state === 'paused';
  try {
    await client.schedule.create({
      scheduleId,
      spec: {
        calendars: [recurrenceCalendar(input.recurrence)],
        timezone: input.recurrence.timeZone,
        ...(input.startAt ? { startAt: new Date(input.startAt) } : {}),
        ...(input.endAt ? { endAt: new Date(input.endAt) } : {}),
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'dialerCycleWorkflow',
        workflowId: dialerCycleWorkflowId(input.campaignId),
        taskQueue,
        args: [{ campaignId: input.campaignId }],
      },
      // A worker outage does not fire a burst of stale occurrences afterwards.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      state: { paused, note: NOTE },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  let described = await handle.describe();
  if (described.state.paused !== paused) {
    await (paused ? handle.pause(NOTE) : handle.unpause(NOTE));
    described = await handle.describe();
  }
  const next = described.info.nextActionTimes[0];
  return { nextRunAt: !paused && next ? next.toISOString() : null };
}

/** The activity side: the worker's own client and task queue. */
export function syncDialerRecurrenceActivity(input: RecurrenceSync): Promise<{ nextRunAt: string | null }> {
  const ctx = Context.current();
  return syncRecurrenceSchedule(ctx.client, ctx.info.taskQueue, input);
}
