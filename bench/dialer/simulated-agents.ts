// Agents for bench/dialer/agents.ts, until the dialer connects calls to agents itself: a loop that
// watches the simulator's channels (GET /ari/channels, as any ARI client may), gives each answered
// customer an agent through the same agent ledger the dialer uses (reserveAgent), hangs the call
// up after a random talk time (DELETE /ari/channels/{id}), and makes the agent ready after a random
// after-call work. A customer without an agent after `abandonAfterMs` is hung up: abandoned.
import type { Kysely } from 'kysely';
import { changeAgentState, releaseAgent, reserveAgent } from '../../src/db/agents';
import type { Database } from '../../src/db/schema';

export interface AgentSimOptions {
  ariUrl: string;
  auth: string;
  talkMs: [number, number];
  wrapUpMs: [number, number];
  abandonAfterMs: number;
  everyMs?: number;
}

export interface CampaignFigures {
  connected: number;
  abandoned: number;
  /** Answer seen → agent reserved, of connected calls (ms). */
  waits: number[];
  /** [start, end] of each agent's handle (reserved → ready), ms on the bench clock. */
  handles: [number, number][];
}

interface Waiting {
  campaignId: string;
  answeredAt: number;
  trying: boolean;
  triedAt: number;
}

const between = ([a, b]: [number, number]) => a + Math.random() * (b - a);

export class SimulatedAgents {
  private readonly waiting = new Map<string, Waiting>();
  private readonly done = new Set<string>();
  readonly figures = new Map<string, CampaignFigures>();
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly tenantId: string,
    private readonly options: AgentSimOptions,
  ) {}

  figuresOf(campaignId: string): CampaignFigures {
    let f = this.figures.get(campaignId);
    if (!f) this.figures.set(campaignId, (f = { connected: 0, abandoned: 0, waits: [], handles: [] }));
    return f;
  }

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        await this.tick().catch((e) => console.error('[agents]', e));
        await new Promise((r) => setTimeout(r, this.options.everyMs ?? 50));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async tick(): Promise<void> {
    const res = await fetch(`${this.options.ariUrl}/ari/channels`, { headers: { authorization: this.options.auth } });
    const channels = (await res.json()) as { id: string; state: string }[];
    const now = performance.now();
    for (const c of channels) {
      if (c.state !== 'Up' || this.done.has(c.id) || this.waiting.has(c.id)) continue;
      this.waiting.set(c.id, { campaignId: c.id.split(':')[1], answeredAt: now, trying: false, triedAt: 0 });
    }
    // A waiting customer asks for an agent every 100 ms at most (each ask is a transaction).
    for (const [key, w] of this.waiting) if (!w.trying && now - w.triedAt >= 100) void this.tryConnect(key, w);
  }

  private async tryConnect(key: string, w: Waiting): Promise<void> {
    w.trying = true;
    w.triedAt = performance.now();
    try {
      const reservation = await reserveAgent(this.db, { campaignId: w.campaignId, callKey: key });
      const f = this.figuresOf(w.campaignId);
      const now = performance.now();
      if (reservation) {
        this.finish(key);
        f.connected++;
        f.waits.push(now - w.answeredAt);
        void this.talk(key, reservation.agentId, now, f);
      } else if (now - w.answeredAt >= this.options.abandonAfterMs) {
        this.finish(key);
        f.abandoned++;
        await this.hangup(key);
      }
    } finally {
      w.trying = false;
    }
  }

  private finish(key: string): void {
    this.waiting.delete(key);
    this.done.add(key);
  }

  private async talk(key: string, agentId: string, from: number, f: CampaignFigures): Promise<void> {
    await new Promise((r) => setTimeout(r, between(this.options.talkMs)));
    await this.hangup(key);
    await releaseAgent(this.db, { callKey: key });
    await new Promise((r) => setTimeout(r, between(this.options.wrapUpMs)));
    await changeAgentState(this.db, { tenantId: this.tenantId, agentId, command: 'ready', by: 'agent', actorUserId: null });
    f.handles.push([from, performance.now()]);
  }

  private async hangup(key: string): Promise<void> {
    await fetch(`${this.options.ariUrl}/ari/channels/${encodeURIComponent(key)}`, { method: 'DELETE', headers: { authorization: this.options.auth } });
  }
}
