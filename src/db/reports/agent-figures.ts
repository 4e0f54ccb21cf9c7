import { sql, type Kysely } from 'kysely';
import { settleWrapUps } from '../agents';
import type { AgentState } from '../../domain/dialer/agent-state';
import type { Database } from '../schema';

/** An agent's numbers over a period, from their state events and the call ledger (milliseconds). */
export interface AgentFigures {
  agentId: string;
  name: string;
  email: string;
  createdAt: Date;
  lastEventAt: Date | null;
  loggedInMs: number;
  msByState: Partial<Record<AgentState, number>>;
  msByPause: Record<string, number>;
  callsHandled: number;
  /** Time on_call: from the moment the dialer gave the agent the call to its end. */
  talkMs: number;
  /** (talk + after-call work) ÷ calls handled; null without calls. */
  averageHandleMs: number | null;
  /** Calls of the agent's campaigns that ended abandoned (as the calls report's `abandonada`) while the agent was logged in. */
  abandonedWhileLoggedIn: number;
}

const STATE_ORDER: AgentState[] = ['available', 'on_call', 'wrap_up', 'paused'];

/**
 * Time per state is the sum of the spans between consecutive events of each agent, cut to the
 * period (the state in force when the period starts counts from its start; the last state runs
 * until the period ends or now). A wrap-up whose time is over is written down first, so it does
 * not count as after-call work beyond its end.
 */
export async function agentFigures(db: Kysely<Database>, tenantId: string, period: { from?: string; to?: string }): Promise<AgentFigures[]> {
  await settleWrapUps(db, { tenantId });
  const from = period.from ? new Date(period.from) : null;
  const to = period.to ? new Date(period.to) : null;
  const fromSql = from ? sql`${from}::timestamptz` : sql`'-infinity'::timestamptz`;
  const toSql = to ? sql`${to}::timestamptz` : sql`'infinity'::timestamptz`;
  const spans = await sql<{ agent_id: string; state: AgentState; pause: string | null; ms: number }>`
    WITH ev AS (
      SELECT e.agent_id, e.to_state, e.pause_reason_id, e.at,
             lead(e.at) OVER (PARTITION BY e.agent_id ORDER BY e.at, e.id) AS next_at
      FROM agent_state_events e
      WHERE e.tenant_id = ${tenantId} AND e.at < ${toSql}
    ), cut AS (
      SELECT agent_id, to_state, pause_reason_id, greatest(at, ${fromSql}) AS s, least(coalesce(next_at, now()), ${toSql}) AS e FROM ev
    )
    SELECT cut.agent_id, cut.to_state AS state, pr.name AS pause, sum(extract(epoch FROM cut.e - cut.s) * 1000)::float8 AS ms
    FROM cut LEFT JOIN agent_pause_reasons pr ON pr.id = cut.pause_reason_id
    WHERE cut.e > cut.s AND cut.to_state <> 'offline'
    GROUP BY 1, 2, 3`.execute(db);
  const calls = await sql<{ agent_id: string; n: number }>`
    SELECT agent_id, count(*)::int AS n FROM agent_calls
    WHERE tenant_id = ${tenantId} AND reserved_at >= ${fromSql} AND reserved_at < ${toSql}
    GROUP BY 1`.execute(db);
  // The agent's state when the call was abandoned is the last event at or before that moment (none: never logged in).
  const abandoned = await sql<{ agent_id: string; n: number }>`
    SELECT ca.agent_id, count(*)::int AS n
    FROM dial_attempts a JOIN dialer_campaign_agents ca ON ca.campaign_id = a.campaign_id
    WHERE a.tenant_id = ${tenantId} AND a.outcome = 'abandoned'
      AND COALESCE(a.abandoned_at, a.ended_at) >= ${fromSql} AND COALESCE(a.abandoned_at, a.ended_at) < ${toSql}
      AND (SELECT e.to_state FROM agent_state_events e
           WHERE e.agent_id = ca.agent_id AND e.at <= COALESCE(a.abandoned_at, a.ended_at)
           ORDER BY e.at DESC, e.id DESC LIMIT 1) <> 'offline'
    GROUP BY 1`.execute(db);
  const agents = await sql<{ id: string; name: string; email: string; created_at: Date; last_at: Date | null }>`
    SELECT a.id, u.name, u.email, a.created_at,
           (SELECT max(at) FROM agent_state_events e WHERE e.agent_id = a.id AND e.at >= ${fromSql} AND e.at < ${toSql}) AS last_at
    FROM agents a JOIN users u ON u.id = a.user_id
    WHERE a.tenant_id = ${tenantId}
    ORDER BY u.name, a.id`.execute(db);

  const callsOf = new Map(calls.rows.map((r) => [r.agent_id, r.n]));
  const abandonedOf = new Map(abandoned.rows.map((r) => [r.agent_id, r.n]));
  return agents.rows.map((a) => {
    const mine = spans.rows.filter((s) => s.agent_id === a.id);
    const msByState: Partial<Record<AgentState, number>> = {};
    const msByPause: Record<string, number> = {};
    for (const s of mine) {
      msByState[s.state] = (msByState[s.state] ?? 0) + s.ms;
      if (s.state === 'paused' && s.pause) msByPause[s.pause] = (msByPause[s.pause] ?? 0) + s.ms;
    }
    const callsHandled = callsOf.get(a.id) ?? 0;
    const talkMs = msByState.on_call ?? 0;
    return {
      agentId: a.id,
      name: a.name,
      email: a.email,
      createdAt: a.created_at,
      lastEventAt: a.last_at,
      loggedInMs: mine.reduce((sum, s) => sum + s.ms, 0),
      msByState,
      msByPause,
      callsHandled,
      talkMs,
      averageHandleMs: callsHandled > 0 ? (talkMs + (msByState.wrap_up ?? 0)) / callsHandled : null,
      abandonedWhileLoggedIn: abandonedOf.get(a.id) ?? 0,
    };
  });
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** `available 120 s | on_call 30 s | …` in a fixed order (states never entered are left out). */
export const stateTimesText = (f: AgentFigures) =>
  STATE_ORDER.filter((s) => f.msByState[s])
    .map((s) => `${s} ${seconds(f.msByState[s]!)}`)
    .join(' | ') || null;

/** `Almoço 1800 s | Treinamento 600 s`, by reason name. */
export const pauseTimesText = (f: AgentFigures) =>
  Object.entries(f.msByPause)
    .sort(([a], [b]) => a.localeCompare(b, 'pt-BR'))
    .map(([name, ms]) => `${name} ${seconds(ms)}`)
    .join(' | ') || null;
