import { Context } from '@temporalio/activity';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { dialerCycleWorkflowId, dialerRecurrenceScheduleId, recurrenceCalendar, type Recurrence, type ScheduleState } from '../../domain/dialer/recurrence';
import { syncSchedule } from './schedule-sync';

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
 * to `state` (see syncSchedule). Answers when the next occurrence is (null when paused, deleted,
 * or past the campaign's end).
 */
export function syncRecurrenceSchedule(client: Client, taskQueue: string, input: RecurrenceSync): Promise<{ nextRunAt: string | null }> {
  return syncSchedule(
    client,
    {
      scheduleId: dialerRecurrenceScheduleId(input.campaignId),
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
      state: { note: NOTE },
    },
    input.state,
  );
}

/** The activity side: the worker's own client and task queue. */
export function syncDialerRecurrenceActivity(input: RecurrenceSync): Promise<{ nextRunAt: string | null }> {
  const ctx = Context.current();
  return syncRecurrenceSchedule(ctx.client, ctx.info.taskQueue, input);
}
