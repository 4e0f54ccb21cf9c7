import { expect, it } from 'vitest';
import { overShortCallGuard, shortCallShare } from '../../src/domain/dialer/short-calls';

const guard = { dailyCalls: 100_000, maxShare: 0.8 };

it('is over the guard only with both the daily volume and the short-call share at the line or above', () => {
  expect(overShortCallGuard({ placed: 100_000, share: 0.8 }, guard)).toBe(true);
  expect(overShortCallGuard({ placed: 120_000, share: 0.79 }, guard)).toBe(false);
  expect(overShortCallGuard({ placed: 99_999, share: 0.99 }, guard)).toBe(false);
  expect(overShortCallGuard({ placed: 0, share: null }, { dailyCalls: 1, maxShare: 0.01 })).toBe(false);
  expect(shortCallShare(4, 3)).toBe(0.75);
  expect(shortCallShare(0, 0)).toBeNull();
});
