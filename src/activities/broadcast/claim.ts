import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema';

export interface ClaimRow {
  id: number;
  phone_key: string;
}

export interface MessagingLimit {
  channelId: string;
  /** Unique users per rolling 24 h. */
  users: number;
}

export interface Claimed {
  /** Attempt number of each message now `sending`, by id. */
  attempts: Map<number, number>;
  /** Set when the messaging limit refused some: when its oldest slot frees (ISO). */
  limitedUntil?: string;
  /** The claim came after its grant's time, so it counted the grant's slots from then (see `ClaimRestamp`). */
  restamped?: boolean;
}

/**
 * The grant whose slots the batch uses: a claim that runs after the grant's time (recording the
 * intent took longer than the lead) counts them from its own time instead, in the same statement,
 * as `rate_windows_restamp` would a round trip later — the calls leave as soon as it answers.
 */
export interface ClaimRestamp {
  keys: string[];
  stamp: number;
  size: number;
}

/** Restamps the grant once `c` (the claim's CTE) is written; `late` (read first, so true means restamped): past the grant's time. */
const restampAfter = (r: ClaimRestamp | undefined) =>
  r
    ? sql`, r AS (
        SELECT floor(extract(epoch FROM clock_timestamp()) * 1000) > ${r.stamp}::bigint AS late,
               rate_windows_restamp(${[...new Set(r.keys)].sort()}::text[], ${r.stamp}::bigint, ${r.size}::int)
        FROM (SELECT count(*) FROM c) written)`
    : sql`, r AS (SELECT false AS late)`;

/**
 * Records the intent for a batch (`pending` → `sending`, attempts + 1), committed before any call
 * so a retried activity never sends these again. With a messaging limit, the users are admitted
 * against the channel's rolling 24 h count in the same statement, so a message is claimed exactly
 * when its user was counted (or was already in the window) — across every worker of the channel.
 */
export async function claimBatch(db: Kysely<Database>, rows: ClaimRow[], limit?: MessagingLimit, restamp?: ClaimRestamp): Promise<Claimed> {
  const ids = rows.map((r) => r.id);
  if (!limit) {
    // One array parameter (not an IN list of n): the same statement text for every batch size.
    const { rows: claimed } = await sql<{ id: string; attempts: number; late: boolean }>`
      WITH c AS (
        UPDATE broadcast_messages SET state = 'sending', sending_since = now(), attempts = attempts + 1, next_attempt_at = NULL
        WHERE id = ANY(${ids}::bigint[]) AND state = 'pending'
        RETURNING id, attempts
      )${restampAfter(restamp)}
      SELECT c.id, c.attempts, r.late FROM c CROSS JOIN r`.execute(db);
    return { attempts: new Map(claimed.map((c) => [Number(c.id), c.attempts])), restamped: claimed.some((c) => c.late) };
  }
  const {
    rows: [out],
  } = await sql<{ frees_at: Date | null; claimed: { id: number; attempts: number }[]; late: boolean | null }>`
    WITH a AS MATERIALIZED (
      SELECT admitted, frees_at FROM whatsapp_limit_admit(${limit.channelId}::uuid, ${limit.users}::int, ${rows.map((r) => r.phone_key)}::text[])
    ), c AS (
      UPDATE broadcast_messages m SET state = 'sending', sending_since = now(), attempts = m.attempts + 1, next_attempt_at = NULL
      FROM a WHERE m.id = ANY(${ids}::bigint[]) AND m.state = 'pending' AND m.phone_key = ANY(a.admitted)
      RETURNING m.id, m.attempts
    )${restampAfter(restamp)}
    SELECT (SELECT frees_at FROM a) AS frees_at, (SELECT late FROM r) AS late,
      coalesce((SELECT json_agg(json_build_object('id', id, 'attempts', attempts)) FROM c), '[]'::json) AS claimed`.execute(db);
  return {
    attempts: new Map(out.claimed.map((c) => [Number(c.id), c.attempts])),
    limitedUntil: out.frees_at ? new Date(out.frees_at).toISOString() : undefined,
    restamped: out.late === true,
  };
}
