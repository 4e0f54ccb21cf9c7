import { Context } from '@temporalio/activity';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { ScheduleState } from '../../domain/dialer/recurrence';
import { dialerStartCycleWorkflowId, dialerStartScheduleId, startCalendar } from '../../domain/dialer/start-schedule';
import { syncSchedule } from './schedule-sync';

export interface StartScheduleSync {
  campaignId: string;
  startAt: string;
  state: ScheduleState;
}

const NOTE = 'Omni Campaigns: starts the dialer campaign once (paused with it, deleted once it started or ended)';

/**
 * Brings a campaign's start Schedule (`dialer-start-<id>`) to `state`: a calendar at exactly
 * startAt (UTC) with one action, which signals the campaign's first cycle (the same
 * `dialerCycleWorkflow` as recurrence, marked `first`). Answers when it fires (null when paused,
 * deleted, or its time has passed).
 */
export function syncStartSchedule(client: Client, taskQueue: string, input: StartScheduleSync): Promise<{ nextRunAt: string | null }> {
  return syncSchedule(
    client,
    {
      scheduleId: dialerStartScheduleId(input.campaignId),
      spec: { calendars: [startCalendar(input.startAt)] },
      action: {
        type: 'startWorkflow',
        workflowType: 'dialerCycleWorkflow',
        workflowId: dialerStartCycleWorkflowId(input.campaignId),
        taskQueue,
        args: [{ campaignId: input.campaignId, first: true }],
      },
      // The default catch-up window (a year) stays: a Temporal outage over startAt still starts the campaign afterwards.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      state: { note: NOTE, remainingActions: 1 },
    },
    input.state,
  );
}

/** The activity side: the worker's own client and task queue. */
export function syncDialerStartActivity(input: StartScheduleSync): Promise<{ nextRunAt: string | null }> {
  const ctx = Context.current();
  return syncStartSchedule(ctx.client, ctx.info.taskQueue, input);
}
