import { sql, type Kysely } from 'kysely';

/**
 * An import may start while its file is still arriving (issue 17): the upload says whether its
 * last chunk is in (`complete`), more are on their way (`arriving`, with the time of the latest,
 * so a reader notices an API that died mid-upload) or the upload was cut off (`abandoned`). An
 * import that created its group says so: cut off, the group goes with it (the client was refused).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE uploads
    ADD COLUMN state text NOT NULL DEFAULT 'complete' CHECK (state IN ('arriving', 'complete', 'abandoned')),
    ADD COLUMN last_chunk_at timestamptz`.execute(db);
  await sql`ALTER TABLE imports ADD COLUMN creates_group boolean NOT NULL DEFAULT false`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE imports DROP COLUMN creates_group`.execute(db);
  await sql`ALTER TABLE uploads DROP COLUMN state, DROP COLUMN last_chunk_at`.execute(db);
}
