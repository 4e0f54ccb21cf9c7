import { scheduleTimeProblem } from '../domain/schedule-time';
import { unprocessable } from './problem';

/** 422 `SCHEDULE_TIME_OUT_OF_RANGE` naming the first field Temporal could not act at (see scheduleTimeProblem). */
export function checkScheduleTimes(fields: Record<string, string | null | undefined>): void {
  for (const [field, value] of Object.entries(fields)) {
    if (!value) continue;
    const problem = scheduleTimeProblem(value);
    if (problem) throw unprocessable('SCHEDULE_TIME_OUT_OF_RANGE', `${field} ${problem}.`, { field, value });
  }
}
