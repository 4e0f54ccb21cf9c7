import { describe, expect, it } from 'vitest';
import { createPageTurns } from '../../src/activities/broadcast/page-turns';
import { createWakeup } from '../../src/activities/broadcast/wakeup';

describe('page turns', () => {
  it('gives the slots to the earliest page with messages waiting, per send', () => {
    const turns = createPageTurns();
    const noop = () => undefined;
    turns.set('s1', 2000, true, noop);
    turns.set('s1', 1000, true, noop);
    turns.set('s2', 5000, true, noop);
    expect(turns.isTurn('s1', 1000)).toBe(true);
    expect(turns.isTurn('s1', 2000)).toBe(false);
    // Another send's pages do not wait for these.
    expect(turns.isTurn('s2', 5000)).toBe(true);
    turns.set('s1', 1000, false, noop);
    expect(turns.isTurn('s1', 2000)).toBe(true);
    // A page whose retries come back takes its turn again before later pages.
    turns.set('s1', 1000, true, noop);
    expect(turns.isTurn('s1', 2000)).toBe(false);
  });

  it('wakes the waiting pages when an earlier page is done dispatching', async () => {
    const turns = createPageTurns();
    const second = createWakeup();
    let woken = false;
    turns.set('s1', 1000, true, () => undefined);
    turns.set('s1', 2000, true, second.ring);
    const waiting = second.wait().then(() => (woken = true));
    await Promise.resolve();
    expect(woken).toBe(false);
    turns.set('s1', 1000, false, () => undefined);
    await waiting;
    expect(woken).toBe(true);
    expect(turns.isTurn('s1', 2000)).toBe(true);
  });
});

describe('wakeup', () => {
  it('resolves waiters at the next ring, and a timed wait at its time without a ring', async () => {
    const w = createWakeup();
    const order: string[] = [];
    const first = w.wait().then(() => order.push('rung'));
    w.ring();
    await first;
    const started = Date.now();
    await w.wait(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(order).toEqual(['rung']);
  });
});
