import { sql, type Kysely } from 'kysely';
import { SHORT_CALL_MAX_MS, shortCallShare, type ShortCallDay } from '../domain/dialer/short-calls';
import type { Database } from './schema';

/** The SQL test of one attempt `a` being short (see src/domain/dialer/short-calls.ts). */
export const isShortCallSql = sql`(a.ended_at IS NOT NULL AND a.ended_at - COALESCE(a.answered_at, a.started_at) <= ${`${SHORT_CALL_MAX_MS} milliseconds`}::interval)`;

/**
 * Calls placed and short calls of a tenant per São Paulo day, days with calls only, oldest first.
 * Without bounds: today. Reads the tenant's attempts by `dial_attempts_tenant_idx`.
 */
export async function shortCallDays(db: Kysely<Database>, tenantId: string, period: { from?: string; to?: string } = {}): Promise<ShortCallDay[]> {
  const today = sql`(date_trunc('day', now() AT TIME ZONE 'America/Sao_Paulo') AT TIME ZONE 'America/Sao_Paulo')`;
  const from = period.from ? sql`${new Date(period.from)}::timestamptz` : period.to ? sql`'-infinity'::timestamptz` : today;
  const to = period.to ? sql`${new Date(period.to)}::timestamptz` : sql`'infinity'::timestamptz`;
  const rows = await sql<{ day: string; placed: number; short: number }>`
    SELECT to_char(a.started_at AT TIME ZONE 'America/Sao_Paulo', 'YYYY-MM-DD') AS day,
           count(*)::int AS placed,
           count(*) FILTER (WHERE ${isShortCallSql})::int AS short
    FROM dial_attempts a
    WHERE a.tenant_id = ${tenantId} AND a.started_at >= ${from} AND a.started_at < ${to}
    GROUP BY 1 ORDER BY 1`.execute(db);
  return rows.rows.map((r) => ({ ...r, share: shortCallShare(r.placed, r.short) }));
}

/** Today (São Paulo) for the tenant, zeros before the first call. */
export async function shortCallsToday(db: Kysely<Database>, tenantId: string): Promise<ShortCallDay> {
  const [today] = await shortCallDays(db, tenantId);
  if (today) return today;
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Sao_Paulo' }).format(new Date());
  return { day, placed: 0, short: 0, share: null };
}
