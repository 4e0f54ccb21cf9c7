import { sql, type Kysely } from 'kysely';
import type { Database, MessageState } from '../../db/schema';
import { MISSING_VARIABLE_SKIP_REASON } from '../../domain/broadcast';
import { foldSendTallies, TALLY_FOLD_AGE_S, TALLY_RECENT_S as RECENT_S } from '../../db/broadcast-tallies';

export interface Totals {
  total: number;
  pending: number;
  sending: number;
  accepted: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  skipped: number;
  unknown: number;
  failedByCode: { code: number | null; title: string | null; count: number }[];
  skippedByReason: Record<string, number>;
  /** Contacts with a mapped column empty: skipped (reason missing_variable) or sent with defaults, and how often each placeholder had no value. */
  missingVariables: { skipped: number; defaulted: number; byPlaceholder: Record<string, number> };
}

/** A send's tallies are folded once the monitor finds more rows than this old enough to fold. */
const FOLD_ABOVE_ROWS = 200;

/** Counts by state (failures by code, skips by reason) and the accepted rate of the last 10 s. */
export async function messageTotals(db: Kysely<Database>, sendIds: string[]): Promise<{ totals: Totals; currentMps: number }> {
  const totals: Totals = {
    total: 0,
    pending: 0,
    sending: 0,
    accepted: 0,
    sent: 0,
    delivered: 0,
    read: 0,
    failed: 0,
    skipped: 0,
    unknown: 0,
    failedByCode: [],
    skippedByReason: {},
    missingVariables: { skipped: 0, defaulted: 0, byPlaceholder: {} },
  };
  if (sendIds.length === 0) return { totals, currentMps: 0 };
  // The counts come from the sends' tallies (appended by every write of a message, see migration
  // 0200), not from the messages: a handful of rows per send however large it is.
  const { rows } = await sql<{
    state: MessageState;
    code: number | null;
    title: string | null;
    reason: string | null;
    missing: boolean;
    n: number;
    recent: number;
    old: number;
  }>`
    SELECT state, code, max(title) FILTER (WHERE n > 0) OVER (PARTITION BY state, code) AS title, reason, missing, n, recent, old
    FROM (
      SELECT state, error_code AS code, error_title AS title, skip_reason AS reason, missing, sum(n)::int AS n,
             coalesce(sum(handed) FILTER (WHERE at > now() - ${RECENT_S} * interval '1 second'), 0)::int AS recent,
             count(*) FILTER (WHERE at < now() - ${TALLY_FOLD_AGE_S} * interval '1 second')::int AS old
      FROM broadcast_send_tallies WHERE send_id = ANY(${sendIds}::uuid[])
      GROUP BY state, error_code, error_title, skip_reason, missing
    ) AS keyed`.execute(db);
  if (rows.reduce((a, r) => a + r.old, 0) > FOLD_ABOVE_ROWS) await foldSendTallies(db, sendIds);
  const byCode = new Map<number | null, { code: number | null; title: string | null; count: number }>();
  let recent = 0;
  let missing = 0;
  for (const r of rows) {
    recent += r.recent;
    if (r.n === 0) continue;
    totals.total += r.n;
    totals[r.state] += r.n;
    if (r.missing) missing += r.n;
    if (r.missing && r.state !== 'skipped') totals.missingVariables.defaulted += r.n;
    if (r.state === 'failed') {
      // One entry per code; should its failures carry several titles, the greatest names it (as before).
      const entry = byCode.get(r.code) ?? { code: r.code, title: r.title, count: 0 };
      entry.count += r.n;
      byCode.set(r.code, entry);
    }
    if (r.state === 'skipped') totals.skippedByReason[r.reason ?? 'other'] = (totals.skippedByReason[r.reason ?? 'other'] ?? 0) + r.n;
  }
  totals.failedByCode = [...byCode.values()].sort((a, b) => b.count - a.count);
  if (missing > 0) {
    const byPlaceholder = await sql<{ placeholder: string; n: number }>`
      SELECT p AS placeholder, count(*)::int AS n
      FROM broadcast_messages, unnest(missing_variables) p
      WHERE send_id = ANY(${sendIds}::uuid[]) AND missing_variables IS NOT NULL GROUP BY p ORDER BY p`.execute(db);
    for (const m of byPlaceholder.rows) totals.missingVariables.byPlaceholder[m.placeholder] = m.n;
  }
  totals.missingVariables.skipped = totals.skippedByReason[MISSING_VARIABLE_SKIP_REASON] ?? 0;
  return { totals, currentMps: Math.round((recent / RECENT_S) * 10) / 10 };
}

type TotalsResult = Awaited<ReturnType<typeof messageTotals>>;

/**
 * Every viewer of a running send (monitor polls, SSE streams, several supervisors) shares one
 * count per `maxAgeMs`. The count reads the send's tallies, not its messages, so it stays small;
 * should it still take long (many sends of a campaign at once), it is kept `costFactor` times as
 * long as it took, so watching never costs PostgreSQL more than about 1/costFactor of a core.
 * `version` is part of the key (pass the send's state_version), so a pause, a resume or the end
 * is never shown with older totals.
 */
export function createTotalsCache<T = TotalsResult>(
  count: (sendIds: string[]) => Promise<T>,
  options: { maxAgeMs?: number; maxEntries?: number; costFactor?: number; now?: () => number } = {},
) {
  const maxAgeMs = options.maxAgeMs ?? 1000;
  const maxEntries = options.maxEntries ?? 1000;
  const costFactor = options.costFactor ?? 10;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { at: number; ttl: number; result: Promise<T> }>();
  return (sendIds: string[], version: string | number): Promise<T> => {
    const key = `${[...sendIds].sort().join(',')}|${version}`;
    const started = now();
    const hit = entries.get(key);
    if (hit && started - hit.at < hit.ttl) return hit.result;
    for (const [k, e] of entries) if (started - e.at >= e.ttl || entries.size >= maxEntries) entries.delete(k);
    const result = count(sendIds);
    const entry = { at: started, ttl: hit?.ttl ?? maxAgeMs, result };
    entries.set(key, entry);
    result.then(
      () => (entry.ttl = Math.max(maxAgeMs, (now() - started) * costFactor)),
      // A failed count is not kept: the next viewer tries again.
      () => entries.get(key) === entry && entries.delete(key),
    );
    return result;
  };
}

export function monitorView(state: string, reason: string | null, totals: Totals, currentMps: number, paceMps: number, until: Date | null = null) {
  const handed = totals.accepted + totals.sent + totals.delivered + totals.read + totals.failed + totals.unknown;
  const share = (n: number) => (handed === 0 ? 0 : Math.round((n / handed) * 10_000) / 10_000);
  const left = totals.pending + totals.sending;
  const rate = currentMps > 0 ? currentMps : state === 'running' ? paceMps : 0;
  return {
    state,
    reason,
    until: state === 'waiting' && until ? new Date(until).toISOString() : null,
    totals,
    rates: { delivery: share(totals.delivered + totals.read), read: share(totals.read), failure: share(totals.failed) },
    currentMps,
    etaSeconds: left === 0 ? 0 : state === 'running' && rate > 0 ? Math.ceil(left / rate) : null,
    at: new Date().toISOString(),
  };
}
