import { sql, type Kysely } from 'kysely';

/**
 * A campaign that has ended (or never started) can be archived: it leaves the lists and frees its
 * contact group, while its attempts, messages and reports stay and still name it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['dialer_campaigns', 'broadcast_campaigns']) {
    await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN archived_at timestamptz, ADD COLUMN archived_by uuid`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['dialer_campaigns', 'broadcast_campaigns']) {
    await sql`ALTER TABLE ${sql.table(table)} DROP COLUMN archived_at, DROP COLUMN archived_by`.execute(db);
  }
}
