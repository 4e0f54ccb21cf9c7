import { sql, type Kysely } from 'kysely';

/**
 * What a send does with a contact whose mapped column is empty (`missing_variables` on the send:
 * skip it or send a default text), and which placeholders had no value for each message (on the
 * message, for the monitor and the detailed report).
 *
 * Existing sends get `skip` too, not the "-" they sent before: a "-" in a customer's message ("Olá -,
 * sua fatura…") is the harm the rule removes, and a skipped contact is counted and reported with
 * its reason, so nobody is left unaware. A running send applies it from its next page on.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE broadcast_sends ADD COLUMN missing_variables jsonb NOT NULL DEFAULT '{"policy":"skip"}'::jsonb`.execute(db);
  // Nullable, no default: adding it rewrites nothing, and its writes stay HOT (no index on it).
  await sql`ALTER TABLE broadcast_messages ADD COLUMN missing_variables text[]`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE broadcast_messages DROP COLUMN missing_variables`.execute(db);
  await sql`ALTER TABLE broadcast_sends DROP COLUMN missing_variables`.execute(db);
}
