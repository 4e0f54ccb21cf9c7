import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import { agentCountsByCampaign, campaignAgentIds, settleWrapUps } from '../../db/agents';
import { readPacingLive } from '../../db/pacing-live';
import type { Database } from '../../db/schema';
import { AGENT_STATES } from '../../domain/dialer/agent-state';
import { PACING_MODES, type PacingMode } from '../../domain/dialer/strategy';

/**
 * The monitor's agent figures (issue 12): agents by state, calls waiting for an agent, dial level,
 * abandon rates, occupancy and average speed of answer. Read from PostgreSQL only (agents,
 * attempts, the agent ledger and the pacer's live row), so any API instance serves them.
 *
 * An abandoned call is an attempt ended `abandoned`, or, in the agent modes, one answered that no
 * agent ever took (the customer hung up while waiting) — the pacer counts the same.
 */

const rateWindow = z.object({
  answered: z.number().int().describe('Answered by a person (connected or abandoned)'),
  abandoned: z.number().int(),
  rate: z.number().nullable().describe('abandoned ÷ answered'),
});

export const monitorAgentsSchema = z
  .object({
    byState: z.object(Object.fromEntries(AGENT_STATES.map((s) => [s, z.number().int()])) as Record<(typeof AGENT_STATES)[number], z.ZodNumber>),
    loggedIn: z.number().int(),
    waitingForAgent: z.number().int().describe('Answered calls not yet connected to an agent'),
    longestWaitSeconds: z.number().nullable(),
    pacingMode: z.enum(PACING_MODES),
    dialLevel: z.number().nullable().describe('Calls not yet connected per active agent, as the pacer last granted'),
    pacingPhase: z.string().nullable().describe('Predictive: warm_up, adaptive or hard_limit (1:1 while over the abandon target)'),
    dialLevelAt: z.string().nullable().describe('When the pacer last recomputed'),
    abandonRate: z.object({ lastMinute: rateWindow, last15Minutes: rateWindow, today: rateWindow, campaign: rateWindow }),
    occupancy: z.number().nullable().describe('(talk + wrap-up) ÷ logged-in time of the campaign’s agents today'),
    averageSpeedOfAnswerSeconds: z.number().nullable().describe('Answer → connected to an agent, today'),
  })
  .describe('Agents and agent-connected pacing (issue 12)');
export type MonitorAgents = z.infer<typeof monitorAgentsSchema>;

const today = sql`(date_trunc('day', now() AT TIME ZONE 'America/Sao_Paulo') AT TIME ZONE 'America/Sao_Paulo')`;

export async function monitorAgents(db: Kysely<Database>, campaign: { id: string; tenant_id: string }, mode: PacingMode): Promise<MonitorAgents> {
  // Lapsed wrap-ups written down first, so occupancy does not count them as busy.
  await settleWrapUps(db, { campaignId: campaign.id });
  const counts = (await agentCountsByCampaign(db, [campaign.id])).get(campaign.id)!;
  const live = await readPacingLive(db, campaign.id);
  const [abandonRate, waiting, asa, occupancy] = await Promise.all([
    abandonRates(db, campaign.id, mode !== 'power'),
    waitingForAgent(db, campaign.id),
    averageSpeedOfAnswer(db, campaign.id),
    occupancyToday(db, campaign),
  ]);
  return {
    byState: counts,
    loggedIn: AGENT_STATES.filter((s) => s !== 'offline').reduce((n, s) => n + counts[s], 0),
    ...waiting,
    pacingMode: mode,
    dialLevel: live?.dialLevel ?? null,
    pacingPhase: live?.phase ?? null,
    dialLevelAt: live ? live.recomputedAt.toISOString() : null,
    abandonRate,
    occupancy,
    averageSpeedOfAnswerSeconds: asa,
  };
}

/** The SQL test of an attempt `a` being abandoned. */
const abandonedSql = (byAgents: boolean) =>
  byAgents
    ? sql`(a.outcome = 'abandoned' OR (a.outcome = 'answered' AND NOT EXISTS (SELECT 1 FROM agent_calls c WHERE c.call_key = a.attempt_key)))`
    : sql`(a.outcome = 'abandoned')`;

async function abandonRates(db: Kysely<Database>, campaignId: string, byAgents: boolean): Promise<MonitorAgents['abandonRate']> {
  const answered = sql`a.outcome IN ('answered', 'abandoned')`;
  const abandoned = abandonedSql(byAgents);
  const windows = {
    lastMinute: sql`now() - interval '1 minute'`,
    last15Minutes: sql`now() - interval '15 minutes'`,
    today,
    campaign: sql`'-infinity'::timestamptz`,
  };
  const cols = Object.entries(windows).flatMap(([name, from]) => [
    sql`count(*) FILTER (WHERE ${answered} AND a.ended_at >= ${from})::int`.as(`${name}_answered`),
    sql`count(*) FILTER (WHERE ${abandoned} AND a.ended_at >= ${from})::int`.as(`${name}_abandoned`),
  ]);
  const { rows } = await sql<
    Record<string, number>
  >`SELECT ${sql.join(cols)} FROM dial_attempts a WHERE a.campaign_id = ${campaignId} AND a.state = 'done'`.execute(db);
  const r = rows[0];
  const w = (name: string) => ({
    answered: r[`${name}_answered`],
    abandoned: r[`${name}_abandoned`],
    rate: r[`${name}_answered`] ? r[`${name}_abandoned`] / r[`${name}_answered`] : null,
  });
  return { lastMinute: w('lastMinute'), last15Minutes: w('last15Minutes'), today: w('today'), campaign: w('campaign') };
}

/** Calls answered (the attempt knows its answer time) and still without an agent. */
async function waitingForAgent(db: Kysely<Database>, campaignId: string) {
  const { rows } = await sql<{ n: number; longest: number | null }>`
    SELECT count(*)::int AS n, max(EXTRACT(epoch FROM now() - a.answered_at))::float8 AS longest
    FROM dial_attempts a
    WHERE a.campaign_id = ${campaignId} AND a.state = 'dialing' AND a.answered_at IS NOT NULL AND a.abandoned_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM agent_calls c WHERE c.call_key = a.attempt_key)`.execute(db);
  return { waitingForAgent: rows[0].n, longestWaitSeconds: rows[0].longest };
}

async function averageSpeedOfAnswer(db: Kysely<Database>, campaignId: string): Promise<number | null> {
  const { rows } = await sql<{ asa: number | null }>`
    SELECT avg(GREATEST(0, EXTRACT(epoch FROM c.reserved_at - a.answered_at)))::float8 AS asa
    FROM agent_calls c JOIN dial_attempts a ON a.attempt_key = c.call_key
    WHERE c.campaign_id = ${campaignId} AND c.reserved_at >= ${today} AND a.answered_at IS NOT NULL`.execute(db);
  return rows[0].asa;
}

/**
 * Talk + wrap-up ÷ logged-in time of the campaign's agents since São Paulo midnight: each agent's
 * state changes cut the day into spans (the span before the first change is in its `from_state`;
 * an agent with no change today spent it all in its current state).
 */
async function occupancyToday(db: Kysely<Database>, campaign: { id: string; tenant_id: string }): Promise<number | null> {
  const ids = (await campaignAgentIds(db, [campaign.id])).get(campaign.id) ?? [];
  if (ids.length === 0) return null;
  const { rows } = await sql<{ busy: number | null; logged: number | null }>`
    WITH day AS (SELECT ${today} AS start),
    ev AS (
      SELECT e.agent_id, e.from_state, e.to_state, e.at,
        lead(e.at) OVER (PARTITION BY e.agent_id ORDER BY e.at, e.id) AS next_at,
        row_number() OVER (PARTITION BY e.agent_id ORDER BY e.at, e.id) AS rn
      FROM agent_state_events e, day
      WHERE e.tenant_id = ${campaign.tenant_id} AND e.agent_id = ANY(${ids}::uuid[]) AND e.at >= day.start
    ),
    spans AS (
      SELECT to_state AS state, at AS from_at, COALESCE(next_at, now()) AS to_at FROM ev
      UNION ALL SELECT from_state, day.start, at FROM ev, day WHERE rn = 1
      UNION ALL SELECT s.state, GREATEST(s.since, day.start), now() FROM agent_states s, day
        WHERE s.agent_id = ANY(${ids}::uuid[]) AND NOT EXISTS (SELECT 1 FROM ev WHERE ev.agent_id = s.agent_id)
    )
    SELECT sum(EXTRACT(epoch FROM to_at - from_at)) FILTER (WHERE state IN ('on_call', 'wrap_up'))::float8 AS busy,
           sum(EXTRACT(epoch FROM to_at - from_at)) FILTER (WHERE state <> 'offline')::float8 AS logged
    FROM spans`.execute(db);
  const { busy, logged } = rows[0];
  return logged ? (busy ?? 0) / logged : null;
}
