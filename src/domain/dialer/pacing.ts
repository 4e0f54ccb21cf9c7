/**
 * Pacing by agents (pure: the pacers in src/activities/dialer/pacers.ts feed it, the monitor reads
 * what it wrote). Two modes besides `power`:
 *
 * - progressive: calls not yet connected to an agent = available agents × ratio.
 * - predictive: an Erlang-style estimate of the agents free when a call placed now is answered,
 *   divided by the answer rate, times a gain the abandon rate steers (VICIdial's ADAPT_AVERAGE /
 *   TAPERED, Genesys' abandon-rate target), with ADAPT_HARD_LIMIT's fall-back to 1:1.
 */

export interface AgentSupply {
  loggedIn: number;
  available: number;
  /** On a call of this campaign. */
  onCall: number;
  /** In after-call work of a call of this campaign. */
  wrapUp: number;
}

/** Calls in flight (not yet connected to an agent) progressive dialing allows. */
export function progressiveTarget(availableAgents: number, ratio: number): number {
  if (availableAgents <= 0) return 0;
  return Math.floor(availableAgents * ratio + 1e-9);
}

// ---- rolling windows

export interface WindowTotals {
  /** Attempts that ended. */
  attempts: number;
  /** A person answered (connected or abandoned). */
  answers: number;
  abandons: number;
  /** Ring time of the answered calls (originate → answer). */
  ringMs: number;
  /** Agents' handled calls (talk + after-call work ended). */
  handles: number;
  handleMs: number;
  talkMs: number;
  /** Agent-milliseconds busy (on a call or in wrap-up) and logged in: Little's law and occupancy. */
  busyMs: number;
  loggedInMs: number;
}

export const emptyTotals = (): WindowTotals => ({
  attempts: 0,
  answers: 0,
  abandons: 0,
  ringMs: 0,
  handles: 0,
  handleMs: 0,
  talkMs: 0,
  busyMs: 0,
  loggedInMs: 0,
});

export type WindowName = 'oneMinute' | 'fifteenMinutes' | 'lifetime';

const BUCKET_MS = 5_000;
const SPANS: Record<Exclude<WindowName, 'lifetime'>, number> = { oneMinute: 60_000, fifteenMinutes: 900_000 };

function add(into: WindowTotals, from: Partial<WindowTotals>): void {
  for (const k of Object.keys(from) as (keyof WindowTotals)[]) into[k] += from[k] ?? 0;
}

/** Totals over the last minute, the last 15 minutes and the whole run, in 5-second buckets. */
export class RollingWindows {
  private buckets: { start: number; totals: WindowTotals }[] = [];
  private readonly life = emptyTotals();

  record(now: number, delta: Partial<WindowTotals>): void {
    const start = now - (now % BUCKET_MS);
    let last = this.buckets.at(-1);
    if (!last || last.start !== start) {
      last = { start, totals: emptyTotals() };
      this.buckets.push(last);
      const oldest = now - SPANS.fifteenMinutes - BUCKET_MS;
      while (this.buckets.length && this.buckets[0].start < oldest) this.buckets.shift();
    }
    add(last.totals, delta);
    add(this.life, delta);
  }

  attemptEnded(now: number, call: { answered: boolean; abandoned: boolean; ringMs: number }): void {
    this.record(now, { attempts: 1, answers: call.answered ? 1 : 0, abandons: call.abandoned ? 1 : 0, ringMs: call.answered ? call.ringMs : 0 });
  }

  /** An answered call first counted as connected turned out abandoned (learnt later). */
  abandoned(now: number): void {
    this.record(now, { abandons: 1 });
  }

  handled(now: number, h: { talkMs: number; handleMs: number }): void {
    this.record(now, { handles: 1, handleMs: h.handleMs, talkMs: h.talkMs });
  }

  /** Agents busy / logged in for the last `ms` milliseconds. */
  exposure(now: number, ms: number, supply: AgentSupply): void {
    this.record(now, { busyMs: (supply.onCall + supply.wrapUp) * ms, loggedInMs: supply.loggedIn * ms });
  }

  totals(window: WindowName, now: number): WindowTotals {
    if (window === 'lifetime') return { ...this.life };
    const from = now - SPANS[window];
    const sum = emptyTotals();
    for (const b of this.buckets) if (b.start + BUCKET_MS > from) add(sum, b.totals);
    return sum;
  }
}

export interface WindowRates {
  attempts: number;
  answers: number;
  abandons: number;
  answerRate: number | null;
  /** Abandoned ÷ answered by a person. */
  abandonRate: number | null;
  avgRingMs: number | null;
  avgHandleMs: number | null;
  occupancy: number | null;
}

export function ratesOf(t: WindowTotals): WindowRates {
  return {
    attempts: t.attempts,
    answers: t.answers,
    abandons: t.abandons,
    answerRate: t.attempts ? t.answers / t.attempts : null,
    abandonRate: t.answers ? t.abandons / t.answers : null,
    avgRingMs: t.answers ? t.ringMs / t.answers : null,
    avgHandleMs: t.handles ? t.handleMs / t.handles : null,
    occupancy: t.loggedInMs ? t.busyMs / t.loggedInMs : null,
  };
}

// ---- the predictive controller

export interface PredictiveSettings {
  abandonTargetPercent: number;
  maxDialLevel: number;
}

/**
 * What is assumed before the campaign has measured enough, each worth `weight` observations.
 * Chosen on the safe side: a high answer rate and a long handle time both dial less.
 */
export const PRIORS = {
  answerRate: 0.5,
  answerWeight: 30,
  ringMs: 6_000,
  ringWeight: 10,
  handleMs: 60_000,
  handleWeight: 10,
};

/** Answers before the gain may grow (warm-up), and answers a window needs before its abandon rate counts. */
const WARM_UP_ANSWERS = 30;
const MIN_ANSWERS = 15;
const GAIN = { initial: 0.8, min: 0.3, max: 1.5 };

export type PredictivePhase = 'warm_up' | 'adaptive' | 'hard_limit';

export interface PredictiveState {
  phase: PredictivePhase;
  /** Answers wanted per agent expected free: the lever the abandon rate steers. */
  gain: number;
  answerRate: number;
  ringMs: number;
  handleMs: number;
  /** The abandon rate the gain is steered to this round (below target while the lifetime is over it). */
  aimRate: number;
  recomputedAt: number;
}

/** A call in flight, not yet connected: how long it has been ringing. */
export type RingingAges = readonly number[];

/**
 * How long calls ring before they are answered, and before an unanswered one gives up, in
 * 1-second buckets: the chance that a call still ringing after `age` will yet be answered.
 */
export class RingProfile {
  private readonly answered = new Array<number>(RING_BUCKETS).fill(0);
  private readonly unanswered = new Array<number>(RING_BUCKETS).fill(0);
  private answeredN = 0;
  private unansweredN = 0;

  record(answered: boolean, ringMs: number): void {
    const b = Math.min(RING_BUCKETS - 1, Math.max(0, Math.floor(ringMs / 1000)));
    if (answered) this.answered[b]++, this.answeredN++;
    else this.unanswered[b]++, this.unansweredN++;
  }

  /** P(answered | still ringing at `ageMs`), for an overall answer rate `p`. */
  answerChance(ageMs: number, p: number): number {
    const b = Math.min(RING_BUCKETS - 1, Math.max(0, Math.floor(ageMs / 1000)));
    const sa = survival(this.answered, this.answeredN, b, PRIORS.ringMs);
    const su = survival(this.unanswered, this.unansweredN, b, 20_000);
    const a = p * sa;
    const u = (1 - p) * su;
    return a + u > 0 ? a / (a + u) : 0;
  }
}

const RING_BUCKETS = 130;

/** Share of calls still ringing at bucket `b`; before any is measured, an exponential of mean `priorMs`. */
function survival(hist: number[], n: number, b: number, priorMs: number): number {
  const prior = Math.exp(-(b * 1000) / priorMs);
  let later = 0;
  for (let i = b; i < hist.length; i++) later += hist[i];
  const w = 10;
  return (later + prior * w) / (n + w);
}

/**
 * The dial level of a predictive campaign, recomputed (`recompute`, at least every 15 s) from the
 * windows. `allowance` answers, on every pump, how many new calls may start.
 */
export class PredictiveController {
  readonly windows = new RollingWindows();
  readonly ring = new RingProfile();
  private gain = GAIN.initial;
  private state: PredictiveState;

  constructor(
    private settings: PredictiveSettings,
    now: number,
  ) {
    this.state = {
      phase: 'warm_up',
      gain: this.gain,
      answerRate: PRIORS.answerRate,
      ringMs: PRIORS.ringMs,
      handleMs: PRIORS.handleMs,
      aimRate: settings.abandonTargetPercent / 100,
      recomputedAt: now,
    };
  }

  configure(settings: PredictiveSettings): void {
    this.settings = settings;
  }

  get current(): PredictiveState {
    return this.state;
  }

  /** An attempt ended: the windows and the ring profile learn from it. */
  attemptEnded(now: number, call: { answered: boolean; abandoned: boolean; ringMs: number }): void {
    this.windows.attemptEnded(now, call);
    this.ring.record(call.answered, call.ringMs);
  }

  /** Estimates blended with the priors; the 15-minute window follows drift, the priors tame the start. */
  private estimates(now: number) {
    const w = this.windows.totals('fifteenMinutes', now);
    const answerRate = clamp((w.answers + PRIORS.answerRate * PRIORS.answerWeight) / (w.attempts + PRIORS.answerWeight), 0.02, 1);
    const ringMs = (w.ringMs + PRIORS.ringMs * PRIORS.ringWeight) / (w.answers + PRIORS.ringWeight);
    // Little's law (busy agent-time ÷ calls handled) rather than the mean of the handles seen: the
    // first handles to end are the short ones, and their mean alone would overshoot the dial level.
    const measured = w.handles ? Math.max(w.busyMs, w.handleMs) : 0;
    const handleMs = (measured + PRIORS.handleMs * PRIORS.handleWeight) / (w.handles + PRIORS.handleWeight);
    return { answerRate, ringMs, handleMs };
  }

  recompute(now: number): PredictiveState {
    const target = this.settings.abandonTargetPercent / 100;
    const rate = (t: WindowTotals) => (t.answers >= MIN_ANSWERS ? t.abandons / t.answers : undefined);
    const one = this.windows.totals('oneMinute', now);
    const r1 = rate(one);
    const r15 = rate(this.windows.totals('fifteenMinutes', now));
    const life = this.windows.totals('lifetime', now);
    const rLife = rate(life);
    // TAPERED: while the whole run is over target, steer below it so the campaign's rate comes back.
    const aimRate = rLife !== undefined && rLife > target ? Math.max(target / 2, 2 * target - rLife) : target;

    let phase: PredictivePhase = life.answers < WARM_UP_ANSWERS ? 'warm_up' : 'adaptive';
    // HARD_LIMIT on a short-window breach; lifted as soon as the last minute is back under target,
    // so an early overshoot never pins the campaign at 1:1 for the rest of its life.
    const wasLimited = this.state.phase === 'hard_limit';
    // While too few answers make a window's rate, the campaign's own count decides: a small campaign
    // (a few agents, a short list) must not overshoot the target while it learns.
    const warmUpOverBudget = life.answers < WARM_UP_ANSWERS && life.abandons > target * life.answers;
    if (warmUpOverBudget || (r1 !== undefined && (r1 > 2 * target || (r1 > target && r15 !== undefined && r15 > target)))) phase = 'hard_limit';
    else if (wasLimited && (r1 === undefined || r1 > target)) phase = 'hard_limit';

    // AVERAGE: the gain follows the freshest measured rate.
    // Steps proportional to the miss, small near the aim: big ones make the level swing, and each
    // swing down leaves agents idle.
    const observed = r1 ?? r15;
    if (observed !== undefined && observed > aimRate) this.gain *= Math.max(0.85, 1 - 0.5 * (observed / aimRate - 1) * 0.2);
    else if (phase !== 'warm_up' && one.answers > 0) this.gain *= 1 + 0.03 * (1 - (observed ?? 0) / aimRate);
    this.gain = clamp(this.gain, GAIN.min, GAIN.max);
    this.state = { phase, gain: this.gain, ...this.estimates(now), aimRate, recomputedAt: now };
    return this.state;
  }

  /**
   * New calls that may start now. Answers wanted = the agents free now plus those expected to free
   * within a ring time (a busy agent frees within t with probability 1 − e^(−t/handle)), times the
   * gain; the calls already ringing bring their own chance of an answer, by how long they have
   * rung; each new call brings the answer rate. Hard limit: progressive 1:1. Never more calls not
   * yet connected than maxDialLevel × active agents (VICIdial's dial level cap).
   */
  allowance(supply: AgentSupply, ringing: RingingAges): number {
    const active = supply.available + supply.onCall + supply.wrapUp;
    if (supply.loggedIn <= 0 || active <= 0) return 0;
    const { phase, gain, ringMs, handleMs, answerRate } = this.state;
    if (phase === 'hard_limit') return Math.max(0, progressiveTarget(supply.available, 1) - ringing.length);
    const busy = supply.onCall + supply.wrapUp;
    const expectedFree = supply.available + busy * (1 - Math.exp(-ringMs / handleMs));
    let coming = 0;
    for (const age of ringing) coming += this.ring.answerChance(age, answerRate);
    const wanted = Math.round((gain * expectedFree - coming) / answerRate);
    const lines = Math.floor(this.settings.maxDialLevel * active) - ringing.length;
    return Math.max(0, Math.min(wanted, lines));
  }
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
