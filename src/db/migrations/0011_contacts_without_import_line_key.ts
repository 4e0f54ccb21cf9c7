import { sql, type Kysely } from 'kysely';

/**
 * A group contact's (import, line) stays unique without an index of its own: an import batch
 * commits only by moving the import's checkpoint from where the batch started (see writeBatch), so
 * no two batches write the same lines. The unique index cost about 12% of PostgreSQL's CPU in an
 * import (0.58 s per 880,000 contacts). company_contacts keeps its own: its GIN index on phones
 * outweighs it there.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS contacts_import_line_key`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE UNIQUE INDEX contacts_import_line_key ON contacts (import_id, line_no) WHERE import_id IS NOT NULL`.execute(db);
}
