import { sql, type Kysely } from 'kysely';

/** The worker looks for post-sale messages whose send it never heard back from, every few seconds: few rows, found by index. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX ml_messages_sending ON ml_messages (created_at) WHERE state = 'sending'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS ml_messages_sending`.execute(db);
}
