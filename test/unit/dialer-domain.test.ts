import { describe, expect, it } from 'vitest';
import { applyOutcome, currentPhone, type ContactProgress } from '../../src/domain/dialer/contact-progress';
import { DIALER_CAMPAIGN_STATUSES, retireRefusal, transition, tooManyNetworkFailures } from '../../src/domain/dialer/campaign-state';
import { outcomeFromHangup } from '../../src/domain/call-outcome';
import { recurrenceCalendar, recurrenceSchema } from '../../src/domain/dialer/recurrence';
import { startCalendar, startSecond } from '../../src/domain/dialer/start-schedule';
import { checkStrategy, defaultStrategyConfig, strategyConfigSchema } from '../../src/domain/dialer/strategy';
import { closedDdds, isCallable, isOpen, nextCallableAt, nextOpen, offsetMinutes, ruleOfWindow, zonedTime } from '../../src/domain/dialer/windows';

const window = (over: object = {}) => strategyConfigSchema.parse({ callingWindow: over }).callingWindow;
/** A São Paulo wall-clock time as an instant (UTC-3 all year). */
const sp = (iso: string) => new Date(`${iso}-03:00`);

describe('calling windows', () => {
  it('a range across midnight is open after midnight on the next day and closed after it ends', () => {
    const w = ruleOfWindow(window({ days: [5], ranges: [{ from: '22:00', to: '02:00' }] }));
    // 2026-11-27 is a Friday.
    expect(isOpen(w, sp('2026-11-27T21:59'))).toBe(false);
    expect(isOpen(w, sp('2026-11-27T22:00'))).toBe(true);
    expect(isOpen(w, sp('2026-11-28T01:30'))).toBe(true);
    expect(isOpen(w, sp('2026-11-28T02:00'))).toBe(false);
    // Saturday night is not a starting day.
    expect(isOpen(w, sp('2026-11-28T23:00'))).toBe(false);
    expect(nextOpen(w, sp('2026-11-27T12:00'))).toEqual(sp('2026-11-27T22:00'));
    expect(nextOpen(w, sp('2026-11-28T03:00'))).toEqual(sp('2026-12-04T22:00'));
  });

  it('national holidays are closed when excluded, and the next window is the next working day', () => {
    // 2026-11-20 (Friday): Dia da Consciência Negra, a national holiday.
    const w = ruleOfWindow(window({ days: [1, 2, 3, 4, 5], ranges: [{ from: '09:00', to: '18:00' }] }));
    expect(isOpen(w, sp('2026-11-20T10:00'))).toBe(false);
    expect(isOpen(w, sp('2026-11-19T10:00'))).toBe(true);
    expect(nextOpen(w, sp('2026-11-20T10:00'))).toEqual(sp('2026-11-23T09:00'));
    expect(isOpen(ruleOfWindow(window({ excludeHolidays: false, ranges: [{ from: '09:00', to: '18:00' }] })), sp('2026-11-20T10:00'))).toBe(true);
  });

  it('state telemarketing hours by DDD: RJ weekdays 8–18, ES 8–19, MS in its own time zone, weekends banned', () => {
    const w = window({ days: [0, 1, 2, 3, 4, 5, 6], ranges: [{ from: '07:00', to: '22:00' }], stateTelemarketingHours: true });
    const monday1830 = sp('2026-11-23T18:30');
    expect(isCallable(w, '11', monday1830)).toBe(true); // SP has no state rule
    expect(isCallable(w, '21', monday1830)).toBe(false); // RJ closes at 18h
    expect(isCallable(w, '21', sp('2026-11-23T17:59'))).toBe(true);
    expect(isCallable(w, '27', monday1830)).toBe(true); // ES until 19h
    expect(isCallable(w, '67', monday1830)).toBe(true); // MS: 17:30 in Campo Grande
    expect(isCallable(w, '85', sp('2026-11-23T07:30'))).toBe(false); // CE opens at 8h
    expect(isCallable(w, '21', sp('2026-11-28T10:00'))).toBe(false); // Saturday
    expect(isCallable(w, '11', sp('2026-11-28T10:00'))).toBe(true);
    expect(closedDdds(w, monday1830)).toEqual(expect.arrayContaining(['21', '22', '24', '85', '88']));
    expect(closedDdds(w, monday1830)).not.toContain('27');
    // Saturday: RJ waits for Monday 8h; the same strategy without state hours calls now.
    expect(nextCallableAt(w, ['21'], sp('2026-11-28T10:00'))).toEqual(sp('2026-11-30T08:00'));
    expect(isCallable({ ...w, stateTelemarketingHours: false }, '21', sp('2026-11-28T10:00'))).toBe(true);
  });

  it('America/Sao_Paulo has no daylight saving time: UTC-3 in January and July', () => {
    expect(offsetMinutes(new Date('2026-01-15T12:00:00Z'), 'America/Sao_Paulo')).toBe(-180);
    expect(offsetMinutes(new Date('2026-07-15T12:00:00Z'), 'America/Sao_Paulo')).toBe(-180);
    // Before 2019 it had summer time, so the zone data (not a fixed offset) is what we use.
    expect(offsetMinutes(new Date('2018-01-15T12:00:00Z'), 'America/Sao_Paulo')).toBe(-120);
    expect(zonedTime({ y: 2026, m: 1, d: 15 }, 9 * 60, 'America/Sao_Paulo')).toEqual(new Date('2026-01-15T12:00:00Z'));
    expect(zonedTime({ y: 2026, m: 11, d: 1 }, 0, 'America/Sao_Paulo')).toEqual(new Date('2026-11-01T03:00:00Z'));
    const w = ruleOfWindow(window({ days: [0, 1, 2, 3, 4, 5, 6], ranges: [{ from: '08:00', to: '20:00' }], excludeHolidays: false }));
    expect(nextOpen(w, new Date('2026-11-01T01:00:00Z'))).toEqual(new Date('2026-11-01T11:00:00Z'));
  });
});

describe('strategy', () => {
  it('has the defaults a supervisor accepts', () => {
    const s = defaultStrategyConfig();
    expect(s.outcomes.busy).toEqual({ action: 'retry', afterMinutes: 5 });
    expect(s.outcomes.no_answer).toEqual({ action: 'retry', afterMinutes: 30 });
    expect(s.outcomes.invalid_number).toEqual({ action: 'finish' });
    expect(s.callingWindow.timeZone).toBe('America/Sao_Paulo');
  });

  it('requires a 0303 caller id for telemarketing', () => {
    const s = strategyConfigSchema.parse({ callerId: '4833334444' });
    expect(checkStrategy(s, true)?.code).toBe('CALLER_ID_0303_REQUIRED');
    expect(checkStrategy(s, false)).toBeUndefined();
    expect(checkStrategy(strategyConfigSchema.parse({ callerId: '03034445555' }), true)).toBeUndefined();
  });
});

describe('contact progress', () => {
  const strategy = strategyConfigSchema.parse({ maxAttemptsPerContact: 3, maxAttemptsPerPhone: 2 });
  const fresh: ContactProgress = { phones: ['5511900000001', '5511900000002'], phoneIdx: 0, attempts: 0, phoneAttempts: [], dials: 0 };
  const now = new Date('2026-11-23T12:00:00Z');

  it('busy retries in 5 minutes on the next phone', () => {
    const step = applyOutcome(strategy, fresh, 'busy', now);
    expect(step).toMatchObject({ state: 'pending', nextAttemptAt: new Date(now.getTime() + 5 * 60_000) });
    expect(currentPhone(strategy, step.progress)).toBe('5511900000002');
    expect(step.progress.attempts).toBe(1);
  });

  it('a network failure is retried without using an attempt, on the same phone', () => {
    const step = applyOutcome(strategy, fresh, 'network_failure', now);
    expect(step.state).toBe('pending');
    expect(step.progress).toMatchObject({ attempts: 0, dials: 1, phoneIdx: 0 });
  });

  it('an invalid number retires that phone and dials the next one at once; the contact ends invalid when no phone is left', () => {
    const first = applyOutcome(strategy, fresh, 'invalid_number', now);
    expect(first).toMatchObject({ state: 'pending', nextAttemptAt: now });
    expect(currentPhone(strategy, first.progress)).toBe('5511900000002');
    // Even when the strategy would stay on a phone after a failure: an invalid phone is never redialled.
    const stay = strategyConfigSchema.parse({ maxAttemptsPerContact: 3, maxAttemptsPerPhone: 2, phoneOrder: { nextPhoneAfterFailure: false } });
    expect(currentPhone(stay, applyOutcome(stay, fresh, 'invalid_number', now).progress)).toBe('5511900000002');
    // Phone 2 busy, then back to… phone 2 only (phone 1 is retired), then invalid too: done.
    const busy = applyOutcome(strategy, first.progress, 'busy', now);
    expect(currentPhone(strategy, busy.progress)).toBe('5511900000002');
    expect(applyOutcome(strategy, busy.progress, 'invalid_number', now)).toMatchObject({ state: 'done', finalOutcome: 'invalid_number' });
    const single: ContactProgress = { ...fresh, phones: ['5511900000001'] };
    expect(applyOutcome(strategy, single, 'invalid_number', now)).toMatchObject({ state: 'done', finalOutcome: 'invalid_number' });
  });

  it('answered finishes; running out of attempts exhausts', () => {
    expect(applyOutcome(strategy, fresh, 'answered', now)).toMatchObject({ state: 'done', finalOutcome: 'answered' });
    let c = fresh;
    const states: string[] = [];
    for (let i = 0; i < 3; i++) {
      const step = applyOutcome(strategy, c, 'no_answer', now);
      states.push(step.state);
      c = step.progress;
    }
    expect(states).toEqual(['pending', 'pending', 'exhausted']);
  });
});

describe('campaign transitions', () => {
  it('refuses impossible transitions with clear codes', () => {
    expect(transition('stopped', 'resume')).toMatchObject({ ok: false, code: 'CAMPAIGN_FINISHED' });
    expect(transition('running', 'resume')).toMatchObject({ ok: false, code: 'CAMPAIGN_NOT_PAUSED' });
    expect(transition('paused', 'pause')).toMatchObject({ ok: false, code: 'CAMPAIGN_NOT_RUNNING' });
    expect(transition('scheduled', 'start')).toEqual({ ok: true, next: 'running' });
    expect(transition('paused', 'resume')).toEqual({ ok: true, next: 'running' });
    // Only a started or scheduled campaign can be paused: a draft waits for its manual start anyway.
    expect(transition('draft', 'pause')).toMatchObject({ ok: false, code: 'CAMPAIGN_NOT_RUNNING' });
  });

  it('auto-pauses only when most of the last N attempts are network failures', () => {
    expect(tooManyNetworkFailures([true, true, true], 5, 0.5)).toBe(false);
    expect(tooManyNetworkFailures([false, true, true, true, false], 5, 0.5)).toBe(true);
    expect(tooManyNetworkFailures([false, true, false, true, false], 5, 0.5)).toBe(false);
  });
});

describe('recurring campaigns', () => {
  const between = { cycleOpen: false };

  it('may be paused while waiting for the next cycle, and resuming goes back to waiting', () => {
    expect(transition('scheduled', 'pause', between)).toEqual({ ok: true, next: 'paused' });
    expect(transition('paused', 'resume', between)).toEqual({ ok: true, next: 'scheduled' });
    expect(transition('paused', 'resume', { cycleOpen: true })).toEqual({ ok: true, next: 'running' });
    // "Start now" between cycles begins the next cycle at once.
    expect(transition('scheduled', 'start', between)).toEqual({ ok: true, next: 'running' });
    expect(transition('completed', 'start', between)).toMatchObject({ ok: false, code: 'CAMPAIGN_FINISHED' });
  });

  it('becomes a Temporal calendar: named weekdays, hour and minute; the time zone must exist', () => {
    const weekdays = recurrenceSchema.parse({ days: [5, 1, 2, 3, 4, 1], time: '09:30' });
    expect(weekdays.timeZone).toBe('America/Sao_Paulo');
    expect(recurrenceCalendar(weekdays)).toEqual({ dayOfWeek: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'], hour: 9, minute: 30 });
    expect(recurrenceSchema.safeParse({ days: [1], time: '09:00', timeZone: 'America/Recife_X' }).success).toBe(false);
    expect(recurrenceSchema.safeParse({ days: [1], time: '24:00' }).success).toBe(false);
  });
});

describe('answering-machine detection', () => {
  it('an answered call AMD calls a machine is answering_machine; HUMAN, NOTSURE and unanswered calls keep their outcome', () => {
    expect(outcomeFromHangup({ cause: 16, reachedUp: true, amdStatus: 'MACHINE' })).toBe('answering_machine');
    expect(outcomeFromHangup({ cause: 16, reachedUp: true, amdStatus: 'HUMAN' })).toBe('answered');
    expect(outcomeFromHangup({ cause: 16, reachedUp: true, amdStatus: 'NOTSURE' })).toBe('answered');
    expect(outcomeFromHangup({ cause: 17, reachedUp: false, amdStatus: 'MACHINE' })).toBe('busy');
  });

  it("applies the strategy's action for answering_machine and uses up an attempt", () => {
    const strategy = strategyConfigSchema.parse({ maxAttemptsPerContact: 2, outcomes: { answering_machine: { action: 'retry', afterMinutes: 90 } } });
    const contact: ContactProgress = { phones: ['5511987654321'], phoneIdx: 0, attempts: 0, phoneAttempts: [0], dials: 0 };
    const now = new Date('2026-11-27T12:00:00Z');
    const first = applyOutcome(strategy, contact, 'answering_machine', now);
    expect(first).toMatchObject({ state: 'pending', nextAttemptAt: new Date(now.getTime() + 90 * 60_000), progress: { attempts: 1 } });
    expect(applyOutcome(strategy, first.progress, 'answering_machine', now)).toMatchObject({ state: 'exhausted', finalOutcome: 'answering_machine' });
    const finish = strategyConfigSchema.parse({ outcomes: { answering_machine: { action: 'finish' } } });
    expect(applyOutcome(finish, contact, 'answering_machine', now)).toMatchObject({ state: 'done', finalOutcome: 'answering_machine' });
  });
});

describe('the one-off start Schedule', () => {
  it('is one calendar second in UTC, the year included, never before startAt', () => {
    expect(startCalendar('2027-03-01T12:04:05.000Z')).toEqual({ year: 2027, month: 'MARCH', dayOfMonth: 1, hour: 12, minute: 4, second: 5 });
    // A time zone offset is just another way to write the same instant.
    expect(startCalendar('2026-12-31T21:30:00-03:00')).toEqual({ year: 2027, month: 'JANUARY', dayOfMonth: 1, hour: 0, minute: 30, second: 0 });
    // Schedules fire on whole seconds: a fraction rounds up, to the next second.
    expect(startSecond('2027-03-01T12:04:05.001Z').toISOString()).toBe('2027-03-01T12:04:06.000Z');
    expect(startCalendar('2027-03-01T23:59:59.500Z')).toEqual({ year: 2027, month: 'MARCH', dayOfMonth: 2, hour: 0, minute: 0, second: 0 });
  });
});

describe('archiving or deleting a dialer campaign', () => {
  it('is allowed for a draft or a final campaign, refused with CAMPAIGN_IN_PROGRESS while it runs, waits or is paused', () => {
    const allowed = DIALER_CAMPAIGN_STATUSES.filter((s) => retireRefusal(s) === undefined);
    expect(allowed).toEqual(['draft', 'completed', 'stopped']);
    for (const status of ['scheduled', 'running', 'paused'] as const) expect(retireRefusal(status)).toMatchObject({ code: 'CAMPAIGN_IN_PROGRESS' });
  });
});
