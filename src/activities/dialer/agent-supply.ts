import { sql, type Kysely } from 'kysely';
import { campaignAgentIds } from '../../db/agents';
import type { Database } from '../../db/schema';
import type { AgentSupply, BusyAgents } from '../../domain/dialer/pacing';

/** One poll of a campaign's agents: what the agent pacers pace by and learn from. */
export interface SupplyTick {
  at: number;
  supply: AgentSupply;
  /** The busy agents one by one (wrap-up left, time on the call), as of `at`. */
  busy: BusyAgents;
  /** Calls of the campaign whose agent finished (talk + after-call work) since the last poll. */
  handles: { talkMs: number; handleMs: number }[];
  /** Of the answered calls asked about, those no agent ever took (abandoned). */
  abandoned: string[];
  /** Of the answered calls asked about, the customer's wait (answer → bridged) of those bridged; only when asked for (`withWaits`). */
  waits: number[];
}

/**
 * Polls a campaign's agents every `everyMs` (three indexed queries: the counts and busy times over
 * the campaign's agents, their after-call work that ended, and the agent ledger of the answered
 * calls it is asked about; a fourth for those calls' waits when `withWaits`). Polls never overlap; a failed poll keeps the last answer and the pacer's staleness check
 * stops dialing if it lasts.
 */
export class AgentSupplyPoller {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private tenantId: string | undefined;
  private agentIds: string[] = [];
  private agentIdsAt = 0;
  private eventCursor = 0;
  private wrapUpMs = 0;
  private readonly asked: string[] = [];
  /** The service-level brake reads the waits of the bridged calls. */
  withWaits = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly campaignId: string,
    private readonly onTick: (tick: SupplyTick) => void,
    private readonly everyMs = 500,
  ) {}

  start(): void {
    void this.loop();
  }

  /** An answered call ended: the next poll says whether an agent took it. */
  askConnected(callKey: string): void {
    this.asked.push(callKey);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async loop(): Promise<void> {
    if (this.closed) return;
    try {
      this.onTick(await this.poll());
    } catch {
      // Kept quiet: the pacer stops dialing once its supply is stale, and the next poll retries.
    }
    if (!this.closed) this.timer = setTimeout(() => void this.loop(), this.everyMs);
  }

  async poll(): Promise<SupplyTick> {
    const at = performance.now();
    if (!this.tenantId) {
      const row = await this.db.selectFrom('dialer_campaigns').select('tenant_id').where('id', '=', this.campaignId).executeTakeFirstOrThrow();
      this.tenantId = row.tenant_id;
      // Only after-call work that ends from now on is this run's to learn from.
      const last = await this.db.selectFrom('agent_state_events').select(sql<string>`coalesce(max(id), 0)`.as('id')).executeTakeFirstOrThrow();
      this.eventCursor = Number(last.id);
    }
    if (at - this.agentIdsAt > 10_000) {
      this.agentIds = (await campaignAgentIds(this.db, [this.campaignId])).get(this.campaignId) ?? [];
      const campaign = await this.db.selectFrom('dialer_campaigns').select('wrap_up_seconds').where('id', '=', this.campaignId).executeTakeFirst();
      this.wrapUpMs = (campaign?.wrap_up_seconds ?? 0) * 1000;
      this.agentIdsAt = at;
    }
    const { supply, busy } = await this.counts();
    const handles = await this.handles();
    const { abandoned, waits } = await this.answered();
    return { at, supply, busy, handles, abandoned, waits };
  }

  private async counts(): Promise<{ supply: AgentSupply; busy: BusyAgents }> {
    const c = this.campaignId;
    const { rows } = await sql<AgentSupply & { wrapUpLeftMs: number[]; onCallMs: number[] }>`
      SELECT count(*) FILTER (WHERE s.state <> 'offline')::int AS "loggedIn",
        count(*) FILTER (WHERE s.state = 'available' OR (s.state = 'wrap_up' AND s.wrap_up_until <= now()))::int AS available,
        count(*) FILTER (WHERE s.state = 'on_call' AND s.campaign_id = ${c})::int AS "onCall",
        count(*) FILTER (WHERE s.state = 'wrap_up' AND s.wrap_up_until > now() AND s.campaign_id = ${c})::int AS "wrapUp",
        coalesce(array_agg((EXTRACT(epoch FROM s.wrap_up_until - now()) * 1000)::float8)
          FILTER (WHERE s.state = 'wrap_up' AND s.wrap_up_until > now() AND s.campaign_id = ${c}), '{}') AS "wrapUpLeftMs",
        coalesce(array_agg((EXTRACT(epoch FROM now() - s.since) * 1000)::float8)
          FILTER (WHERE s.state = 'on_call' AND s.campaign_id = ${c}), '{}') AS "onCallMs"
      FROM dialer_campaign_agents ca JOIN agent_states s ON s.agent_id = ca.agent_id
      WHERE ca.campaign_id = ${c}`.execute(this.db);
    const { wrapUpLeftMs, onCallMs, ...supply } = rows[0];
    return { supply, busy: { wrapUpLeftMs: wrapUpLeftMs.map(Number), onCallMs: onCallMs.map(Number), wrapUpMs: this.wrapUpMs } };
  }

  /** After-call work of this campaign's calls that ended (or a call that went straight back to available). */
  private async handles(): Promise<SupplyTick['handles']> {
    if (this.agentIds.length === 0) return [];
    const { rows } = await sql<{ id: string; talk_ms: number | null; handle_ms: number | null }>`
      SELECT e.id,
        (EXTRACT(epoch FROM c.released_at - c.reserved_at) * 1000)::float8 AS talk_ms,
        (EXTRACT(epoch FROM e.at - c.reserved_at) * 1000)::float8 AS handle_ms
      FROM agent_state_events e
      LEFT JOIN LATERAL (
        SELECT reserved_at, released_at FROM agent_calls
        WHERE tenant_id = e.tenant_id AND agent_id = e.agent_id AND campaign_id = ${this.campaignId} AND reserved_at <= e.at
        ORDER BY reserved_at DESC LIMIT 1
      ) c ON TRUE
      WHERE e.tenant_id = ${this.tenantId} AND e.agent_id = ANY(${this.agentIds}::uuid[])
        AND e.at > now() - interval '15 minutes' AND e.id > ${this.eventCursor}
        AND e.campaign_id = ${this.campaignId}
        AND (e.from_state = 'wrap_up' OR (e.from_state = 'on_call' AND e.to_state <> 'wrap_up'))
      ORDER BY e.id`.execute(this.db);
    for (const r of rows) this.eventCursor = Math.max(this.eventCursor, Number(r.id));
    return rows.filter((r) => r.talk_ms !== null && r.handle_ms !== null).map((r) => ({ talkMs: r.talk_ms!, handleMs: r.handle_ms! }));
  }

  private async answered(): Promise<Pick<SupplyTick, 'abandoned' | 'waits'>> {
    if (this.asked.length === 0) return { abandoned: [], waits: [] };
    const keys = this.asked.splice(0, this.asked.length);
    const taken = await this.db.selectFrom('agent_calls').select('call_key').where('call_key', 'in', keys).execute();
    const connected = new Set(taken.map((t) => t.call_key));
    const abandoned = keys.filter((k) => !connected.has(k));
    if (!this.withWaits || connected.size === 0) return { abandoned, waits: [] };
    const bridged = await this.db
      .selectFrom('dial_attempts')
      .select('agent_wait_ms')
      .where('attempt_key', 'in', [...connected])
      .where('agent_wait_ms', 'is not', null)
      .execute();
    return { abandoned, waits: bridged.map((b) => b.agent_wait_ms!) };
  }
}
