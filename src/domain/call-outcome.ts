/**
 * What a dialer call attempt came to, from the Q.850 cause Asterisk reports when the channel is
 * destroyed (`ChannelDestroyed.cause`). Pure: safe to import from workflows.
 */
export const CALL_OUTCOMES = [
  'answered',
  'busy',
  'no_answer',
  'rejected',
  'invalid_number',
  'network_failure',
  'answering_machine',
  'blocked',
  // The call's end was never seen and nothing recorded says how it went (a worker died with the
  // call in flight and no event journal covers it): the customer may have answered.
  'unknown',
  // A person answered and no agent was free within the strategy's `abandonAfterSeconds` (or the
  // agent's phone failed): they heard the abandon message and were hung up (agent-connect.ts).
  'abandoned',
] as const;

export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** The Q.850 causes the dialer distinguishes (Asterisk `include/asterisk/causes.h`). */
export const Q850 = {
  unallocatedNumber: 1,
  noRouteTransitNetwork: 2,
  noRouteDestination: 3,
  normalClearing: 16,
  userBusy: 17,
  noUserResponse: 18,
  noAnswer: 19,
  callRejected: 21,
  numberChanged: 22,
  destinationOutOfOrder: 27,
  invalidNumberFormat: 28,
  circuitCongestion: 34,
  networkOutOfOrder: 38,
  temporaryFailure: 41,
  switchCongestion: 42,
  requestedChannelUnavailable: 44,
} as const;

const outcomeByCause = new Map<number, CallOutcome>([
  [Q850.userBusy, 'busy'],
  [Q850.noUserResponse, 'no_answer'],
  [Q850.noAnswer, 'no_answer'],
  [Q850.callRejected, 'rejected'],
  [Q850.unallocatedNumber, 'invalid_number'],
  [Q850.noRouteTransitNetwork, 'invalid_number'],
  [Q850.noRouteDestination, 'invalid_number'],
  [Q850.numberChanged, 'invalid_number'],
  [Q850.invalidNumberFormat, 'invalid_number'],
  [Q850.destinationOutOfOrder, 'network_failure'],
  [Q850.circuitCongestion, 'network_failure'],
  [Q850.networkOutOfOrder, 'network_failure'],
  [Q850.temporaryFailure, 'network_failure'],
  [Q850.switchCongestion, 'network_failure'],
  [Q850.requestedChannelUnavailable, 'network_failure'],
]);

export interface HangupFacts {
  /** Q.850 cause of `ChannelDestroyed`. */
  cause: number;
  /** Whether the channel was ever in state `Up` (the callee picked up). */
  reachedUp: boolean;
  /** AMDSTATUS when the call went through answering-machine detection. */
  amdStatus?: string;
}

/**
 * Maps a hangup to an outcome (table in shared/ari-contract.md).
 *
 * An answered call that AMD classified as MACHINE is `answering_machine` (HUMAN, NOTSURE and
 * HANGUP keep the cause's outcome: only a sure machine is not counted as reached).
 *
 * Causes outside the table (0 "not defined", 20 subscriber absent, 31 normal unspecified, 127
 * interworking, …) fall back to what we observed: a channel that reached `Up` was answered,
 * otherwise nobody answered. `no_answer` is the safe default for the unknown: it is retried by the
 * strategy but uses up an attempt, so a number that keeps failing oddly is not dialled forever (as
 * `network_failure` would allow) nor written off after one try (as `invalid_number` would).
 */
export function outcomeFromHangup({ cause, reachedUp, amdStatus }: HangupFacts): CallOutcome {
  // A machine picked up: whatever ended the call (usually our own hangup), nobody was reached.
  if (reachedUp && amdStatus === 'MACHINE') return 'answering_machine';
  if (cause === Q850.normalClearing) return reachedUp ? 'answered' : 'no_answer';
  const known = outcomeByCause.get(cause);
  if (known) return known;
  return reachedUp ? 'answered' : 'no_answer';
}

/**
 * Whether an outcome uses up one of the contact's attempts. A network failure is the carrier's
 * fault, not the contact's, so it is retried for free; `blocked` means no call was placed at all.
 */
export function countsAsAttempt(outcome: CallOutcome): boolean {
  return outcome !== 'network_failure' && outcome !== 'blocked';
}
