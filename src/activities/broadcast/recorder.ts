import { sql, type Kysely } from 'kysely';
import { recordWrittenMessageInteractions } from '../../db/interaction-sources';
import type { Database } from '../../db/schema';

/** What became of one API call. `release` puts a message back unsent (the send pauses or stops). */
export type Outcome =
  | { id: number; kind: 'accepted'; wamid: string; waId: string; messageStatus: string }
  | { id: number; kind: 'failed'; code: number; title: string; details?: string }
  | { id: number; kind: 'retry'; code: number | null; title: string; details?: string; delayMs: number }
  | { id: number; kind: 'release'; code: number; title: string; details?: string };

/**
 * Writes call outcomes in batches (one statement per flush). Every write is guarded by the row's
 * state: a status webhook that got there first (state `sent`, `read`, `failed`…) is never undone,
 * and only a message still `sending` can go back to `pending`.
 */
export function createRecorder(db: Kysely<Database>, options: { maxBatch?: number; flushMs?: number } = {}) {
  const maxBatch = options.maxBatch ?? 500;
  const flushMs = options.flushMs ?? 100;
  // `at` in epoch milliseconds: node-postgres formats a Date in an array parameter slowly.
  let buffer: (Outcome & { at: number })[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let failure: unknown;

  const write = async (unsorted: (Outcome & { at: number })[]) => {
    const items = [...unsorted].sort((a, b) => a.id - b.id);
    const col = <T>(f: (o: Outcome) => T) => items.map(f);
    // Rows are locked in id order first, as the webhook applier does, so the two never deadlock.
    // The interactions of the messages that reached the API are written by the same statement,
    // from the rows as written (one round trip per flush, no transaction of four).
    await retryOnDeadlock(() =>
      recordWrittenMessageInteractions(
        db,
        sql`
      WITH locked AS (
        SELECT id FROM broadcast_messages WHERE id = ANY(${col((o) => o.id)}::bigint[]) ORDER BY id FOR UPDATE
      ), written AS (
      UPDATE broadcast_messages m SET
        state = CASE v.kind
          WHEN 'accepted' THEN CASE WHEN m.state IN ('sending', 'unknown') THEN 'accepted' ELSE m.state END
          WHEN 'failed' THEN CASE WHEN m.state = 'sending' THEN 'failed' ELSE m.state END
          ELSE CASE WHEN m.state = 'sending' THEN 'pending' ELSE m.state END END,
        wamid = COALESCE(m.wamid, v.wamid),
        wa_id = COALESCE(m.wa_id, v.wa_id),
        message_status = COALESCE(v.mstatus, m.message_status),
        accepted_at = CASE WHEN v.kind = 'accepted' THEN COALESCE(m.accepted_at, v.at) ELSE m.accepted_at END,
        failed_at = CASE WHEN v.kind = 'failed' AND m.state = 'sending' THEN v.at ELSE m.failed_at END,
        error_code = CASE WHEN v.kind <> 'accepted' AND m.state = 'sending' THEN v.code ELSE m.error_code END,
        error_title = CASE WHEN v.kind <> 'accepted' AND m.state = 'sending' THEN v.title ELSE m.error_title END,
        error_details = CASE WHEN v.kind <> 'accepted' AND m.state = 'sending' THEN v.details ELSE m.error_details END,
        next_attempt_at = CASE WHEN v.kind IN ('retry', 'release') AND m.state = 'sending'
          THEN v.at + v.delay_ms * interval '1 millisecond' ELSE m.next_attempt_at END,
        attempts = CASE WHEN v.kind = 'release' AND m.state = 'sending' THEN greatest(0, m.attempts - 1) ELSE m.attempts END
      FROM unnest(
        ${col((o) => o.id)}::bigint[], ${col((o) => o.kind)}::text[],
        ${col((o) => (o.kind === 'accepted' ? o.wamid : null))}::text[], ${col((o) => (o.kind === 'accepted' ? o.waId : null))}::text[],
        ${col((o) => (o.kind === 'accepted' ? o.messageStatus : null))}::text[],
        ${col((o) => (o.kind === 'accepted' ? null : o.code))}::int[], ${col((o) => (o.kind === 'accepted' ? null : o.title))}::text[],
        ${col((o) => (o.kind === 'accepted' ? null : (o.details ?? null)))}::text[],
        ${col((o) => (o.kind === 'retry' ? o.delayMs : 0))}::int[], ${items.map((o) => o.at)}::float8[]
      ) AS u(id, kind, wamid, wa_id, mstatus, code, title, details, delay_ms, at_ms),
      LATERAL (SELECT u.*, to_timestamp(u.at_ms / 1000) AS at) v
      WHERE m.id = v.id AND m.id IN (SELECT id FROM locked)
      RETURNING m.*, v.kind AS outcome_kind
      )`,
        sql`(SELECT * FROM written WHERE outcome_kind IN ('accepted', 'failed'))`,
      ),
    );
  };

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const items = buffer;
    buffer = [];
    if (items.length > 0) {
      writing = writing
        .then(() => write(items))
        .catch((error) => {
          failure ??= error;
        });
    }
    return writing.then(() => {
      if (failure) throw failure;
    });
  };

  return {
    add(outcome: Outcome) {
      buffer.push({ ...outcome, at: Date.now() });
      if (buffer.length >= maxBatch) void flush().catch(() => undefined);
      else timer ??= setTimeout(() => void flush().catch(() => undefined), flushMs);
    },
    flush,
  };
}

/** Runs a statement again when PostgreSQL picked it as a deadlock victim (40P01) or on a serialization failure. */
export async function retryOnDeadlock<T>(run: () => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: string })?.code;
      if (attempt >= tries || (code !== '40P01' && code !== '40001')) throw error;
      await new Promise((r) => setTimeout(r, 10 * attempt));
    }
  }
}
