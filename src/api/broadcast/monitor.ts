import { sql, type Kysely } from 'kysely';
import type { Database, MessageState } from '../../db/schema';
import { MISSING_VARIABLE_SKIP_REASON } from '../../domain/broadcast';

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

const RECENT_S = 10;

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
  const { rows } = await sql<{ state: MessageState; code: number | null; title: string | null; reason: string | null; n: number; recent: number }>`
    SELECT state, CASE WHEN state = 'failed' THEN error_code END AS code, CASE WHEN state = 'failed' THEN max(error_title) END AS title,
           skip_reason AS reason, count(*)::int AS n,
           count(*) FILTER (WHERE coalesce(accepted_at, sent_at) > now() - ${RECENT_S} * interval '1 second')::int AS recent
    FROM broadcast_messages WHERE send_id = ANY(${sendIds}::uuid[])
    GROUP BY state, CASE WHEN state = 'failed' THEN error_code END, skip_reason`.execute(db);
  let recent = 0;
  for (const r of rows) {
    totals.total += r.n;
    totals[r.state] += r.n;
    recent += r.recent;
    if (r.state === 'failed') totals.failedByCode.push({ code: r.code, title: r.title, count: r.n });
    if (r.state === 'skipped') totals.skippedByReason[r.reason ?? 'other'] = (totals.skippedByReason[r.reason ?? 'other'] ?? 0) + r.n;
  }
  totals.failedByCode.sort((a, b) => b.count - a.count);
  const missing = await sql<{ placeholder: string; skipped: number; defaulted: number }>`
    SELECT p AS placeholder, count(*) FILTER (WHERE state = 'skipped')::int AS skipped, count(*) FILTER (WHERE state <> 'skipped')::int AS defaulted
    FROM broadcast_messages, unnest(missing_variables) p
    WHERE send_id = ANY(${sendIds}::uuid[]) AND missing_variables IS NOT NULL GROUP BY p ORDER BY p`.execute(db);
  for (const m of missing.rows) totals.missingVariables.byPlaceholder[m.placeholder] = m.skipped + m.defaulted;
  totals.missingVariables.skipped = totals.skippedByReason[MISSING_VARIABLE_SKIP_REASON] ?? 0;
  const defaulted = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM broadcast_messages
    WHERE send_id = ANY(${sendIds}::uuid[]) AND missing_variables IS NOT NULL AND state <> 'skipped'`.execute(db);
  totals.missingVariables.defaulted = defaulted.rows[0]?.n ?? 0;
  return { totals, currentMps: Math.round((recent / RECENT_S) * 10) / 10 };
}

type TotalsResult = Awaited<ReturnType<typeof messageTotals>>;

/**
 * Every viewer of a running send (monitor polls, SSE streams, several supervisors) shares one
 * count per `maxAgeMs`: the count reads all of the send's rows, and at 100,000 rows five viewers
 * polling would cost PostgreSQL more than the send itself. A count that takes long (a send of
 * millions) is kept `costFactor` times as long as it took, so watching a send never costs
 * PostgreSQL more than about 1/costFactor of a core. `version` is part of the key (pass the
 * send's state_version), so a pause, a resume or the end is never shown with older totals.
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
