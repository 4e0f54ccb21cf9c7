import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { readChunks } from '../db/chunks';
import type { Database } from '../db/schema';

/** Streams a stored export file chunk by chunk, so a large report never sits whole in memory. */
export const streamExportFile = (db: Kysely<Database>, exportId: string): Readable => readChunks(db, 'export_chunks', exportId, { perQuery: 16 });
