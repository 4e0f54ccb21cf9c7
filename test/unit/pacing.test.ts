import { describe, expect, it } from 'vitest';
import { PredictiveController, progressiveTarget, ratesOf, RollingWindows, type AgentSupply } from '../../src/domain/dialer/pacing';
import { strategyConfigSchema } from '../../src/domain/dialer/strategy';

const supply = (over: Partial<AgentSupply> = {}): AgentSupply => ({ loggedIn: 10, available: 10, onCall: 0, wrapUp: 0, ...over });

describe('strategy pacing', () => {
  it('defaults to power (today), ratio 1, a 3% abandon target and level 3.0; ratio stays within 1.0–3.0', () => {
    expect(strategyConfigSchema.parse({}).pacing).toEqual({
      mode: 'power',
      channels: 10,
      callsPerSecond: 5,
      ratio: 1,
      abandonTargetPercent: 3,
      maxDialLevel: 3,
    });
    expect(strategyConfigSchema.parse({ pacing: { channels: 3 } }).pacing).toMatchObject({ mode: 'power', channels: 3, callsPerSecond: 5 });
    expect(strategyConfigSchema.safeParse({ pacing: { mode: 'progressive', ratio: 3.5 } }).success).toBe(false);
    expect(strategyConfigSchema.safeParse({ pacing: { mode: 'progressive', ratio: 0.5 } }).success).toBe(false);
    expect(strategyConfigSchema.safeParse({ pacing: { mode: 'preview' } }).success).toBe(false);
  });
});

describe('progressiveTarget', () => {
  it('is available agents × ratio, rounded down, never negative', () => {
    expect(progressiveTarget(0, 3)).toBe(0);
    expect(progressiveTarget(5, 1)).toBe(5);
    expect(progressiveTarget(5, 1.5)).toBe(7);
    expect(progressiveTarget(3, 2.2)).toBe(6);
    expect(progressiveTarget(-2, 2)).toBe(0);
  });
});

describe('RollingWindows', () => {
  it('keeps the last minute, the last 15 minutes and the whole run apart', () => {
    const w = new RollingWindows();
    w.attemptEnded(0, { answered: true, abandoned: true, ringMs: 4000 });
    w.attemptEnded(1000, { answered: false, abandoned: false, ringMs: 9000 });
    w.attemptEnded(10 * 60_000, { answered: true, abandoned: false, ringMs: 2000 });
    w.handled(10 * 60_000, { talkMs: 5000, handleMs: 8000 });
    w.attemptEnded(20 * 60_000, { answered: false, abandoned: false, ringMs: 0 });
    const now = 20 * 60_000 + 100;
    expect(w.totals('oneMinute', now)).toMatchObject({ attempts: 1, answers: 0 });
    expect(w.totals('fifteenMinutes', now)).toMatchObject({ attempts: 2, answers: 1, abandons: 0, ringMs: 2000, handles: 1, handleMs: 8000 });
    expect(ratesOf(w.totals('lifetime', now))).toMatchObject({ attempts: 4, answers: 2, abandons: 1, answerRate: 0.5, abandonRate: 0.5, avgRingMs: 3000 });
  });

  it('measures occupancy from agent exposure: busy ÷ logged in', () => {
    const w = new RollingWindows();
    w.exposure(0, 1000, supply({ loggedIn: 4, available: 1, onCall: 2, wrapUp: 1 }));
    w.exposure(1000, 1000, supply({ loggedIn: 4, available: 3, onCall: 1, wrapUp: 0 }));
    expect(ratesOf(w.totals('oneMinute', 2000)).occupancy).toBe(0.5);
  });
});

describe('PredictiveController', () => {
  it('dials nobody without agents, and only the available agents 1:1 under the hard limit', () => {
    const c = new PredictiveController({ abandonTargetPercent: 3, maxDialLevel: 3 }, 0);
    expect(c.allowance(supply({ loggedIn: 0, available: 0 }), [])).toBe(0);
    // 20 answers in the last minute, 5 abandoned: far over 3%.
    for (let i = 0; i < 40; i++) c.attemptEnded(1000, { answered: true, abandoned: i < 10, ringMs: 3000 });
    expect(c.recompute(5000).phase).toBe('hard_limit');
    expect(c.allowance(supply({ loggedIn: 10, available: 4, onCall: 6 }), [100])).toBe(3);
    // The short window recovers: the limit is lifted although the lifetime rate is still over target.
    for (let i = 0; i < 200; i++) c.attemptEnded(120_000, { answered: true, abandoned: false, ringMs: 3000 });
    const after = c.recompute(125_000);
    expect(after.phase).toBe('adaptive');
    expect(after.aimRate).toBeLessThan(0.03);
  });

  it('in warm-up, a small campaign already over its abandon budget dials 1:1 (too few answers for a window rate)', () => {
    const c = new PredictiveController({ abandonTargetPercent: 3, maxDialLevel: 3 }, 0);
    // 12 answers, none abandoned: still learning.
    for (let i = 0; i < 12; i++) c.attemptEnded(1000, { answered: true, abandoned: false, ringMs: 3000 });
    expect(c.recompute(2000).phase).toBe('warm_up');
    // One abandon in 13 answers is 7.7%: over 3% for the campaign, though no window has 15 answers.
    c.attemptEnded(3000, { answered: true, abandoned: true, ringMs: 3000 });
    expect(c.recompute(4000).phase).toBe('hard_limit');
    expect(c.allowance(supply({ loggedIn: 3, available: 1, onCall: 2 }), [])).toBe(1);
  });

  it('starts conservative (warm-up priors) and never passes maxDialLevel', () => {
    const c = new PredictiveController({ abandonTargetPercent: 3, maxDialLevel: 2 }, 0);
    expect(c.current.phase).toBe('warm_up');
    // A very low answer rate and no abandons for a long time: the gain grows, the level stops at 2.
    for (let t = 0; t < 600_000; t += 5000) {
      for (let i = 0; i < 20; i++) c.attemptEnded(t, { answered: i === 0, abandoned: false, ringMs: 3000 });
      c.recompute(t + 1);
    }
    expect(c.current.gain).toBeGreaterThan(1);
    expect(c.allowance(supply({ loggedIn: 10, available: 10 }), [])).toBe(20);
    expect(c.allowance(supply({ loggedIn: 10, available: 10 }), Array(15).fill(60_000))).toBe(5);
  });

  it('counts agents that will be free within a ring time (Erlang-style), not only those free now', () => {
    const c = new PredictiveController({ abandonTargetPercent: 3, maxDialLevel: 3 }, 0);
    const allBusy = c.allowance(supply({ loggedIn: 10, available: 0, onCall: 10 }), []);
    expect(allBusy).toBeGreaterThan(0);
    expect(allBusy).toBeLessThan(c.allowance(supply({ loggedIn: 10, available: 10 }), []));
    // Calls already ringing count for the answers they may still bring: young ones more than old ones.
    const young = c.allowance(supply({ loggedIn: 10, available: 10 }), [1000, 1000, 1000, 1000]);
    const old = c.allowance(supply({ loggedIn: 10, available: 10 }), [60_000, 60_000, 60_000, 60_000]);
    expect(young).toBeLessThan(old);
  });

  it('in a simulated contact centre keeps abandons ≤ 3% at ≥ 85% occupancy, 15+ points over progressive 1:1', () => {
    const predictive = simulate('predictive');
    const progressive = simulate('progressive');
    expect(predictive.abandonRate).toBeLessThanOrEqual(0.03);
    expect(predictive.occupancy).toBeGreaterThanOrEqual(0.85);
    expect(predictive.occupancy - progressive.occupancy).toBeGreaterThanOrEqual(0.15);
    expect(progressive.abandonRate).toBe(0);
  });
});

/**
 * A small discrete-time contact centre: 50 agents, 35% answer, ring 2–8 s, talk 2–10 s + wrap-up
 * 1–3 s, a customer who waits 2 s for an agent is abandoned. The pacer loop every 500 ms, as live.
 */
function simulate(mode: 'progressive' | 'predictive') {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const between = (a: number, b: number) => a + (b - a) * rnd();
  const agents = Array.from({ length: 50 }, () => ({ freeAt: 0, wrapFrom: 0 }));
  const ringing: { startAt: number; endAt: number; answered: boolean; ringMs: number }[] = [];
  const waiting: { since: number; ringMs: number; startAt: number }[] = [];
  // The lane learns of a connected call when it ends, after its talk: what it reports, and when.
  const later: { at: number; ringMs: number; talk: number; handle: number }[] = [];
  const c = new PredictiveController({ abandonTargetPercent: 3, maxDialLevel: 3 }, 0);
  let busyMs = 0;
  let answers = 0;
  let abandons = 0;
  const stepMs = 100;
  const endMs = 3_600_000;
  for (let now = 0; now < endMs; now += stepMs) {
    for (let i = ringing.length - 1; i >= 0; i--) {
      const call = ringing[i];
      if (call.endAt > now) continue;
      ringing.splice(i, 1);
      if (call.answered) waiting.push({ since: now, ringMs: call.ringMs, startAt: call.startAt });
      else c.attemptEnded(now, { answered: false, abandoned: false, ringMs: call.ringMs });
    }
    for (const a of agents) if (a.freeAt > 0 && a.freeAt <= now) a.freeAt = 0;
    while (waiting.length) {
      const free = agents.find((a) => a.freeAt === 0);
      const call = waiting[0];
      if (!free) break;
      waiting.shift();
      const talk = between(2000, 10_000);
      const handle = talk + between(1000, 3000);
      free.freeAt = now + handle;
      free.wrapFrom = now + talk;
      answers++;
      later.push({ at: now + handle, ringMs: call.ringMs, talk, handle });
    }
    for (let i = later.length - 1; i >= 0; i--) {
      const done = later[i];
      if (done.at > now) continue;
      later.splice(i, 1);
      c.attemptEnded(now, { answered: true, abandoned: false, ringMs: done.ringMs });
      c.windows.handled(now, { talkMs: done.talk, handleMs: done.handle });
    }
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (now - waiting[i].since < 2000) continue;
      waiting.splice(i, 1);
      answers++;
      abandons++;
      c.attemptEnded(now, { answered: true, abandoned: true, ringMs: 2000 });
    }
    const busy = agents.filter((a) => a.freeAt > 0).length;
    busyMs += busy * stepMs;
    if (now % 500 !== 0) continue;
    const onCall = agents.filter((a) => a.freeAt > 0 && a.wrapFrom > now).length;
    const s: AgentSupply = { loggedIn: 50, available: 50 - busy, onCall, wrapUp: busy - onCall };
    c.windows.exposure(now, 500, s);
    if (now % 5000 === 0) c.recompute(now);
    const unconnected = ringing.length + waiting.length;
    const ages = [...ringing.map((r) => now - r.startAt), ...waiting.map((w) => now - w.startAt)];
    const allowance = mode === 'progressive' ? progressiveTarget(s.available, 1) - unconnected : c.allowance(s, ages);
    for (let n = Math.min(25, allowance); n > 0; n--) {
      const answered = rnd() < 0.35;
      const ringMs = answered ? between(2000, 8000) : between(3000, 15_000);
      ringing.push({ startAt: now, endAt: now + ringMs, answered, ringMs });
    }
  }
  return { occupancy: busyMs / (50 * endMs), abandonRate: abandons / answers, answers };
}
