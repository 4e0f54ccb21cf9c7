import type { Kysely } from 'kysely';
import type pg from 'pg';
import { copyOutBytea } from './bytea-copy';
import type { Database } from './schema';

/** Uploaded files live in PostgreSQL as 1 MiB chunks, so any worker can read them. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

export class UploadTooLargeError extends Error {
  constructor(public readonly limit: number) {
    super(`The file is larger than the limit of ${limit} bytes.`);
  }
}

/**
 * Writes a stream as upload chunks, each insert on its own (no connection is held while the
 * source is awaited). A refused or failed upload is deleted. `inspect` sees the first bytes (up
 * to `inspectBytes`; `complete` when that is the whole file) before anything is written and may
 * throw to refuse the file.
 */
export async function storeUpload(
  db: Kysely<Database>,
  input: {
    tenantId: string;
    fileName: string;
    createdBy: string | null;
    source: AsyncIterable<Buffer>;
    maxBytes: number;
    inspectBytes?: number;
    inspect?: (firstBytes: Buffer, complete: boolean) => void;
  },
): Promise<{ uploadId: string; sizeBytes: number; chunkCount: number }> {
  const inspectBytes = input.inspectBytes ?? 64 * 1024;
  const upload = await db
    .insertInto('uploads')
    .values({ tenant_id: input.tenantId, file_name: input.fileName, created_by: input.createdBy })
    .returning('id')
    .executeTakeFirstOrThrow();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let size = 0;
  let seq = 0;
  let inspected = !input.inspect;
  // One chunk's insert in flight while the next chunk is received: the request is not held up by
  // every insert, and at most two chunks are in memory. Its failure surfaces at the next write.
  let writing: Promise<unknown> = Promise.resolve();

  const write = async (data: Buffer) => {
    await writing;
    writing = db.insertInto('upload_chunks').values({ upload_id: upload.id, seq, data }).execute();
    writing.catch(() => undefined);
    seq += 1;
  };

  const flush = async (all: boolean) => {
    while (pendingBytes >= UPLOAD_CHUNK_BYTES || (all && pendingBytes > 0)) {
      const joined = Buffer.concat(pending);
      const data = joined.subarray(0, UPLOAD_CHUNK_BYTES);
      const rest = joined.subarray(data.length);
      pending = rest.length ? [rest] : [];
      pendingBytes = rest.length;
      await write(data);
    }
  };

  try {
    for await (const piece of input.source) {
      size += piece.length;
      if (size > input.maxBytes) throw new UploadTooLargeError(input.maxBytes);
      pending.push(piece);
      pendingBytes += piece.length;
      if (!inspected && pendingBytes >= inspectBytes) {
        input.inspect?.(Buffer.concat(pending).subarray(0, inspectBytes), false);
        inspected = true;
      }
      if (inspected) await flush(false);
    }
    if (!inspected) input.inspect?.(Buffer.concat(pending), true);
    await flush(true);
    await writing;
  } catch (error) {
    // Once the insert in flight is done with its connection (a caller's transaction rolls back anyway).
    await writing.catch(() => undefined);
    await deleteUpload(db, upload.id).catch(() => undefined);
    throw error;
  }
  await db.updateTable('uploads').set({ size_bytes: size, chunk_count: seq }).where('id', '=', upload.id).execute();
  return { uploadId: upload.id, sizeBytes: size, chunkCount: seq };
}

/** Deletes an upload and its chunks. */
export async function deleteUpload(db: Kysely<Database>, uploadId: string): Promise<void> {
  await db.deleteFrom('uploads').where('id', '=', uploadId).execute();
}

/** Uploads no import took (the API stopped mid-upload) are deleted after a day. */
export async function pruneAbandonedUploads(db: Kysely<Database>, tenantId: string): Promise<void> {
  await db
    .deleteFrom('uploads')
    .where('tenant_id', '=', tenantId)
    .where('created_at', '<', new Date(Date.now() - 86_400_000))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('imports').select('imports.id').whereRef('imports.upload_id', '=', 'uploads.id'))))
    .execute();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One chunk's bytes (in the pieces they arrived in), or undefined past the last chunk. */
async function readUploadChunk(pool: pg.Pool, uploadId: string, seq: number): Promise<Buffer[] | undefined> {
  const client = await pool.connect();
  try {
    return await copyOutBytea(client, `SELECT data FROM upload_chunks WHERE upload_id = '${uploadId}' AND seq = ${seq}`);
  } finally {
    client.release();
  }
}

/**
 * Reads an upload back from a byte offset, chunk by chunk in binary, the next chunk already on
 * its way while the caller works on the current one. Yields the pieces each chunk arrived in.
 */
export async function* readUpload(pool: pg.Pool, uploadId: string, fromByte = 0): AsyncGenerator<Buffer> {
  // COPY takes no parameters: the id is checked to be a UUID before it is written into the SQL.
  if (!UUID.test(uploadId)) throw new Error(`not an upload id: ${uploadId}`);
  let seq = Math.floor(fromByte / UPLOAD_CHUNK_BYTES);
  let skip = fromByte - seq * UPLOAD_CHUNK_BYTES;
  let next = readUploadChunk(pool, uploadId, seq);
  try {
    for (;;) {
      const pieces = await next;
      if (pieces === undefined) return;
      seq += 1;
      next = readUploadChunk(pool, uploadId, seq);
      for (const piece of pieces) {
        if (skip >= piece.length) {
          skip -= piece.length;
          continue;
        }
        yield skip > 0 ? piece.subarray(skip) : piece;
        skip = 0;
      }
    }
  } finally {
    // Stopped early: the chunk read ahead is not wanted, nor its failure.
    next.catch(() => undefined);
  }
}
