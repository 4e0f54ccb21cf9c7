/**
 * Pacing by agents (pure: the pacers in src/activities/dialer/pacers.ts feed it, the monitor reads
 * what it wrote). Two modes besides `power`:
 *
 * - progressive: calls not yet connected to an agent = available agents × ratio.
 * - predictive: a time-resolved estimate of the agents free when a call placed now is answered
 *   (agents in wrap-up at their known end, agents on a call by the residual of the measured talk
 *   times given how long they have talked), divided by the answer rate, times a gain the abandon
 *   rate steers (VICIdial's ADAPT_AVERAGE / TAPERED, Genesys' abandon-rate target), with
 *   ADAPT_HARD_LIMIT's fall-back to 1:1.
 */

export interface AgentSupply {
  loggedIn: number;
  available: number;
  /** On a call of this campaign. */
  onCall: number;
  /** In after-call work of a call of this campaign. */
  wrapUp: number;
}

/**
 * The campaign's busy agents one by one: when each is expected to be free. Without it the
 * controller falls back to counts (an exponential handle time).
 */
export interface BusyAgents {
  /** Agents in after-call work of this campaign: milliseconds left (their wrap-up end is stored). */
  wrapUpLeftMs: readonly number[];
  /** Agents on a call of this campaign: milliseconds since the call reached them. */
  onCallMs: readonly number[];
  /** The after-call work that follows a call (the campaign's wrap-up). */
  wrapUpMs: number;
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
  /** Calls bridged to an agent, and those whose customer waited longer than the service level. */
  bridged: number;
  slowBridged: number;
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
  bridged: 0,
  slowBridged: 0,
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

  /** A call bridged to an agent after its customer waited `waitMs` from the answer. */
  bridged(now: number, waitMs: number, serviceLevelMs: number): void {
    this.record(now, { bridged: 1, slowBridged: waitMs > serviceLevelMs ? 1 : 0 });
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
  /**
   * Optional service-level brake (off when absent): the gain also falls while more than
   * `maxSharePercent` of the last minute's bridged calls waited longer than `waitMs` for an agent.
   */
  serviceLevel?: { waitMs: number; maxSharePercent: number };
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
  /** Talk (the call reaching the agent → released), before the campaign has measured it. */
  talkMs: 60_000,
  talkWeight: 10,
};

/** Answers before the gain may grow (warm-up), and answers a window needs before its abandon rate counts. */
const WARM_UP_ANSWERS = 30;
const MIN_ANSWERS = 15;
/** Bridged calls the last minute needs before its service level counts. */
const MIN_BRIDGED = 20;
const GAIN = { initial: 0.8, min: 0.3, max: 1.5 };
/**
 * Gain steps per recompute (5 s): up by at most `up` (in proportion to the room under the aim), down
 * by `down` per unit of miss, never below `floor` at once. Small: the abandons of a step are known
 * only seconds later (at the calls' end) and the last minute averages them, so bigger steps
 * overshoot, then fall to 1:1 (with the earlier +3% / −15%, bench/dialer/agents-sim.ts swung 50–98% occupancy).
 */
const STEP = { up: 0.01, down: 0.03, floor: 0.95 };
/** The share of the abandon target the gain aims at. */
const AIM_SHARE = 0.8;

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

  /** When an answered call is answered, measured from its originate: each 1-s bucket's middle and its share. */
  answerTimes(): readonly AnswerTime[] {
    if (this.answerTimesCache && this.answerTimesCache.n === this.answeredN) return this.answerTimesCache.times;
    const times: AnswerTime[] = [];
    let above = survival(this.answered, this.answeredN, 0, PRIORS.ringMs);
    for (let b = 0; b < RING_BUCKETS; b++) {
      const next = b + 1 < RING_BUCKETS ? survival(this.answered, this.answeredN, b + 1, PRIORS.ringMs) : 0;
      if (above - next > 1e-4) times.push({ ms: (b + 0.5) * 1000, p: above - next });
      above = next;
    }
    const total = times.reduce((sum, t) => sum + t.p, 0);
    for (const t of times) t.p /= total;
    this.answerTimesCache = { n: this.answeredN, times };
    return times;
  }

  private answerTimesCache: { n: number; times: AnswerTime[] } | undefined;
}

export interface AnswerTime {
  ms: number;
  p: number;
}

/**
 * How long agents talk (the call reaching them → released), in 500-ms buckets over the run: the
 * chance that an agent who has talked `talkedMs` is done within `withinMs` more. An agent still
 * talking past every measured call is judged by the prior's long tail, so the first (short)
 * calls to end never make the long ones look about to end.
 */
export class TalkProfile {
  private readonly counts = new Array<number>(TALK_BUCKETS).fill(0);
  private n = 0;
  /** `tail[b]`: calls that talked at least bucket b (rebuilt when a call was added). */
  private tail: number[] | undefined;

  record(talkMs: number): void {
    this.counts[Math.min(TALK_BUCKETS - 1, Math.max(0, Math.floor(talkMs / TALK_BUCKET_MS)))]++;
    this.n++;
    this.tail = undefined;
  }

  get measured(): number {
    return this.n;
  }

  /** P(done within `withinMs` | still talking after `talkedMs`). */
  doneWithin(talkedMs: number, withinMs: number): number {
    if (withinMs <= 0) return 0;
    const from = this.survival(talkedMs);
    return from > 0 ? clamp(1 - this.survival(talkedMs + withinMs) / from, 0, 1) : 1;
  }

  private survival(ms: number): number {
    if (!this.tail) {
      this.tail = new Array<number>(TALK_BUCKETS + 1).fill(0);
      for (let b = TALK_BUCKETS - 1; b >= 0; b--) this.tail[b] = this.tail[b + 1] + this.counts[b];
    }
    const b = Math.min(TALK_BUCKETS, Math.max(0, Math.floor(ms / TALK_BUCKET_MS)));
    return (this.tail[b] + Math.exp(-ms / PRIORS.talkMs) * PRIORS.talkWeight) / (this.n + PRIORS.talkWeight);
  }
}

const TALK_BUCKET_MS = 500;
/** 30 minutes; longer calls share the last bucket. */
const TALK_BUCKETS = 3_600;

/**
 * Agents expected free for a call placed now, when it is answered (its answer time drawn from
 * `answerTimes`): the available ones, those in wrap-up whose known end comes before the answer,
 * and those on a call by the chance their talk (then their wrap-up) is over by then.
 */
export function expectedFreeAgents(available: number, busy: BusyAgents, answerTimes: readonly AnswerTime[], talk: TalkProfile): number {
  let free = Math.max(0, available);
  for (const left of busy.wrapUpLeftMs) for (const t of answerTimes) if (t.ms >= left) free += t.p;
  for (const talked of busy.onCallMs) for (const t of answerTimes) free += t.p * talk.doneWithin(talked, t.ms - busy.wrapUpMs);
  return free;
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
  readonly talk = new TalkProfile();
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

  /** An agent finished a call (talk + after-call work): the windows and the talk profile learn from it. */
  handled(now: number, h: { talkMs: number; handleMs: number }): void {
    this.windows.handled(now, h);
    this.talk.record(h.talkMs);
  }

  /** A call was bridged after its customer waited `waitMs`: what the service-level brake reads. */
  bridged(now: number, waitMs: number): void {
    this.windows.bridged(now, waitMs, this.settings.serviceLevel?.waitMs ?? Number.POSITIVE_INFINITY);
  }

  /**
   * Estimates blended with the priors; the 15-minute window follows drift, the priors tame the start.
   * `connected`: answered calls still talking to an agent. An attempt is counted when it ends, and an
   * answered one ends a whole talk later than an unanswered one: without them the answer rate reads
   * low while the campaign starts (the unanswered calls are in, the answered still talking) and the
   * campaign dials too many.
   */
  private estimates(now: number, connected: number) {
    const w = this.windows.totals('fifteenMinutes', now);
    const answers = w.answers + connected;
    const attempts = w.attempts + connected;
    const answerRate = clamp((answers + PRIORS.answerRate * PRIORS.answerWeight) / (attempts + PRIORS.answerWeight), 0.02, 1);
    const ringMs = (w.ringMs + PRIORS.ringMs * PRIORS.ringWeight) / (w.answers + PRIORS.ringWeight);
    // Little's law (busy agent-time ÷ calls handled) rather than the mean of the handles seen: the
    // first handles to end are the short ones, and their mean alone would overshoot the dial level.
    const measured = w.handles ? Math.max(w.busyMs, w.handleMs) : 0;
    const handleMs = (measured + PRIORS.handleMs * PRIORS.handleWeight) / (w.handles + PRIORS.handleWeight);
    return { answerRate, ringMs, handleMs };
  }

  /** `connected`: the campaign's agents on a call now (answered calls whose attempt has not ended yet). */
  recompute(now: number, connected = 0): PredictiveState {
    const target = this.settings.abandonTargetPercent / 100;
    const rate = (t: WindowTotals) => (t.answers >= MIN_ANSWERS ? t.abandons / t.answers : undefined);
    const one = this.windows.totals('oneMinute', now);
    const r1 = rate(one);
    const r15 = rate(this.windows.totals('fifteenMinutes', now));
    const life = this.windows.totals('lifetime', now);
    const rLife = rate(life);
    // TAPERED: while the whole run is over target, steer below it so the campaign's rate comes back.
    // The gain steers to a share of the target: the last minute's rate is noisy (a few hundred
    // answers), and every burst over the target sends the campaign to 1:1 for a minute.
    const aim = target * AIM_SHARE;
    const aimRate = rLife !== undefined && rLife > aim ? Math.max(aim / 2, 2 * aim - rLife) : aim;

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
    // swing down leaves agents idle. The service-level brake (when set) is a second miss, the worse one steers.
    const observed = r1 ?? r15;
    const miss = Math.max(observed !== undefined ? observed / aimRate : 0, this.serviceLevelMiss(one));
    if (miss > 1) this.gain *= Math.max(STEP.floor, 1 - STEP.down * (miss - 1));
    else if (phase !== 'warm_up' && one.answers > 0) this.gain *= 1 + STEP.up * (1 - miss);
    this.gain = clamp(this.gain, GAIN.min, GAIN.max);
    this.state = { phase, gain: this.gain, ...this.estimates(now, Math.max(0, connected)), aimRate, recomputedAt: now };
    return this.state;
  }

  /** Last minute's share of bridged calls over the service level's wait ÷ the share allowed (0 when off). */
  private serviceLevelMiss(one: WindowTotals): number {
    const sl = this.settings.serviceLevel;
    if (!sl || one.bridged < MIN_BRIDGED) return 0;
    const share = one.slowBridged / one.bridged;
    return sl.maxSharePercent > 0 ? share / (sl.maxSharePercent / 100) : share > 0 ? 2 : 0;
  }

  /**
   * New calls that may start now. Answers wanted = the agents expected free when a call placed now
   * is answered, times the gain: with `busy`, time-resolved (expectedFreeAgents); without it, from
   * counts (a busy agent frees within a ring time t with probability 1 − e^(−t/handle)). The calls
   * already ringing bring their own chance of an answer, by how long they have rung; each new call
   * brings the answer rate. Hard limit: progressive 1:1. Never more calls not yet connected than
   * maxDialLevel × active agents (VICIdial's dial level cap).
   */
  allowance(supply: AgentSupply, ringing: RingingAges, busy?: BusyAgents): number {
    const active = supply.available + supply.onCall + supply.wrapUp;
    if (supply.loggedIn <= 0 || active <= 0) return 0;
    const { phase, gain, ringMs, handleMs, answerRate } = this.state;
    if (phase === 'hard_limit') return Math.max(0, progressiveTarget(supply.available, 1) - ringing.length);
    const expectedFree = busy
      ? expectedFreeAgents(supply.available, busy, this.ring.answerTimes(), this.talk)
      : supply.available + (supply.onCall + supply.wrapUp) * (1 - Math.exp(-ringMs / handleMs));
    let coming = 0;
    for (const age of ringing) coming += this.ring.answerChance(age, answerRate);
    const wanted = Math.round((gain * expectedFree - coming) / answerRate);
    const lines = Math.floor(this.settings.maxDialLevel * active) - ringing.length;
    return Math.max(0, Math.min(wanted, lines));
  }
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
