import { describe, expect, it } from 'vitest';
import { CallBook } from '../../src/activities/dialer/call-book';
import { FailureWindow, stopReason, Waker, whatNext } from '../../src/activities/dialer/lane-control';
import { LaneMetrics } from '../../src/activities/dialer/lane-metrics';
import { GATHER_MS, PowerPacer } from '../../src/activities/dialer/pacer';
import { pacerForStrategy } from '../../src/activities/dialer/pacers';
import { strategyConfigSchema } from '../../src/domain/dialer/strategy';

const strategy = (over: object = {}) =>
  strategyConfigSchema.parse({ callingWindow: { days: [0, 1, 2, 3, 4, 5, 6], ranges: [{ from: '00:00', to: '24:00' }], excludeHolidays: false }, ...over });
const progress = { phones: ['5511999990000'], phoneIdx: 0, attempts: 0, phoneAttempts: [0], dials: 0 };

describe('power pacer', () => {
  it('never has more than `channels` calls in flight and grants callsPerSecond after its burst', () => {
    const pacer = new PowerPacer(strategy({ pacing: { channels: 4, callsPerSecond: 2 } }), 0);
    // One token to begin with; the burst is min(cps, channels) = 2.
    expect(pacer.grant(10, 0, 0)).toEqual({ granted: 1 });
    expect(pacer.grant(10, 1, 0)).toEqual({ granted: 0, retryInMs: 500 });
    expect(pacer.grant(10, 1, 1000)).toEqual({ granted: 2 });
    // Lines full: nothing, and no retry timer (a call ending asks again).
    expect(pacer.grant(10, 4, 5000)).toEqual({ granted: 0 });
    expect(pacer.grant(10, 3, 5000)).toEqual({ granted: 1 });
    expect(pacer.ceiling()).toBe(4);
  });

  it('on many lines, gathers lines freed one by one for up to GATHER_MS, or until a fiftieth of them is free', () => {
    const pacer = new PowerPacer(strategy({ pacing: { channels: 1000, callsPerSecond: 200 } }), 0);
    expect(pacer.grant(1000, 0, 1000)).toEqual({ granted: 200 });
    // One line frees: held, and asked again when the gathering ends.
    expect(pacer.grant(500, 999, 2000)).toEqual({ granted: 0, retryInMs: GATHER_MS });
    expect(pacer.grant(500, 998, 2000 + GATHER_MS / 2)).toEqual({ granted: 0, retryInMs: GATHER_MS / 2 });
    expect(pacer.grant(500, 997, 2000 + GATHER_MS)).toEqual({ granted: 3 });
    // Twenty free lines (a fiftieth) go at once.
    expect(pacer.grant(500, 980, 3000)).toEqual({ granted: 20 });
    // Below 100 channels nothing is held.
    const small = new PowerPacer(strategy({ pacing: { channels: 10, callsPerSecond: 100 } }), 0);
    expect(small.grant(10, 9, 1000)).toEqual({ granted: 1 });
  });

  it('takes a strategy edit at once', () => {
    const pacer = pacerForStrategy(strategy({ pacing: { channels: 2, callsPerSecond: 100 } }), { wake: () => undefined, campaignId: 'c' });
    // The factory's pacer starts its rate budget on the real clock.
    const t0 = performance.now();
    expect(pacer.grant(10, 2, t0).granted).toBe(0);
    pacer.configure(strategy({ pacing: { channels: 5, callsPerSecond: 100 } }));
    expect(pacer.ceiling()).toBe(5);
    expect(pacer.grant(10, 2, t0 + 1000).granted).toBe(3);
  });
});

describe('lane metrics', () => {
  it('measures free→originate delays and line utilisation only while contacts are due', () => {
    // A monotonic clock (performance.now()) never reads 0.
    let t = 1000;
    const m = new LaneMetrics(() => t);
    m.callStarted(); // 1 busy
    t = 1100;
    m.callStarted(); // 2 busy
    t = 1300;
    m.callEnded(); // 1 busy, freed at 1300
    t = 1350;
    m.callStarted(); // delay 50
    t = 1400;
    m.dueExhausted();
    t = 10_000;
    const s = m.summary(2);
    expect(s.freeToOriginateMs).toEqual({ count: 1, p50: 50, p99: 50, max: 50 });
    // busy integral: 1×100 + 2×200 + 1×50 + 2×50 = 650 over 2 lines × 400 ms.
    expect(s.lineUtilisation).toBeCloseTo(650 / 800);
  });

  it('a withdrawn originate frees no line to measure from', () => {
    let t = 0;
    const m = new LaneMetrics(() => t);
    m.callStarted();
    m.callWithdrawn();
    t = 10;
    m.callStarted();
    expect(m.summary(1).freeToOriginateMs.count).toBe(0);
  });
});

describe('call book', () => {
  it('ends each call once, whoever reports it first, and frees its slot', () => {
    const book = new CallBook();
    book.reserve(2);
    book.begin('a', { contactId: 1, progress, startedAt: new Date() });
    book.release(1);
    expect(book.reserved).toBe(1);
    expect(book.end('a')).toBe(true);
    expect(book.end('a')).toBe(false);
    expect(book.reserved).toBe(0);
    book.adopt('b', { contactId: 2, progress, startedAt: new Date() });
    expect(book.reserved).toBe(1);
    expect(book.keys()).toEqual(['b']);
    expect(book.isSettled('a')).toBe(true);
  });
});

describe('lane control', () => {
  const base = { cancelled: false, endAt: null, strategy: strategy(), failures: new FailureWindow(), idle: false };
  it('stops for cancellation, end time, window and network failures, in that order', () => {
    const now = new Date('2026-11-23T15:00:00Z');
    expect(stopReason(base, now)).toBeUndefined();
    expect(stopReason({ ...base, cancelled: true, endAt: new Date(0) }, now)).toBe('not_running');
    expect(stopReason({ ...base, endAt: new Date(0) }, now)).toBe('ended');
    const closed = strategy({ callingWindow: { days: [1], ranges: [{ from: '08:00', to: '09:00' }], excludeHolidays: false } });
    expect(stopReason({ ...base, strategy: closed }, now)).toBe('window_closed');
    const failures = new FailureWindow();
    for (let i = 0; i < 20; i++) failures.push(i < 11);
    expect(stopReason({ ...base, failures }, now)).toBe('network_failures');
    expect(stopReason({ ...base, idle: true }, now)).toBe('idle_candidate');
  });

  it('after a stop: completed when nothing is open, else the next due time or window', () => {
    const now = new Date('2026-11-23T15:00:00Z');
    const s = strategy();
    expect(whatNext('idle', { open: 0, nextDueAt: null, pendingDdds: [] }, s, now).reason).toBe('completed');
    const later = new Date(now.getTime() + 60_000);
    expect(whatNext('idle', { open: 3, nextDueAt: later, pendingDdds: ['11'] }, s, now)).toEqual({ reason: 'idle', nextAt: later, waitingWindow: false });
    expect(whatNext('not_running', { open: 3, nextDueAt: later, pendingDdds: ['11'] }, s, now)).toEqual({
      reason: 'not_running',
      nextAt: undefined,
      waitingWindow: false,
    });
    const w = whatNext(
      'window_closed',
      { open: 3, nextDueAt: null, pendingDdds: [] },
      strategy({ callingWindow: { days: [1], ranges: [{ from: '08:00', to: '09:00' }], excludeHolidays: false } }),
      now,
    );
    expect(w.waitingWindow).toBe(true);
    expect(w.nextAt!.getTime()).toBeGreaterThan(now.getTime());
  });

  it('a waker cuts a sleep short', async () => {
    const waker = new Waker();
    const started = Date.now();
    const sleeping = waker.sleep(10_000);
    waker.wake();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
