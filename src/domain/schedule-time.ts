/**
 * What Temporal takes as a time to act at. A Schedule's calendar runs over the years 2000–2100
 * (its server refuses a spec outside them), so a start or end after 2100 would be accepted by us
 * and then refused by Temporal on every retry. Checked where the time enters (the API).
 */
export const EARLIEST_SCHEDULE_YEAR = 2000;
export const LATEST_SCHEDULE_YEAR = 2100;

/** Why Temporal cannot act at this ISO instant, or undefined when it can. */
export function scheduleTimeProblem(iso: string): string | undefined {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return 'is not a date-time';
  const year = new Date(ms).getUTCFullYear();
  if (year > LATEST_SCHEDULE_YEAR) return `must be in ${LATEST_SCHEDULE_YEAR} or earlier (Temporal schedules run until the end of ${LATEST_SCHEDULE_YEAR})`;
  if (year < EARLIEST_SCHEDULE_YEAR) return `must be in ${EARLIEST_SCHEDULE_YEAR} or later`;
  return undefined;
}
