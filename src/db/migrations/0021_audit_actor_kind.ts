import { sql, type Kysely } from 'kysely';

/**
 * Who did it: people (through the API: a user or their key), operations (a Temporal CLI/UI
 * signal) or the system (automatic pauses, scheduled starts, recurrence cycles). A workflow's
 * entry carries a key of its own, so a retried audit activity writes it once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE audit_log
    ADD COLUMN actor_kind text NOT NULL DEFAULT 'user' CHECK (actor_kind IN ('user', 'operations', 'system')),
    ADD COLUMN event_key text`.execute(db);
  await sql`CREATE UNIQUE INDEX audit_log_event_key ON audit_log (event_key) WHERE event_key IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX audit_log_event_key`.execute(db);
  await sql`ALTER TABLE audit_log DROP COLUMN actor_kind, DROP COLUMN event_key`.execute(db);
}
