import { countsAsAttempt, type CallOutcome } from '../call-outcome';
import type { StrategyConfig } from './strategy';

/**
 * What one call's outcome does to a campaign contact, per the strategy: finish it, retry it later
 * (on the same or the next phone), or give up when attempts run out. Pure.
 */

export interface ContactProgress {
  phones: string[];
  /** Position in the dialling order (`dialOrder`) of the phone the next attempt uses. */
  phoneIdx: number;
  /** Attempts that count (network failures do not). */
  attempts: number;
  /** Counted attempts per phone, indexed like `phones`. */
  phoneAttempts: number[];
  /** Every call placed. */
  dials: number;
}

export type NextStep =
  | { state: 'pending'; nextAttemptAt: Date; progress: ContactProgress }
  | { state: 'done' | 'exhausted'; finalOutcome: CallOutcome; progress: ContactProgress };

/** Indexes into `phones`, in the order the strategy dials them (every phone when none is listed). */
export function dialOrder(strategy: StrategyConfig, phoneCount: number): number[] {
  const order = [...new Set(strategy.phoneOrder.columns)].filter((c) => c < phoneCount);
  return order.length ? order : Array.from({ length: phoneCount }, (_, i) => i);
}

/** The phone the next attempt dials. */
export function currentPhone(strategy: StrategyConfig, c: Pick<ContactProgress, 'phones' | 'phoneIdx'>): string {
  const order = dialOrder(strategy, c.phones.length);
  return c.phones[order[c.phoneIdx % order.length]];
}

/**
 * A phone found invalid is retired: its counted attempts are set this high (above any
 * `maxAttemptsPerPhone` a strategy may have), so no edit of the strategy makes it callable again.
 */
export const RETIRED_PHONE = 1000;

/** Network failures are free, but not endless: past this many calls the contact is exhausted. */
export const maxDials = (strategy: StrategyConfig) => strategy.maxAttemptsPerContact * 3 + 5;

export function applyOutcome(strategy: StrategyConfig, contact: ContactProgress, outcome: CallOutcome, now: Date): NextStep {
  const order = dialOrder(strategy, contact.phones.length);
  const position = contact.phoneIdx % order.length;
  const phoneIndex = order[position];
  const counts = countsAsAttempt(outcome);
  const phoneAttempts = contact.phones.map((_, i) => contact.phoneAttempts[i] ?? 0);
  if (counts) phoneAttempts[phoneIndex] += 1;
  const progress: ContactProgress = {
    ...contact,
    attempts: contact.attempts + (counts ? 1 : 0),
    phoneAttempts,
    dials: contact.dials + 1,
  };
  if (outcome === 'blocked') return { state: 'done', finalOutcome: 'blocked', progress };

  const action = strategy.outcomes[outcome];
  // An invalid number is a fact about that phone, not about the contact: `finish` retires the
  // phone, and the contact goes on at once with its next phone (it ends only when none is left).
  const retirePhone = outcome === 'invalid_number' && action.action === 'finish';
  if (retirePhone) phoneAttempts[phoneIndex] = Math.max(phoneAttempts[phoneIndex], RETIRED_PHONE);
  else if (action.action === 'finish') return { state: 'done', finalOutcome: outcome, progress };
  const callable = order.some((i) => phoneAttempts[i] < strategy.maxAttemptsPerPhone);
  if (retirePhone && !callable) return { state: 'done', finalOutcome: outcome, progress };
  if (progress.attempts >= strategy.maxAttemptsPerContact || progress.dials >= maxDials(strategy)) {
    return { state: 'exhausted', finalOutcome: outcome, progress };
  }

  // A counted failure moves to the next phone when the strategy says so; a network failure stays.
  const moveOn = counts && (strategy.phoneOrder.nextPhoneAfterFailure || retirePhone);
  const afterMinutes = action.action === 'retry' ? action.afterMinutes : 0;
  for (let step = moveOn ? 1 : 0; step <= order.length; step++) {
    const candidate = (position + step) % order.length;
    if (phoneAttempts[order[candidate]] < strategy.maxAttemptsPerPhone) {
      return {
        state: 'pending',
        nextAttemptAt: new Date(now.getTime() + afterMinutes * 60_000),
        progress: { ...progress, phoneIdx: candidate },
      };
    }
  }
  return { state: 'exhausted', finalOutcome: outcome, progress };
}
