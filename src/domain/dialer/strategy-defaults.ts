/**
 * The defaults of a dialing strategy, as plain values: strategy.ts builds its schema's defaults
 * from them and the console's new-strategy form starts from them, so the two cannot drift. Free of
 * zod and Node on purpose: the console bundles this file.
 */
import type { CallOutcome } from '../call-outcome';

export type StrategyOutcome = Exclude<CallOutcome, 'blocked'>;
export type OutcomeAction = { action: 'finish' } | { action: 'retry'; afterMinutes: number };

export const DEFAULT_OUTCOME_ACTIONS: Record<StrategyOutcome, OutcomeAction> = {
  answered: { action: 'finish' },
  busy: { action: 'retry', afterMinutes: 5 },
  no_answer: { action: 'retry', afterMinutes: 30 },
  rejected: { action: 'retry', afterMinutes: 60 },
  invalid_number: { action: 'finish' },
  network_failure: { action: 'retry', afterMinutes: 1 },
  answering_machine: { action: 'retry', afterMinutes: 60 },
  // Perhaps answered: not redialled within the hour.
  unknown: { action: 'retry', afterMinutes: 60 },
  // Someone who just heard "no agent free" is not rung again within the hour.
  abandoned: { action: 'retry', afterMinutes: 60 },
};

export const DEFAULT_ATTEMPTS = { maxAttemptsPerContact: 3, maxAttemptsPerPhone: 2 } as const;

/** Positions in the contact's phone list (0 = first phone column), in dialling order. */
export const DEFAULT_PHONE_ORDER = { columns: [0, 1, 2], nextPhoneAfterFailure: true };

/** Monday to Saturday, 8h to 20h São Paulo time, no national holidays. */
export const DEFAULT_CALLING_WINDOW = {
  timeZone: 'America/Sao_Paulo',
  days: [1, 2, 3, 4, 5, 6],
  ranges: [{ from: '08:00', to: '20:00' }],
  excludeHolidays: true,
  stateTelemarketingHours: false,
};

export const DEFAULT_PACING = { mode: 'power' as const, channels: 10, callsPerSecond: 5, ratio: 1, abandonTargetPercent: 3, maxDialLevel: 3 };

export const DEFAULT_RING_TIMEOUT_SEC = 30;
