import { describe, expect, it } from 'vitest';
import { createTotalsCache, type Totals } from '../../src/api/broadcast/monitor';

const totals = (pending: number): Totals => ({
  total: pending,
  pending,
  sending: 0,
  accepted: 0,
  sent: 0,
  delivered: 0,
  read: 0,
  failed: 0,
  skipped: 0,
  unknown: 0,
  failedByCode: [],
  skippedByReason: {},
  missingVariables: { skipped: 0, defaulted: 0, byPlaceholder: {} },
});

/** A counter that answers `pending = number of counts so far` and records what it was asked. */
function counter() {
  const calls: string[][] = [];
  let fail = false;
  const count = async (ids: string[]) => {
    calls.push(ids);
    if (fail) throw new Error('database down');
    return { totals: totals(calls.length), currentMps: 0 };
  };
  return { count, calls, failNext: (f: boolean) => (fail = f) };
}

describe('monitor totals cache', () => {
  it('shares one count between viewers of the same send and version within the max age', async () => {
    const c = counter();
    const cached = createTotalsCache(c.count, { maxAgeMs: 60_000 });
    const [a, b] = await Promise.all([cached(['s1'], 3), cached(['s1'], 3)]);
    const later = await cached(['s1'], 3);
    expect(c.calls).toHaveLength(1);
    expect([a.totals.pending, b.totals.pending, later.totals.pending]).toEqual([1, 1, 1]);
  });

  it('counts again when the send changed state (another version), for other sends and after the max age', async () => {
    const c = counter();
    const cached = createTotalsCache(c.count, { maxAgeMs: 0 });
    await cached(['s1'], 3);
    await cached(['s1'], 3);
    expect(c.calls).toHaveLength(2);

    const d = counter();
    const longLived = createTotalsCache(d.count, { maxAgeMs: 60_000 });
    await longLived(['s1'], 3);
    expect((await longLived(['s1'], 4)).totals.pending).toBe(2);
    expect((await longLived(['s2', 's1'], 4)).totals.pending).toBe(3);
    // The same set of sends in another order is the same key.
    expect((await longLived(['s1', 's2'], 4)).totals.pending).toBe(3);
  });

  it('keeps a slow count longer, in proportion to how long it took', async () => {
    let clock = 0;
    const calls: number[] = [];
    // Each count takes 500 ms of the fake clock.
    const slow = async () => {
      calls.push(clock);
      clock += 500;
      return { totals: totals(calls.length), currentMps: 0 };
    };
    const cached = createTotalsCache(slow, { maxAgeMs: 1000, costFactor: 10, now: () => clock });
    await cached(['s1'], 1);
    clock += 2000; // older than maxAgeMs, but younger than 10 × 500 ms
    expect((await cached(['s1'], 1)).totals.pending).toBe(1);
    clock += 3000;
    expect((await cached(['s1'], 1)).totals.pending).toBe(2);
    expect(calls).toHaveLength(2);
  });

  it('does not keep a failed count', async () => {
    const c = counter();
    const cached = createTotalsCache(c.count, { maxAgeMs: 60_000 });
    c.failNext(true);
    await expect(cached(['s1'], 1)).rejects.toThrow('database down');
    c.failNext(false);
    expect((await cached(['s1'], 1)).totals.pending).toBe(2);
  });
});
