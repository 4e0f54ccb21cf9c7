import { sql, type Kysely, type Transaction } from 'kysely';
import {
  AGENT_STATES,
  decideAgent,
  effectiveState,
  type AgentActorKind,
  type AgentCommand,
  type AgentDecision,
  type AgentState,
} from '../domain/dialer/agent-state';
import type { AgentStateRow } from './agents-schema';
import type { Database } from './schema';

/** How reports and interactions name an agent: their user's name, or the e-mail when unnamed (`users` is the joined users' alias). */
export const agentNameSql = (users: string) => sql<string>`COALESCE(NULLIF(${sql.ref(`${users}.name`)}, ''), ${sql.ref(`${users}.email`)})`;

/**
 * Agents' live states. Every change locks the agent's one `agent_states` row and writes its
 * `agent_state_events` row in the same transaction, so the live state and its history never drift.
 * The dialer reserves agents per call through `agent_calls`, keyed by the call's own key.
 */

type Db = Kysely<Database> | Transaction<Database>;

const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';

export async function createAgent(trx: Transaction<Database>, input: { tenantId: string; userId: string; sipEndpoint: string; createdBy: string | null }) {
  const agent = await trx
    .insertInto('agents')
    .values({ tenant_id: input.tenantId, user_id: input.userId, sip_endpoint: input.sipEndpoint, created_by: input.createdBy })
    .returningAll()
    .executeTakeFirstOrThrow();
  await trx.insertInto('agent_states').values({ agent_id: agent.id, tenant_id: input.tenantId, state: 'offline' }).execute();
  return agent;
}

interface EventInput {
  row: AgentStateRow;
  to: AgentState;
  pauseReasonId: string | null;
  reason: AgentCommand;
  by: AgentActorKind;
  actorUserId?: string | null;
  callKey?: string | null;
  campaignId?: string | null;
  at?: Date;
}

const recordEvent = (trx: Db, e: EventInput) =>
  trx
    .insertInto('agent_state_events')
    .values({
      tenant_id: e.row.tenant_id,
      agent_id: e.row.agent_id,
      from_state: e.row.state,
      to_state: e.to,
      pause_reason_id: e.pauseReasonId,
      reason: e.reason,
      actor_kind: e.by,
      actor_user_id: e.actorUserId ?? null,
      call_key: e.callKey ?? null,
      campaign_id: e.campaignId ?? e.row.campaign_id,
      ...(e.at ? { at: e.at } : {}),
    })
    .execute();

/**
 * Writes down every after-call work whose time is over (`wrap_up` → `available`, the event at the
 * moment it ended). Skips rows another transaction holds: that one settles them itself.
 */
export async function settleWrapUps(db: Db, scope: { agentIds?: string[]; campaignId?: string; tenantId?: string }): Promise<number> {
  const filters = [
    scope.agentIds ? sql`s.agent_id = ANY(${scope.agentIds}::uuid[])` : sql`TRUE`,
    scope.campaignId ? sql`s.agent_id IN (SELECT agent_id FROM dialer_campaign_agents WHERE campaign_id = ${scope.campaignId})` : sql`TRUE`,
    scope.tenantId ? sql`s.tenant_id = ${scope.tenantId}` : sql`TRUE`,
  ];
  const result = await sql`
    WITH due AS (
      SELECT s.agent_id, s.wrap_up_until FROM agent_states s
      WHERE s.state = 'wrap_up' AND s.wrap_up_until <= now() AND ${sql.join(filters, sql` AND `)}
      FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE agent_states s SET state = 'available', since = due.wrap_up_until, wrap_up_until = NULL, seq = s.seq + 1
      FROM due WHERE s.agent_id = due.agent_id
      RETURNING s.agent_id, s.tenant_id, s.campaign_id, due.wrap_up_until AS at
    )
    INSERT INTO agent_state_events (tenant_id, agent_id, from_state, to_state, reason, actor_kind, campaign_id, at)
    SELECT tenant_id, agent_id, 'wrap_up', 'available', 'wrap_up_over', 'system', campaign_id, at FROM moved`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Locks the agent's state row; a wrap-up already over is written down first (so the next change starts from available). */
async function lockState(trx: Transaction<Database>, agentId: string): Promise<AgentStateRow | undefined> {
  const row = await trx.selectFrom('agent_states').selectAll().where('agent_id', '=', agentId).forUpdate().executeTakeFirst();
  if (!row || effectiveState(row.state, row.wrap_up_until, new Date()) === row.state) return row;
  const endedAt = new Date(row.wrap_up_until!);
  await recordEvent(trx, { row, to: 'available', pauseReasonId: null, reason: 'wrap_up_over', by: 'system', at: endedAt });
  return trx
    .updateTable('agent_states')
    .set({ state: 'available', since: endedAt, wrap_up_until: null, seq: row.seq + 1 })
    .where('agent_id', '=', agentId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface AgentChange {
  tenantId: string;
  agentId: string;
  command: AgentCommand;
  by: AgentActorKind;
  actorUserId: string | null;
  pauseReasonId?: string;
}

export type AgentChangeResult = { decision: AgentDecision; state: AgentStateRow };

/** One change an agent or a supervisor asked for, with its event; refusals change nothing. */
export async function changeAgentState(db: Kysely<Database>, change: AgentChange): Promise<AgentChangeResult | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await lockState(trx, change.agentId);
    if (!row || row.tenant_id !== change.tenantId) return undefined;
    const decision = decideAgent({ state: row.state, pauseReasonId: row.pause_reason_id }, change);
    if (!decision.ok || !decision.changed) return { decision, state: row };
    const { state, pauseReasonId } = decision.next;
    await recordEvent(trx, { row, to: state, pauseReasonId, reason: change.command, by: change.by, actorUserId: change.actorUserId });
    const updated = await trx
      .updateTable('agent_states')
      .set({ state, pause_reason_id: pauseReasonId, since: new Date(), wrap_up_until: null, seq: row.seq + 1 })
      .where('agent_id', '=', row.agent_id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { decision, state: updated };
  });
}

export interface Reservation {
  callKey: string;
  agentId: string;
  sipEndpoint: string;
  campaignId: string;
  reservedAt: Date;
  /** The call already ended (a retry after the release): the dialer must not connect anyone. */
  released: boolean;
}

/** The call's reservation, if one was made (never makes one). */
export async function reservationOf(db: Db, callKey: string): Promise<Reservation | undefined> {
  const row = await db
    .selectFrom('agent_calls')
    .innerJoin('agents', 'agents.id', 'agent_calls.agent_id')
    .select([
      'agent_calls.call_key',
      'agent_calls.agent_id',
      'agents.sip_endpoint',
      'agent_calls.campaign_id',
      'agent_calls.reserved_at',
      'agent_calls.released_at',
    ])
    .where('agent_calls.call_key', '=', callKey)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    callKey: row.call_key,
    agentId: row.agent_id,
    sipEndpoint: row.sip_endpoint,
    campaignId: row.campaign_id,
    reservedAt: new Date(row.reserved_at),
    released: row.released_at !== null,
  };
}

/**
 * Gives the call an available agent of the campaign (the one idle longest) and puts them on_call;
 * undefined when none is free. Idempotent by `callKey`: asked again (a retried activity, another
 * worker, two at once), the answer is the same agent — `agent_calls.call_key` is the primary key,
 * so a call never gets two agents. Agents other calls' reservations hold are skipped, not waited for.
 */
export async function reserveAgent(db: Kysely<Database>, input: { campaignId: string; callKey: string }): Promise<Reservation | undefined> {
  for (let tries = 0; ; tries++) {
    const known = await reservationOf(db, input.callKey);
    if (known) return known;
    try {
      return await db.transaction().execute(async (trx) => {
        // Requests for the same call queue here, so a duplicate never holds (and hides from other
        // calls, through SKIP LOCKED) an agent it is about to give back.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`agent-call:${input.callKey}`}, 0))`.execute(trx);
        const mine = await reservationOf(trx, input.callKey);
        if (mine) return mine;
        await settleWrapUps(trx, { campaignId: input.campaignId });
        const free = await trx
          .selectFrom('agent_states')
          .innerJoin('dialer_campaign_agents as ca', (j) => j.onRef('ca.agent_id', '=', 'agent_states.agent_id').on('ca.campaign_id', '=', input.campaignId))
          .selectAll('agent_states')
          .where('agent_states.state', '=', 'available')
          .orderBy('agent_states.since')
          .limit(1)
          .forUpdate('agent_states')
          .skipLocked()
          .executeTakeFirst();
        if (!free) return undefined;
        const call = await trx
          .insertInto('agent_calls')
          // The statement's own time, not the transaction's: it began before the release that freed this agent may have committed.
          .values({
            call_key: input.callKey,
            tenant_id: free.tenant_id,
            campaign_id: input.campaignId,
            agent_id: free.agent_id,
            reserved_at: sql`clock_timestamp()`,
          })
          .returning(['reserved_at'])
          .executeTakeFirstOrThrow();
        const reservedAt = new Date(call.reserved_at);
        await recordEvent(trx, {
          row: free,
          to: 'on_call',
          pauseReasonId: null,
          reason: 'take_call',
          by: 'system',
          callKey: input.callKey,
          campaignId: input.campaignId,
          at: reservedAt,
        });
        await trx
          .updateTable('agent_states')
          .set({ state: 'on_call', since: reservedAt, call_key: input.callKey, campaign_id: input.campaignId, seq: free.seq + 1 })
          .where('agent_id', '=', free.agent_id)
          .execute();
        return (await reservationOf(trx, input.callKey))!;
      });
    } catch (error) {
      // Someone else reserved this call meanwhile: their agent is the answer (read at the top of the loop).
      if (!isUniqueViolation(error) || tries >= 3) throw error;
    }
  }
}

/**
 * The call ended: its agent goes to after-call work for the campaign's `wrap_up_seconds` (or
 * straight back to available when 0). Idempotent: a call already released changes nothing.
 */
export async function releaseAgent(db: Kysely<Database>, input: { callKey: string }): Promise<{ agentId: string; state: AgentState } | undefined> {
  return db.transaction().execute(async (trx) => {
    const call = await trx
      .updateTable('agent_calls')
      .set({ released_at: sql`now()` })
      .where('call_key', '=', input.callKey)
      .where('released_at', 'is', null)
      .returning(['agent_id', 'campaign_id', 'released_at'])
      .executeTakeFirst();
    if (!call) return undefined;
    const row = await trx.selectFrom('agent_states').selectAll().where('agent_id', '=', call.agent_id).forUpdate().executeTakeFirstOrThrow();
    // Only the agent still on this very call is moved (the ledger and the state row change together, so this holds).
    if (row.state !== 'on_call' || row.call_key !== input.callKey) return { agentId: row.agent_id, state: row.state };
    const campaign = await trx.selectFrom('dialer_campaigns').select('wrap_up_seconds').where('id', '=', call.campaign_id).executeTakeFirst();
    const wrapUpSeconds = campaign?.wrap_up_seconds ?? 0;
    const decision = decideAgent({ state: row.state, pauseReasonId: null }, { command: 'end_call', by: 'system', wrapUpSeconds });
    if (!decision.ok) return { agentId: row.agent_id, state: row.state };
    const endedAt = new Date(call.released_at!);
    const next = decision.next.state;
    await recordEvent(trx, { row, to: next, pauseReasonId: null, reason: 'end_call', by: 'system', callKey: input.callKey, at: endedAt });
    await trx
      .updateTable('agent_states')
      .set({
        state: next,
        since: endedAt,
        call_key: null,
        wrap_up_until: next === 'wrap_up' ? new Date(endedAt.getTime() + wrapUpSeconds * 1000) : null,
        seq: row.seq + 1,
      })
      .where('agent_id', '=', row.agent_id)
      .execute();
    return { agentId: row.agent_id, state: next };
  });
}

export type AgentCounts = Record<AgentState, number>;

const noAgents = (): AgentCounts => Object.fromEntries(AGENT_STATES.map((s) => [s, 0])) as AgentCounts;

/** Agents of each campaign by state (a wrap-up whose time is over counts as available): what the dialer paces by. */
export async function agentCountsByCampaign(db: Db, campaignIds: string[]): Promise<Map<string, AgentCounts>> {
  const counts = new Map(campaignIds.map((id) => [id, noAgents()]));
  if (campaignIds.length === 0) return counts;
  const rows = await sql<{ campaign_id: string; state: AgentState; n: number }>`
    SELECT ca.campaign_id,
           CASE WHEN s.state = 'wrap_up' AND s.wrap_up_until <= now() THEN 'available' ELSE s.state END AS state,
           count(*)::int AS n
    FROM dialer_campaign_agents ca JOIN agent_states s ON s.agent_id = ca.agent_id
    WHERE ca.campaign_id = ANY(${campaignIds}::uuid[])
    GROUP BY 1, 2`.execute(db);
  for (const r of rows.rows) counts.get(r.campaign_id)![r.state] = r.n;
  return counts;
}

/** The agents assigned to each campaign (ids in a stable order). */
export async function campaignAgentIds(db: Db, campaignIds: string[]): Promise<Map<string, string[]>> {
  const ids = new Map(campaignIds.map((id) => [id, [] as string[]]));
  if (campaignIds.length === 0) return ids;
  const rows = await db
    .selectFrom('dialer_campaign_agents')
    .select(['campaign_id', 'agent_id'])
    .where('campaign_id', 'in', campaignIds)
    .orderBy('campaign_id')
    .orderBy('agent_id')
    .execute();
  for (const r of rows) ids.get(r.campaign_id)!.push(r.agent_id);
  return ids;
}

/** Assigns agents to a new campaign; the ids the tenant has no agent for are returned (nothing written then). */
export async function assignAgents(trx: Transaction<Database>, input: { tenantId: string; campaignId: string; agentIds: string[] }): Promise<string[]> {
  const wanted = [...new Set(input.agentIds)];
  if (wanted.length === 0) return [];
  const known = await trx.selectFrom('agents').select('id').where('tenant_id', '=', input.tenantId).where('id', 'in', wanted).execute();
  const missing = wanted.filter((id) => !known.some((k) => k.id === id));
  if (missing.length) return missing;
  await trx
    .insertInto('dialer_campaign_agents')
    .values(wanted.map((agent_id) => ({ campaign_id: input.campaignId, agent_id, tenant_id: input.tenantId })))
    .execute();
  return [];
}
