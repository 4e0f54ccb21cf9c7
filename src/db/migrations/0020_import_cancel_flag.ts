import { sql, type Kysely } from 'kysely';

/**
 * A cancel is a fact in the import's row: the API sets it under the row's lock, and a batch
 * commits its checkpoint only while it is unset (see writeBatch), so no batch commits after the
 * cancel is answered.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE imports ADD COLUMN cancel_requested_at timestamptz, ADD COLUMN cancelled_by text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE imports DROP COLUMN cancel_requested_at, DROP COLUMN cancelled_by`.execute(db);
}
