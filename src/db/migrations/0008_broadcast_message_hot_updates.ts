import { sql, type Kysely } from 'kysely';

/**
 * A message row is updated about five times (claimed, answered, sent, delivered, read). Each update
 * that touches an indexed column — `state` was in two partial-index predicates, `sending_since` in
 * one — writes a new entry into every index of the table (seven). Without those two indexes only
 * the answer (it sets `wamid`) does; the other updates are HOT: the new row version stays on its
 * page (fillfactor leaves room for it) and no index is touched.
 *
 * Their readers do without them: the page cursor walks (send_id, seq) from where it stopped, and
 * the summaries and the unknown-settling scan one send's rows, a few times per send.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS broadcast_messages_pending_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS broadcast_messages_sending_idx`.execute(db);
  await sql`ALTER TABLE broadcast_messages SET (fillfactor = 70)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE broadcast_messages RESET (fillfactor)`.execute(db);
  await sql`CREATE INDEX broadcast_messages_sending_idx ON broadcast_messages (send_id, sending_since) WHERE state = 'sending'`.execute(db);
  await sql`CREATE INDEX broadcast_messages_pending_idx ON broadcast_messages (send_id, seq) WHERE state = 'pending'`.execute(db);
}
