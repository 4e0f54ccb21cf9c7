import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from './schema';

/** The tables that hold a file as numbered chunks, and the column naming the file. */
const chunkTables = {
  upload_chunks: 'upload_id',
  export_chunks: 'export_id',
} as const;

/**
 * Streams a stored file chunk by chunk from `fromSeq`, a few chunks per query, so neither a large
 * upload nor a large report ever sits whole in memory. Each chunk comes as hex text, twice its
 * size: keep `perQuery` small for big chunks.
 */
export function readChunks(db: Kysely<Database>, table: keyof typeof chunkTables, fileId: string, options: { fromSeq?: number; perQuery: number }): Readable {
  const owner = chunkTables[table];
  async function* chunks() {
    let seq = options.fromSeq ?? 0;
    for (;;) {
      const rows = await db
        .selectFrom(table)
        .select(['seq', 'data'])
        .where(owner, '=', fileId)
        .where('seq', '>=', seq)
        .orderBy('seq')
        .limit(options.perQuery)
        .execute();
      for (const row of rows) yield row.data;
      if (rows.length < options.perQuery) return;
      seq = rows[rows.length - 1].seq + 1;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
