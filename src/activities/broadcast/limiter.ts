import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema';

export interface PaceWindow {
  key: string;
  /** Most messages in any window. */
  limit: number;
  windowMs: number;
}

export interface Grant {
  granted: number;
  /** When nothing was granted: how long until asking again can get the batch, in ms. */
  waitMs: number;
  /** The slots are counted from this many ms after the answer: call then, not before. */
  delayMs: number;
  /** The time the slots are counted from (the limiter's clock, epoch ms): names the grant for `restamp`. */
  stamp: number;
}

/**
 * Sliding windows in PostgreSQL, shared by every worker process: one row per key holding the
 * grants still in its window, taken and recorded by one function call under a row lock, so N
 * workers together never put more than `limit` messages into any window. Slots are handed out in
 * batches (up to `want` at once) to keep the round trips few.
 */
export function createRateLimiter(db: Kysely<Database>) {
  return {
    /** Creates the windows, or updates their limit and length (the grants in them are kept). */
    async define(windows: PaceWindow[]): Promise<void> {
      for (const w of [...windows].sort((x, y) => x.key.localeCompare(y.key))) {
        await db
          .insertInto('rate_windows')
          .values({ key: w.key, max_count: w.limit, window_ms: w.windowMs })
          .onConflict((oc) =>
            oc
              .column('key')
              .doUpdateSet({ max_count: w.limit, window_ms: w.windowMs })
              .where(sql<boolean>`rate_windows.max_count <> ${w.limit}::int OR rate_windows.window_ms <> ${w.windowMs}::int`),
          )
          .execute();
      }
    },

    /**
     * Takes up to `want` slots from every window at once (the least any of them has room for), and
     * none unless at least `least` can be had: waiting for a small batch instead of polling for
     * each slot keeps the round trips (and the time the rows stay locked) few. Slots that free
     * within `leadMs` may be granted ahead, to be used after `delayMs`.
     */
    async acquire(keys: string[], want: number, least = 1, leadMs = 0): Promise<Grant> {
      const sorted = [...new Set(keys)].sort();
      const { rows } = await sql<{ granted: number; wait_ms: number; delay_ms: number; stamp: string; windows: number }>`
        SELECT granted, wait_ms, delay_ms, stamp, windows
        FROM rate_windows_take(${sorted}::text[], ${Math.max(1, want)}::int, ${least}::int, ${leadMs}::int)`.execute(db);
      const r = rows[0];
      if (r.windows !== sorted.length) throw new Error(`pace windows missing: ${sorted.join(', ')}`);
      return { granted: r.granted, waitMs: r.wait_ms, delayMs: r.delay_ms, stamp: Number(r.stamp) };
    },

    /** Counts `size` slots of a grant from now instead of from when it was taken (their calls leave now). */
    async restamp(keys: string[], grant: Pick<Grant, 'stamp'>, size: number): Promise<void> {
      const sorted = [...new Set(keys)].sort();
      await sql`SELECT rate_windows_restamp(${sorted}::text[], ${grant.stamp}::bigint, ${size}::int)`.execute(db);
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * How much longer our window is than the provider's one second. Our grant is stamped before the
 * intent is recorded and the call made; a batch that reaches the provider later than the one a
 * window after it would be counted in the same second by the provider. The margin absorbs that
 * difference; it costs the same share of the limit (10 ms of 1 s: 1 %).
 */
export const WINDOW_MARGIN_MS = 10;

/** The pace window of a channel's number. */
export const channelPaceKey = (channelId: string) => `channel:${channelId}`;

/** Meta counts messages per second: `perSecond` in any second (plus our margin). */
export const paceWindow = (key: string, perSecond: number, marginMs = WINDOW_MARGIN_MS): PaceWindow => ({
  key,
  limit: Math.max(1, Math.floor(perSecond)),
  windowMs: 1000 + marginMs,
});

/**
 * A number's pace in tenths of a second: a tenth of its limit per 100 ms (plus a tenth of the
 * margin). The one-second window alone lets a page that stalled take a whole second's slots at
 * once; their calls then reach the provider together with the late ones of the second before,
 * and it refuses the excess (130429). Spread over tenths, a catch-up is as fast as the steady pace.
 */
export const tenthWindow = (key: string, perSecond: number, marginMs = WINDOW_MARGIN_MS): PaceWindow => ({
  key: `${key}:tenth`,
  limit: Math.max(1, Math.floor(perSecond / 10)),
  windowMs: 100 + Math.ceil(marginMs / 10),
});
