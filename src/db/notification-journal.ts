import { sql, type Kysely } from 'kysely';
import type { NotificationRow } from './mercadolivre';
import type { Database } from './schema';

export interface NotificationJournalOptions {
  /** Rows per INSERT; a full batch is flushed at once. */
  maxBatch?: number;
  /** How long the first row of a batch waits for company before it is flushed alone. */
  maxWaitMs?: number;
  /** INSERTs running at once (the rows that arrive meanwhile make the next batch). */
  maxInFlight?: number;
  /** Told when the duplicate counters could not be bumped (bookkeeping only: the rows are safe). */
  onCounterError?: (error: unknown) => void;
}

interface Waiter {
  row: NotificationRow;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the notifications webhook: every request's row waits for one multi-row INSERT
 * shared with the requests around it, and hears back only once that INSERT has committed (so a 200
 * means the row is durable), or with that INSERT's error (only its batch fails). One INSERT per
 * notification cannot keep up with a burst on a small machine; one per batch can.
 *
 * Repeats of a notification (Mercado Livre's retries) keep the first row and only count as
 * duplicates, bumped after the batch is answered: the counter is bookkeeping, and waiting on the
 * row lock of a row the processor is updating would hold the whole batch.
 */
export function createNotificationJournal(db: Kysely<Database>, options: NotificationJournalOptions = {}) {
  const maxBatch = options.maxBatch ?? 500;
  const maxWaitMs = options.maxWaitMs ?? 2;
  const maxInFlight = options.maxInFlight ?? 2;
  let queue: Waiter[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  const running = new Set<Promise<void>>();

  function kick(): void {
    clearTimeout(timer);
    timer = undefined;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      inFlight++;
      const done = flush(batch).finally(() => {
        inFlight--;
        running.delete(done);
        if (queue.length > 0) kick();
      });
      running.add(done);
    }
  }

  async function flush(batch: Waiter[]): Promise<void> {
    const { rows, repeats } = foldRepeats(batch.map((w) => w.row));
    let inserted: Set<string>;
    try {
      inserted = await insertRows(db, rows);
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    for (const w of batch) w.resolve();
    // A row already there (an earlier batch, another API process) counts this one as a repeat too.
    for (const row of rows) {
      if (inserted.has(row.dedupKey)) continue;
      const r = repeats.get(row.dedupKey);
      repeats.set(row.dedupKey, { count: (r?.count ?? 0) + 1, attempts: Math.max(r?.attempts ?? 0, row.attempts) });
    }
    if (repeats.size > 0) await countRepeats(db, repeats).catch((error) => options.onCounterError?.(error));
  }

  return {
    /** Resolves once the notification's row is committed (new, or folded into the one already stored). */
    append(row: NotificationRow): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ row, resolve, reject });
        if (queue.length >= maxBatch) kick();
        else timer ??= setTimeout(kick, maxWaitMs);
      });
    },
    /** Flushes what is queued and waits for every INSERT under way (on shutdown). */
    async drain(): Promise<void> {
      kick();
      while (running.size > 0 || queue.length > 0) {
        await Promise.allSettled([...running]);
        kick();
      }
    },
  };
}

/** The batch with each notification once (the first seen wins), and how many repeats each had. */
function foldRepeats(rows: NotificationRow[]) {
  const first = new Map<string, NotificationRow>();
  const repeats = new Map<string, { count: number; attempts: number }>();
  for (const row of rows) {
    const seen = first.get(row.dedupKey);
    if (!seen) {
      first.set(row.dedupKey, row);
      continue;
    }
    const r = repeats.get(row.dedupKey);
    repeats.set(row.dedupKey, { count: (r?.count ?? 0) + 1, attempts: Math.max(r?.attempts ?? 0, row.attempts) });
  }
  // Sorted by key: two processes' INSERTs then take the unique index's entries in the same order.
  return { rows: [...first.values()].sort((a, b) => (a.dedupKey < b.dedupKey ? -1 : a.dedupKey > b.dedupKey ? 1 : 0)), repeats };
}

async function insertRows(db: Kysely<Database>, rows: NotificationRow[]): Promise<Set<string>> {
  const col = <T>(pick: (r: NotificationRow) => T) => rows.map(pick);
  const { rows: inserted } = await sql<{ dedup_key: string }>`
    INSERT INTO ml_notifications (dedup_key, tenant_id, account_id, topic, resource, user_id, application_id, attempts, source, state, ignore_reason)
    SELECT * FROM unnest(
      ${col((r) => r.dedupKey)}::text[], ${col((r) => r.tenantId)}::uuid[], ${col((r) => r.accountId)}::uuid[], ${col((r) => r.topic)}::text[],
      ${col((r) => r.resource)}::text[], ${col((r) => r.userId)}::text[], ${col((r) => r.applicationId)}::text[], ${col((r) => r.attempts)}::int[],
      ${col((r) => r.source)}::text[], ${col((r) => (r.ignoreReason ? 'ignored' : 'pending'))}::text[], ${col((r) => r.ignoreReason ?? null)}::text[])
    ON CONFLICT ON CONSTRAINT ml_notifications_dedup_key DO NOTHING
    RETURNING dedup_key`.execute(db);
  return new Set(inserted.map((r) => r.dedup_key));
}

async function countRepeats(db: Kysely<Database>, repeats: Map<string, { count: number; attempts: number }>): Promise<void> {
  const keys = [...repeats.keys()].sort();
  await sql`
    UPDATE ml_notifications n SET duplicates = n.duplicates + r.count, attempts = GREATEST(n.attempts, r.attempts)
    FROM unnest(${keys}::text[], ${keys.map((k) => repeats.get(k)!.count)}::int[], ${keys.map((k) => repeats.get(k)!.attempts)}::int[]) AS r(key, count, attempts)
    WHERE n.dedup_key = r.key`.execute(db);
}
