import { describe, expect, it } from 'vitest';
import {
  expectedFreeAgents,
  PredictiveController,
  progressiveTarget,
  ratesOf,
  RingProfile,
  RollingWindows,
  TalkProfile,
  type AgentSupply,
  type BusyAgents,
} from '../../src/domain/dialer/pacing';
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
    // The aim is 80% of the target, lowered further while the lifetime rate is over it (TAPERED).
    expect(after.aimRate).toBeLessThan(0.024);
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
    const timeResolved = simulate('predictive', { timeResolved: true });
    const progressive = simulate('progressive');
    for (const run of [predictive, timeResolved]) {
      expect(run.abandonRate).toBeLessThanOrEqual(0.03);
      expect(run.occupancy).toBeGreaterThanOrEqual(0.85);
      expect(run.occupancy - progressive.occupancy).toBeGreaterThanOrEqual(0.15);
    }
    expect(progressive.abandonRate).toBe(0);
  });

  it('reads the answer rate with the answered calls still talking (their attempts end a talk later)', () => {
    const c = new PredictiveController({ abandonTargetPercent: 3, maxDialLevel: 3 }, 0);
    // The campaign's first seconds: 65 unanswered calls have ended, the 35 answered are still talking.
    for (let i = 0; i < 65; i++) c.attemptEnded(4000, { answered: false, abandoned: false, ringMs: 3000 });
    const without = c.recompute(5000).answerRate;
    const withTalking = c.recompute(10_000, 35).answerRate;
    expect(without).toBeLessThan(0.25);
    expect(withTalking).toBeGreaterThan(0.35);
    // A lower answer rate dials more calls for the same agents: the early overshoot this avoids.
  });

  it('the service-level brake (off by default) lowers the gain while too many bridged customers wait too long', () => {
    const run = (serviceLevel?: { waitMs: number; maxSharePercent: number }) => {
      const c = new PredictiveController({ abandonTargetPercent: 3, maxDialLevel: 3, serviceLevel }, 0);
      for (let t = 0; t < 120_000; t += 5000) {
        // No abandon at all, but a tenth of the customers wait 800 ms for an agent.
        for (let i = 0; i < 20; i++) {
          c.attemptEnded(t, { answered: true, abandoned: false, ringMs: 3000 });
          c.bridged(t, i < 2 ? 800 : 100);
        }
        c.recompute(t + 1);
      }
      return c.current.gain;
    };
    expect(run()).toBeGreaterThan(0.8);
    expect(run({ waitMs: 300, maxSharePercent: 1 })).toBeLessThan(0.8);
    expect(run({ waitMs: 1000, maxSharePercent: 1 })).toBeGreaterThan(0.8);
  });
});

describe('time-resolved agent supply', () => {
  const measuredTalks = () => {
    const talk = new TalkProfile();
    // Talks spread evenly over 2–10 s.
    for (let i = 0; i < 400; i++) talk.record(2000 + (i % 80) * 100);
    return talk;
  };

  it('judges an agent on a call by the rest of the measured talk times, given how long they have talked', () => {
    const talk = measuredTalks();
    expect(talk.doneWithin(0, 1500)).toBeLessThan(0.05);
    expect(talk.doneWithin(0, 6000)).toBeCloseTo(0.5, 1);
    // Near the end of every measured talk: most likely done (the prior's tail keeps a little doubt).
    expect(talk.doneWithin(9000, 1500)).toBeGreaterThan(0.8);
    expect(talk.doneWithin(9000, 1500)).toBeGreaterThan(talk.doneWithin(4000, 1500));
    expect(talk.doneWithin(9000, 0)).toBe(0);
    // Past every measured call, the prior's long tail: not about to end.
    expect(talk.doneWithin(20 * 60_000, 3000)).toBeLessThan(0.1);
    // Nothing measured yet: the prior (60-s talks) expects few to end within seconds.
    expect(new TalkProfile().doneWithin(3000, 3000)).toBeLessThan(0.1);
  });

  it('answer times come from the measured ring of answered calls and sum to one', () => {
    const ring = new RingProfile();
    for (let i = 0; i < 500; i++) ring.record(true, 1000 + (i % 5) * 1000 + 500);
    const times = ring.answerTimes();
    expect(times.reduce((sum, t) => sum + t.p, 0)).toBeCloseTo(1, 6);
    const within = (lo: number, hi: number) => times.filter((t) => t.ms >= lo && t.ms < hi).reduce((sum, t) => sum + t.p, 0);
    expect(within(1000, 6000)).toBeGreaterThan(0.9);
  });

  it('counts agents in wrap-up as free exactly when their known end falls before the answer of a call placed now', () => {
    const talk = measuredTalks();
    // Every call placed now is answered after 3.5 s.
    const at = [{ ms: 3500, p: 1 }];
    const busy = (b: Partial<BusyAgents>): BusyAgents => ({ wrapUpLeftMs: [], onCallMs: [], wrapUpMs: 3000, ...b });
    expect(expectedFreeAgents(2, busy({ wrapUpLeftMs: [1000, 3000] }), at, talk)).toBe(4);
    expect(expectedFreeAgents(2, busy({ wrapUpLeftMs: [4000, 10_000] }), at, talk)).toBe(2);
    // On a call: the wrap-up (3 s) still follows, so only a talk over within 0.5 s frees them in time.
    const onCall = expectedFreeAgents(0, busy({ onCallMs: [9500] }), at, talk);
    expect(onCall).toBeGreaterThan(0.7);
    expect(expectedFreeAgents(0, busy({ onCallMs: [500] }), at, talk)).toBeLessThan(0.01);
    // Spread answers: half of the calls are answered after 2 s, half after 5 s.
    expect(
      expectedFreeAgents(
        0,
        busy({ wrapUpLeftMs: [3000] }),
        [
          { ms: 2000, p: 0.5 },
          { ms: 5000, p: 0.5 },
        ],
        talk,
      ),
    ).toBe(0.5);
  });

  it('dials for the agents it knows will be free: wrap-ups about to end bring calls, long calls do not', () => {
    const c = new PredictiveController({ abandonTargetPercent: 3, maxDialLevel: 3 }, 0);
    for (let i = 0; i < 200; i++) {
      c.attemptEnded(1000, { answered: i % 3 === 0, abandoned: false, ringMs: 2000 + (i % 5) * 1000 });
      c.handled(1000, { talkMs: 2000 + (i % 80) * 100, handleMs: 5000 + (i % 80) * 100 });
    }
    c.recompute(5000);
    const s = supply({ loggedIn: 10, available: 0, onCall: 5, wrapUp: 5 });
    const endingWrapUps = c.allowance(s, [], { wrapUpLeftMs: [200, 300, 400, 500, 600], onCallMs: [500, 500, 500, 500, 500], wrapUpMs: 3000 });
    const longWrapUps = c.allowance(s, [], { wrapUpLeftMs: [20_000, 20_000, 20_000, 20_000, 20_000], onCallMs: [500, 500, 500, 500, 500], wrapUpMs: 3000 });
    expect(endingWrapUps).toBeGreaterThanOrEqual(longWrapUps + 5);
    expect(longWrapUps).toBeLessThanOrEqual(1);
  });
});

/**
 * A small discrete-time contact centre: 50 agents, 35% answer, ring 2–8 s, talk 2–10 s + wrap-up
 * 1–3 s, a customer who waits 2 s for an agent is abandoned. The pacer loop every 500 ms, as live.
 */
function simulate(mode: 'progressive' | 'predictive', options: { timeResolved?: boolean } = {}) {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const between = (a: number, b: number) => a + (b - a) * rnd();
  const agents = Array.from({ length: 50 }, () => ({ freeAt: 0, wrapFrom: 0, since: 0 }));
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
      free.since = now;
      answers++;
      later.push({ at: now + handle, ringMs: call.ringMs, talk, handle });
    }
    for (let i = later.length - 1; i >= 0; i--) {
      const done = later[i];
      if (done.at > now) continue;
      later.splice(i, 1);
      c.attemptEnded(now, { answered: true, abandoned: false, ringMs: done.ringMs });
      c.handled(now, { talkMs: done.talk, handleMs: done.handle });
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
    if (now % 5000 === 0) c.recompute(now, options.timeResolved ? onCall : 0);
    const unconnected = ringing.length + waiting.length;
    const ages = [...ringing.map((r) => now - r.startAt), ...waiting.map((w) => now - w.startAt)];
    // The wrap-up here is 1–3 s: its end is known once it starts, only an upper bound before.
    const busyAgents: BusyAgents = {
      wrapUpLeftMs: agents.filter((a) => a.freeAt > 0 && a.wrapFrom <= now).map((a) => a.freeAt - now),
      onCallMs: agents.filter((a) => a.freeAt > 0 && a.wrapFrom > now).map((a) => now - a.since),
      wrapUpMs: 3000,
    };
    const allowance =
      mode === 'progressive' ? progressiveTarget(s.available, 1) - unconnected : c.allowance(s, ages, options.timeResolved ? busyAgents : undefined);
    for (let n = Math.min(25, allowance); n > 0; n--) {
      const answered = rnd() < 0.35;
      const ringMs = answered ? between(2000, 8000) : between(3000, 15_000);
      ringing.push({ startAt: now, endAt: now + ringMs, answered, ringMs });
    }
  }
  return { occupancy: busyMs / (50 * endMs), abandonRate: abandons / answers, answers };
}
