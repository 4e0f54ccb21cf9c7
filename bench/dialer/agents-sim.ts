// bench/dialer/agents-sim.ts: the agents bench's contact centre simulated in process, in simulated
// time, around the real PredictiveController (src/domain/dialer/pacing.ts) — seconds per run
// instead of the bench's quarter hour, so pacing changes can be weighed over many seeds first.
// The same shape as bench/dialer/agents.ts: 50 agents, 35% answers, ring 1–6 s, agents answer in
// 20–60 ms and talk 2–10 s, wrap-up 3 s, a customer without an agent for 2 s is abandoned (the
// message takes 2.5 s), 60 calls/s, 300 channels, 10,000 contacts; the lane's ways too: agents
// polled every 500 ms, a waiting customer retries the reservation every 100 ms, an attempt is
// learnt at its end (an answered one after its talk), handles at the next poll.
//   npx tsx bench/dialer/agents-sim.ts [seeds=5,11,23,31,47,59]
// Prints per pacing (progressive 1:1; predictive from counts; predictive time-resolved; the latter
// with service-level brakes): occupancy, abandon, answer → bridged avg / p99, share waiting > 300 ms.
import { PredictiveController, progressiveTarget, type AgentSupply, type BusyAgents, type PredictiveSettings } from '../../src/domain/dialer/pacing';
import { percentile } from './report';

const AGENTS = 50;
const WRAP_UP_MS = 3000;
const STEP_MS = 20;

interface Pacing {
  name: string;
  mode: 'progressive' | 'predictive';
  timeResolved?: boolean;
  serviceLevel?: PredictiveSettings['serviceLevel'];
}

interface Agent {
  state: 'available' | 'on_call' | 'wrap_up';
  since: number;
  until: number;
  talkEnd: number;
  freeSince: number;
}

interface Call {
  placedAt: number;
  ringMs: number;
  answers: boolean;
  state: 'ringing' | 'waiting' | 'bridged' | 'abandoning';
  answeredAt: number;
  nextTry: number;
  agent: number;
  endAt: number;
}

/** One run: the contact centre stepped every STEP_MS of simulated time. */
class Simulation {
  private state: number;
  private readonly agents: Agent[] = Array.from({ length: AGENTS }, () => ({ state: 'available', since: 0, until: 0, talkEnd: 0, freeSince: 0 }));
  private readonly calls = new Set<Call>();
  private readonly c: PredictiveController;
  private readonly waits: number[] = [];
  private readonly handles: { talkMs: number; handleMs: number }[] = [];
  private supply: AgentSupply = { loggedIn: AGENTS, available: AGENTS, onCall: 0, wrapUp: 0 };
  private busy: BusyAgents = { wrapUpLeftMs: [], onCallMs: [], wrapUpMs: WRAP_UP_MS };
  private placed = 0;
  private answered = 0;
  private abandons = 0;
  private tokens = 0;
  private polledAt = -1000;

  constructor(
    private readonly pacing: Pacing,
    seed: number,
    private readonly contacts = 10_000,
  ) {
    this.state = seed;
    this.c = new PredictiveController({ abandonTargetPercent: 3, maxDialLevel: 3, serviceLevel: pacing.serviceLevel }, 0);
  }

  run() {
    let busyMs = 0;
    let dialledAt = 0;
    for (let now = 0; !dialledAt || this.calls.size > 0; now += STEP_MS) {
      this.agentsAt(now);
      for (const call of [...this.calls]) this.callAt(call, now);
      if (!dialledAt) busyMs += this.agents.filter((a) => !this.free(a, now)).length * STEP_MS;
      if (now - this.polledAt >= 500) this.poll(now);
      this.tokens = Math.min(60, this.tokens + (60 * STEP_MS) / 1000);
      if (this.placed < this.contacts) this.dial(now);
      else if (!dialledAt) dialledAt = now;
    }
    const waits = this.waits;
    return {
      seconds: dialledAt / 1000,
      occupancy: busyMs / (AGENTS * dialledAt),
      abandon: this.abandons / this.answered,
      avgWait: waits.reduce((a, b) => a + b, 0) / waits.length,
      p99Wait: percentile(waits, 0.99),
      slowShare: waits.filter((w) => w > 300).length / waits.length,
    };
  }

  private random(): number {
    this.state = (this.state * 1103515245 + 12345) % 2 ** 31;
    return this.state / 2 ** 31;
  }

  private between(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  private free(a: Agent, now: number): boolean {
    return a.state === 'available' || (a.state === 'wrap_up' && a.until <= now);
  }

  private agentsAt(now: number): void {
    for (const a of this.agents)
      if (a.state === 'wrap_up' && a.until <= now) {
        this.handles.push({ talkMs: a.talkEnd - a.since, handleMs: a.until - a.since });
        a.state = 'available';
        a.freeSince = a.until;
      }
  }

  private callAt(call: Call, now: number): void {
    const outcome = this.step(call, now);
    if (!outcome) return;
    this.calls.delete(call);
    if (outcome !== 'no_answer') this.answered++;
    if (outcome === 'abandoned') this.abandons++;
    this.c.attemptEnded(now, { answered: outcome !== 'no_answer', abandoned: outcome === 'abandoned', ringMs: call.ringMs });
  }

  private step(call: Call, now: number): 'no_answer' | 'answered' | 'abandoned' | undefined {
    if (call.state === 'ringing' && now - call.placedAt >= call.ringMs) {
      if (!call.answers) return 'no_answer';
      Object.assign(call, { state: 'waiting', answeredAt: now, nextTry: now + 10 });
    }
    if (call.state === 'waiting' && now >= call.nextTry) this.reserve(call, now);
    if (call.state === 'bridged' && this.agents[call.agent].talkEnd <= now) {
      Object.assign(this.agents[call.agent], { state: 'wrap_up', until: now + WRAP_UP_MS });
      return 'answered';
    }
    if (call.state === 'abandoning' && now >= call.endAt) return 'abandoned';
    return undefined;
  }

  /** The agent idle longest, else another try in 100 ms, else (2 s after the answer) the abandon message. */
  private reserve(call: Call, now: number): void {
    const agent = this.agents
      .map((a, i) => ({ a, i }))
      .filter(({ a }) => this.free(a, now))
      .sort((x, y) => x.a.freeSince - y.a.freeSince)[0];
    if (agent) {
      Object.assign(agent.a, { state: 'on_call', since: now });
      const bridgedAt = now + this.between(20, 60) + 10;
      agent.a.talkEnd = bridgedAt + this.between(2000, 10_000) + 10;
      Object.assign(call, { state: 'bridged', agent: agent.i });
      this.waits.push(bridgedAt - call.answeredAt);
      this.c.bridged(now, bridgedAt - call.answeredAt);
    } else if (now - call.answeredAt >= 2000) Object.assign(call, { state: 'abandoning', endAt: now + 2500 });
    else call.nextTry = now + 100;
  }

  private poll(now: number): void {
    this.c.windows.exposure(now, now - this.polledAt, this.supply);
    this.polledAt = now;
    for (const h of this.handles.splice(0)) this.c.handled(now, h);
    const onCall = this.agents.filter((a) => a.state === 'on_call');
    const wrapUp = this.agents.filter((a) => a.state === 'wrap_up' && a.until > now);
    this.supply = { loggedIn: AGENTS, available: AGENTS - onCall.length - wrapUp.length, onCall: onCall.length, wrapUp: wrapUp.length };
    this.busy = { wrapUpLeftMs: wrapUp.map((a) => a.until - now), onCallMs: onCall.map((a) => now - a.since), wrapUpMs: WRAP_UP_MS };
    if (now - this.c.current.recomputedAt >= 5000) this.c.recompute(now, this.supply.onCall);
  }

  private dial(now: number): void {
    const unconnected = this.calls.size - this.supply.onCall;
    const ages = [...this.calls]
      .map((x) => now - x.placedAt)
      .sort((x, y) => x - y)
      .slice(0, Math.max(0, unconnected));
    while (ages.length < unconnected) ages.unshift(0);
    const since = now - this.polledAt;
    const busy = { wrapUpLeftMs: this.busy.wrapUpLeftMs.map((ms) => ms - since), onCallMs: this.busy.onCallMs.map((ms) => ms + since), wrapUpMs: WRAP_UP_MS };
    const allowance =
      this.pacing.mode === 'progressive'
        ? progressiveTarget(this.supply.available, 1) - ages.length
        : this.c.allowance(this.supply, ages, this.pacing.timeResolved ? busy : undefined);
    for (let n = Math.min(allowance, Math.floor(this.tokens), 300 - this.calls.size, this.contacts - this.placed); n > 0; n--) {
      this.tokens--;
      this.placed++;
      const ringMs = this.between(1000, 6000);
      const answers = this.random() < 0.35;
      this.calls.add({ placedAt: now + 5, ringMs, answers, state: 'ringing', answeredAt: 0, nextTry: 0, agent: -1, endAt: 0 });
    }
  }
}

const simulate = (pacing: Pacing, seed: number) => new Simulation(pacing, seed).run();

const seeds = (process.argv[2] ?? '5,11,23,31,47,59').split(',').map(Number);
const pacings: Pacing[] = [
  { name: 'progressive 1:1', mode: 'progressive' },
  { name: 'predictive, supply from counts', mode: 'predictive' },
  { name: 'predictive, time-resolved', mode: 'predictive', timeResolved: true },
  ...[10, 5, 2, 1].map((share) => ({
    name: `  + brake ${share}% > 300 ms`,
    mode: 'predictive' as const,
    timeResolved: true,
    serviceLevel: { waitMs: 300, maxSharePercent: share },
  })),
];
for (const pacing of pacings) {
  const runs = seeds.map((seed) => simulate(pacing, seed));
  const mean = (f: (r: (typeof runs)[number]) => number) => runs.reduce((sum, r) => sum + f(r), 0) / runs.length;
  const range = (f: (r: (typeof runs)[number]) => number, scale: number, digits: number) =>
    `${(Math.min(...runs.map(f)) * scale).toFixed(digits)}–${(Math.max(...runs.map(f)) * scale).toFixed(digits)}`;
  console.log(
    `${pacing.name.padEnd(31)} occupancy ${(mean((r) => r.occupancy) * 100).toFixed(1)}% (${range((r) => r.occupancy, 100, 1)}), ` +
      `abandon ${(mean((r) => r.abandon) * 100).toFixed(2)}% (max ${(Math.max(...runs.map((r) => r.abandon)) * 100).toFixed(2)}), ` +
      `answer → bridged avg ${mean((r) => r.avgWait).toFixed(0)} ms p99 ${mean((r) => r.p99Wait).toFixed(0)} ms (${range((r) => r.p99Wait, 1, 0)}), ` +
      `> 300 ms ${(mean((r) => r.slowShare) * 100).toFixed(1)}%, ${mean((r) => r.seconds).toFixed(0)} s`,
  );
}
