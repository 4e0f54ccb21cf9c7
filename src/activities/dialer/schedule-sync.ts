import { ScheduleAlreadyRunning, ScheduleNotFoundError, ServiceError, isGrpcServiceError, type Client, type ScheduleOptions } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ScheduleState } from '../../domain/dialer/recurrence';

/**
 * Brings a campaign's Temporal Schedule to `state`: created from `options` when missing (an
 * existing one — a retried activity, a campaign created twice — is kept, never duplicated),
 * paused or unpaused, deleted. Answers its next action time (null when paused, deleted, or none left).
 */
export async function syncSchedule(client: Client, options: ScheduleOptions, state: ScheduleState): Promise<{ nextRunAt: string | null }> {
  try {
    return await bringSchedule(client, options, state);
  } catch (error) {
    // Temporal refused the Schedule itself (a spec it cannot run): every retry would be refused too.
    if (refusedByTemporal(error))
      throw ApplicationFailure.nonRetryable(`Temporal refused schedule ${options.scheduleId}: ${(error as Error).message}`, 'SCHEDULE_REFUSED');
    throw error;
  }
}

/** An invalid spec (the client turns it into a TypeError) or any other INVALID_ARGUMENT answer. */
function refusedByTemporal(error: unknown): boolean {
  if (error instanceof TypeError) return true;
  return error instanceof ServiceError && isGrpcServiceError(error.cause) && error.cause.code === 3;
}

async function bringSchedule(client: Client, options: ScheduleOptions, state: ScheduleState): Promise<{ nextRunAt: string | null }> {
  const handle = client.schedule.getHandle(options.scheduleId);
  if (state === 'deleted') {
    await handle.delete().catch((error) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
    return { nextRunAt: null };
  }
  const paused = state === 'paused';
  const note = options.state?.note;
  try {
    await client.schedule.create({ ...options, state: { ...options.state, paused } });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  let described = await handle.describe();
  if (described.state.paused !== paused) {
    await (paused ? handle.pause(note) : handle.unpause(note));
    described = await handle.describe();
  }
  const next = described.info.nextActionTimes[0];
  return { nextRunAt: !paused && next ? next.toISOString() : null };
}
