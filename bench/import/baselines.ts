// The two limits the import is measured against, run in the same bench run as ours.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

/** Plain COPY of the CSV file into a table of text columns: the ingest limit. */
export async function rawCopySeconds(pool: pg.Pool, file: string, header: string[]): Promise<number> {
  await pool.query(`DROP TABLE IF EXISTS copy_raw; CREATE TABLE copy_raw (${header.map((c) => `"${c}" text`).join(', ')})`);
  const client = await pool.connect();
  try {
    const started = process.hrtime.bigint();
    await pipeline(createReadStream(file), client.query(copyFrom("COPY copy_raw FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)")));
    return seconds(started);
  } finally {
    client.release();
  }
}

const TYPED_COLUMNS = 'group_id, name, phones, email, document, custom, import_id, line_no';

/**
 * Binary COPY of the rows our import stored (exactly the valid rows, already typed) into a table
 * `LIKE contacts INCLUDING ALL` (same columns, defaults and indexes): the limit for this schema.
 * The rows are first written out to a file, so the timed COPY reads them from disk as ours reads
 * the CSV.
 */
export async function typedCopySeconds(pool: pg.Pool, importId: string, file: string): Promise<{ seconds: number; rows: number }> {
  const client = await pool.connect();
  try {
    await pipeline(
      client.query(copyTo(`COPY (SELECT ${TYPED_COLUMNS} FROM contacts WHERE import_id = '${importId}' ORDER BY id) TO STDOUT (FORMAT binary)`)),
      createWriteStream(file),
    );
    await client.query('DROP TABLE IF EXISTS copy_typed; CREATE TABLE copy_typed (LIKE contacts INCLUDING ALL)');
    await client.query('CHECKPOINT');
    const started = process.hrtime.bigint();
    const copy = client.query(copyFrom(`COPY copy_typed (${TYPED_COLUMNS}) FROM STDIN (FORMAT binary)`));
    await pipeline(createReadStream(file), copy);
    return { seconds: seconds(started), rows: Number(copy.rowCount) };
  } finally {
    client.release();
  }
}

/**
 * `count` contacts already in the group, written by PostgreSQL itself in one statement (as fast
 * as a COPY, nothing sent): one landline each, DDD 12, which the bench file never uses, so every
 * row of the file is still new to the group.
 */
export async function seedGroup(pool: pg.Pool, groupId: string, count: number): Promise<void> {
  await pool.query(
    `INSERT INTO contacts (group_id, name, phones, custom)
       SELECT $1, 'Existente ' || i, ARRAY['55122' || lpad(i::text, 7, '0')], '{}'::jsonb FROM generate_series(1, $2::int) AS i`,
    [groupId, count],
  );
  await pool.query('UPDATE contact_groups SET contact_count = contact_count + $2, phones_revision = phones_revision + 1 WHERE id = $1', [groupId, count]);
  await pool.query('VACUUM ANALYZE contacts');
}
