import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';

/** Streams a stored export file chunk by chunk, so a large report never sits whole in memory. */
export function streamExportFile(db: Kysely<Database>, exportId: string, batchSize = 16): Readable {
  async function* chunks() {
    let seq = -1;
    for (;;) {
      const batch = await db
        .selectFrom('export_chunks')
        .select(['seq', 'data'])
        .where('export_id', '=', exportId)
        .where('seq', '>', seq)
        .orderBy('seq')
        .limit(batchSize)
        .execute();
      for (const c of batch) yield c.data;
      if (batch.length < batchSize) return;
      seq = batch[batch.length - 1].seq;
    }
  }
  return Readable.from(chunks());
}
