import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema';

export interface BucketSpec {
  key: string;
  /** Tokens per second. */
  rate: number;
  /** Most tokens held (the largest burst). */
  burst: number;
}

export interface Grant {
  granted: number;
  /** When nothing was granted: how long until enough tokens are due, in ms. */
  waitMs: number;
}

/**
 * Token buckets in PostgreSQL, shared by every worker process: one row per key, refilled and
 * spent in a single statement under a row lock, so N workers together never exceed the rate.
 * Slots are handed out in batches (up to `want` at once) to keep the round trips few.
 */
export function createRateLimiter(db: Kysely<Database>) {
  return {
    /** Creates the buckets, or updates their rate and burst (tokens kept). */
    async define(buckets: BucketSpec[]): Promise<void> {
      for (const b of [...buckets].sort((x, y) => x.key.localeCompare(y.key))) {
        await db
          .insertInto('rate_buckets')
          .values({ key: b.key, rate: b.rate, burst: b.burst, tokens: b.burst })
          .onConflict((oc) =>
            oc.column('key').doUpdateSet({ rate: b.rate, burst: b.burst, tokens: sql`LEAST(rate_buckets.tokens, ${b.burst}::float8)` }).where(
              sql<boolean>`rate_buckets.rate <> ${b.rate}::float8 OR rate_buckets.burst <> ${b.burst}::float8`,
            ),
          )
          .execute();
      }
    },

    /**
     * Takes up to `want` tokens from every bucket at once (the least any of them can give), and
     * none unless at least `least` can be had: waiting for a small batch instead of polling for
     * each token keeps the round trips (and the time the bucket rows stay locked) few.
     */
    async acquire(keys: string[], want: number, least = 1): Promise<Grant> {
      const sorted = [...keys].sort();
      const needed = Math.max(1, Math.min(least, want));
      const { rows } = await sql<{ granted: number; avail: number; rate: number }>`
        WITH cur AS (
          SELECT key, rate,
                 LEAST(burst, tokens + rate * GREATEST(0, extract(epoch FROM clock_timestamp() - updated_at))) AS avail
          FROM rate_buckets WHERE key = ANY(${sorted}::text[]) ORDER BY key FOR UPDATE
        ), g AS (SELECT CASE WHEN floor(min(avail)) >= ${needed}::int THEN LEAST(${want}::int, floor(min(avail))::int) ELSE 0 END AS granted FROM cur)
        UPDATE rate_buckets b SET tokens = cur.avail - g.granted, updated_at = clock_timestamp()
        FROM cur, g WHERE b.key = cur.key
        RETURNING g.granted, cur.avail, cur.rate`.execute(db);
      if (rows.length !== sorted.length) throw new Error(`rate buckets missing: ${sorted.join(', ')}`);
      const granted = Math.max(0, rows[0]?.granted ?? 0);
      if (granted > 0) return { granted, waitMs: 0 };
      const waitMs = Math.max(...rows.map((r) => (Math.max(0, needed - r.avail) / r.rate) * 1000));
      return { granted: 0, waitMs: Math.max(1, Math.ceil(waitMs)) };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * A bucket for a rate: a burst of about 50 ms of traffic, at least one message. Enough that a
 * worker held up for a moment (CPU contention, a slow round trip) catches up instead of losing
 * those slots; after a short stall Meta's one-second window is short of just what is caught up.
 */
export const bucketFor = (key: string, rate: number): BucketSpec => ({ key, rate, burst: Math.max(1, Math.ceil(rate / 20)) });
