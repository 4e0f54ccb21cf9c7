import { z } from 'zod';
import { isTimeZone } from './strategy';

/**
 * Recurrence of a dialer campaign ("weekdays at 9h"): on each occurrence a new cycle starts and
 * the contacts not reached in earlier cycles get a fresh round of attempts. Pure: the API
 * validates with it, the Schedule activity turns it into a Temporal calendar spec.
 */
export const recurrenceSchema = z
  .object({
    days: z.array(z.number().int().min(0).max(6)).min(1).describe('0 = Sunday … 6 = Saturday'),
    time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
    timeZone: z.string().default('America/Sao_Paulo').refine(isTimeZone, 'not an IANA time zone (e.g. America/Sao_Paulo)'),
  })
  .describe(
    'Run again at these days and time: ' +
      'each occurrence starts a new cycle in which every contact not answered, invalid or blocked gets a fresh round of attempts',
  );
export type Recurrence = z.infer<typeof recurrenceSchema>;

const DAY_NAMES = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
export type DayName = (typeof DAY_NAMES)[number];

/** The Temporal Schedule calendar of a recurrence (one entry: these days, at this hour and minute). */
export function recurrenceCalendar(r: Recurrence): { dayOfWeek: DayName[]; hour: number; minute: number } {
  return {
    dayOfWeek: [...new Set(r.days)].sort().map((d) => DAY_NAMES[d]),
    hour: Number(r.time.slice(0, 2)),
    minute: Number(r.time.slice(3, 5)),
  };
}

/** Outcomes that end a contact for good: later cycles never call it again. */
export const FINAL_FOR_EVERY_CYCLE = ['answered', 'invalid_number', 'blocked'] as const;

export const dialerRecurrenceScheduleId = (campaignId: string) => `dialer-recurrence-${campaignId}`;
/** The Schedule's action; Temporal appends each occurrence's time to this id. */
export const dialerCycleWorkflowId = (campaignId: string) => `dialer-cycle-${campaignId}`;

/** What the recurrence Schedule should be: running, paused with the campaign, or gone. */
export type ScheduleState = 'active' | 'paused' | 'deleted';
