/**
 * The one-off scheduled start of a dialer campaign as a Temporal Schedule: one calendar entry at
 * the campaign's startAt (UTC), one action. Pure and free of zod: the workflow imports it.
 */

const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const;
export type MonthName = (typeof MONTHS)[number];

export const dialerStartScheduleId = (campaignId: string) => `dialer-start-${campaignId}`;
/** The start Schedule's action (the cycle workflow); Temporal appends the action's time. */
export const dialerStartCycleWorkflowId = (campaignId: string) => `dialer-first-cycle-${campaignId}`;

/** Schedules fire on whole seconds: the first one at or after startAt, so never early. */
export function startSecond(startAt: string): Date {
  return new Date(Math.ceil(new Date(startAt).getTime() / 1000) * 1000);
}

/** The calendar entry that matches that second and no other (the year included). */
export function startCalendar(startAt: string): { year: number; month: MonthName; dayOfMonth: number; hour: number; minute: number; second: number } {
  const at = startSecond(startAt);
  return {
    year: at.getUTCFullYear(),
    month: MONTHS[at.getUTCMonth()],
    dayOfMonth: at.getUTCDate(),
    hour: at.getUTCHours(),
    minute: at.getUTCMinutes(),
    second: at.getUTCSeconds(),
  };
}
