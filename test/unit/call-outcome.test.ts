import { describe, expect, it } from 'vitest';
import { CALL_OUTCOMES, countsAsAttempt, outcomeFromHangup } from '../../src/domain/call-outcome';

describe('outcome of a hangup (Q.850 cause)', () => {
  it('normal clearing is answered only when the channel reached Up', () => {
    expect(outcomeFromHangup({ cause: 16, reachedUp: true })).toBe('answered');
    expect(outcomeFromHangup({ cause: 16, reachedUp: false })).toBe('no_answer');
  });

  it.each([
    [17, 'busy'],
    [18, 'no_answer'],
    [19, 'no_answer'],
    [21, 'rejected'],
    [1, 'invalid_number'],
    [2, 'invalid_number'],
    [3, 'invalid_number'],
    [22, 'invalid_number'],
    [28, 'invalid_number'],
    [27, 'network_failure'],
    [34, 'network_failure'],
    [38, 'network_failure'],
    [41, 'network_failure'],
    [42, 'network_failure'],
    [44, 'network_failure'],
  ] as const)('cause %i → %s, whether or not the channel reached Up', (cause, outcome) => {
    expect(outcomeFromHangup({ cause, reachedUp: false })).toBe(outcome);
    expect(outcomeFromHangup({ cause, reachedUp: true })).toBe(outcome);
  });

  it.each([0, 20, 31, 127])('unlisted cause %i falls back to what was seen: Up → answered, else no_answer', (cause) => {
    expect(outcomeFromHangup({ cause, reachedUp: true })).toBe('answered');
    expect(outcomeFromHangup({ cause, reachedUp: false })).toBe('no_answer');
  });
});

describe('which outcomes use up an attempt', () => {
  it('a network failure is retried for free; a blocked contact was never called', () => {
    const free = CALL_OUTCOMES.filter((o) => !countsAsAttempt(o));
    expect(free.sort()).toEqual(['blocked', 'network_failure']);
  });

  it.each(['answered', 'busy', 'no_answer', 'rejected', 'invalid_number', 'answering_machine'] as const)('%s counts as an attempt', (outcome) =>
    expect(countsAsAttempt(outcome)).toBe(true),
  );
});
