import { sql, type Kysely } from 'kysely';

/**
 * Upload chunks are stored as they come, not compressed: pglz compressed every 1 MiB chunk on its
 * insert (2.5 s of PostgreSQL CPU for a 95 MB CSV, against 0.4 s uncompressed) and decompressed
 * it again when the import read it back. The price is disk: a CSV takes its own size (pglz made it
 * about a third). lz4 would keep both, but not every PostgreSQL build has it (the embedded one
 * does not). Chunks already stored stay as they are.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTENDED`.execute(db);
}
