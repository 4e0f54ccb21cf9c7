import { sql, type Kysely } from 'kysely';
import type { Database } from './schema';

/** The monitor's rate counts what was handed over in the last this many seconds; folds keep them apart. */
export const TALLY_RECENT_S = 10;
/** Tallies older than this are folded (kept apart until then, for the rate). */
export const TALLY_FOLD_AGE_S = 2 * TALLY_RECENT_S;

/**
 * Folds a send's tallies older than `TALLY_FOLD_AGE_S` into one row per key. Safe beside writers
 * (they only append) and beside another fold: the rows a fold sums are the rows it deleted, so a
 * row deleted by a concurrent fold is summed by that fold alone.
 */
export async function foldSendTallies(db: Kysely<Database>, sendIds: string[]): Promise<void> {
  await sql`
    WITH gone AS (
      DELETE FROM broadcast_send_tallies WHERE send_id = ANY(${sendIds}::uuid[]) AND at < now() - ${TALLY_FOLD_AGE_S} * interval '1 second'
      RETURNING send_id, state, error_code, error_title, skip_reason, missing, n, at
    )
    INSERT INTO broadcast_send_tallies (send_id, state, error_code, error_title, skip_reason, missing, n, handed, at)
    SELECT send_id, state, error_code, error_title, skip_reason, missing, sum(n), 0, max(at)
    FROM gone GROUP BY send_id, state, error_code, error_title, skip_reason, missing HAVING sum(n) <> 0`.execute(db);
}
