import type { Kysely } from 'kysely';
import type pg from 'pg';
import { uuidField } from './binary-copy-encoder';
import { copyOutBytea } from './bytea-copy';
import { copyBinaryRows } from './copy';
import type { Database } from './schema';

/** Uploaded files live in PostgreSQL as 1 MiB chunks, so any worker can read them. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

export class UploadTooLargeError extends Error {
  constructor(public readonly limit: number) {
    super(`The file is larger than the limit of ${limit} bytes.`);
  }
}

/** Where uploads are written: their rows through Kysely, their chunks by COPY on the same database's pool. */
export interface UploadStore {
  db: Kysely<Database>;
  pool: pg.Pool;
}

/**
 * Writes a stream as upload chunks, each COPY on its own (no connection is held while the
 * source is awaited). A refused or failed upload is deleted. `inspect` sees the first bytes (up
 * to `inspectBytes`; `complete` when that is the whole file) before anything is written and may
 * throw to refuse the file.
 */
export async function storeUpload(
  store: UploadStore,
  input: {
    tenantId: string;
    fileName: string;
    createdBy: string | null;
    source: AsyncIterable<Buffer>;
    maxBytes: number;
    inspectBytes?: number;
    inspect?: (firstBytes: Buffer, complete: boolean) => void;
    /**
     * Called once a file larger than one chunk has its first chunk (past `inspect`), before the
     * rest arrives: the import can start reading while the file is stored (the upload is
     * `arriving` until its caller calls completeUpload). After it, a failed upload is marked
     * `abandoned` instead of deleted: the reader stops on it.
     */
    onStart?: (uploadId: string) => Promise<void>;
  },
): Promise<{ uploadId: string; sizeBytes: number; chunkCount: number }> {
  const { db } = store;
  const inspectBytes = input.inspectBytes ?? 64 * 1024;
  const upload = await db
    .insertInto('uploads')
    .values({ tenant_id: input.tenantId, file_name: input.fileName, created_by: input.createdBy, state: input.onStart ? 'arriving' : 'complete' })
    .returning('id')
    .executeTakeFirstOrThrow();
  let started = false;
  let size = 0;
  let seq = 0;
  let inspected = !input.inspect;
  // The file is copied into two chunk buffers filled in turn, the one not being inserted taking the
  // next bytes: no chunk is allocated per MiB (a Buffer.concat per chunk left tens of MB of freed
  // buffers for the collector: bench/import, the API's peak), and at most two chunks are held.
  const buffers = [Buffer.allocUnsafe(UPLOAD_CHUNK_BYTES), Buffer.allocUnsafe(UPLOAD_CHUNK_BYTES)];
  let filling = buffers[0];
  let filled = 0;
  // One chunk's COPY in flight while the next chunk is received: the request is not held up by
  // every insert. Its failure surfaces at the next write.
  let writing: Promise<unknown> = Promise.resolve();

  const write = (data: Buffer) => {
    writing = writeChunk(store.pool, upload.id, seq, data, Boolean(input.onStart));
    writing.catch(() => undefined);
    seq += 1;
    // The other buffer's insert ended before this one began (see flush): it takes the next bytes.
    filling = buffers[seq % 2];
    filled = 0;
  };

  const flush = async (last: boolean) => {
    // A file of more than one chunk: the import starts now, on its first chunk (a smaller one is
    // whole before anything is written, and is taken as before).
    if (input.onStart && !started && !last) {
      await input.onStart(upload.id);
      started = true;
    }
    await writing;
    write(filling.subarray(0, filled));
  };

  try {
    for await (const piece of input.source) {
      size += piece.length;
      if (size > input.maxBytes) throw new UploadTooLargeError(input.maxBytes);
      for (let at = 0; at < piece.length; ) {
        const n = piece.copy(filling, filled, at);
        filled += n;
        at += n;
        if (!inspected && (filled >= inspectBytes || filled === UPLOAD_CHUNK_BYTES)) {
          input.inspect?.(filling.subarray(0, Math.min(filled, inspectBytes)), false);
          inspected = true;
        }
        if (filled === UPLOAD_CHUNK_BYTES) await flush(false);
      }
    }
    if (!inspected) input.inspect?.(filling.subarray(0, filled), true);
    if (filled > 0) await flush(true);
    await writing;
  } catch (error) {
    // Once the COPY in flight is done with its connection, so the delete sees every chunk it wrote.
    await writing.catch(() => undefined);
    if (started) await abandonUpload(db, upload.id).catch(() => undefined);
    else await deleteUpload(db, upload.id).catch(() => undefined);
    throw error;
  }
  // A started upload stays `arriving` until its caller has read the whole request (completeUpload).
  await db
    .updateTable('uploads')
    .set({ size_bytes: size, chunk_count: seq, ...(started ? {} : { state: 'complete' as const }) })
    .where('id', '=', upload.id)
    .execute();
  return { uploadId: upload.id, sizeBytes: size, chunkCount: seq };
}

/**
 * One chunk, by a binary COPY of the buffer itself: an INSERT's parameter would be copied into the
 * driver's message, a MiB allocated per chunk and left to the collector (bench/import: the API's
 * peak while it streams an upload). An arriving upload's readers wait for each chunk, and tell a
 * stalled upload by the time of its last one.
 */
async function writeChunk(pool: pg.Pool, uploadId: string, seq: number, data: Buffer, arriving: boolean): Promise<void> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    // The row up to the chunk's bytes: field count, upload_id (length 16, the uuid), seq (length 4,
    // the int), then data's length; the bytes themselves follow as a piece of their own.
    const head = Buffer.alloc(2 + 20 + 8 + 4);
    head.writeInt16BE(3, 0);
    uuidField(uploadId).copy(head, 2);
    head.writeInt32BE(4, 22);
    head.writeInt32BE(seq, 26);
    head.writeInt32BE(data.length, 30);
    await copyBinaryRows(client, 'upload_chunks', ['upload_id', 'seq', 'data'], [head, data]);
    if (arriving) await client.query('UPDATE uploads SET last_chunk_at = now() WHERE id = $1', [uploadId]);
  } catch (error) {
    failed = error as Error;
    throw error;
  } finally {
    // A connection whose COPY failed midway is not given back to the pool.
    client.release(failed);
  }
}

/** Every chunk of an arriving upload is in: its readers end at the last one. */
export async function completeUpload(db: Kysely<Database>, uploadId: string): Promise<void> {
  await db.updateTable('uploads').set({ state: 'complete' }).where('id', '=', uploadId).where('state', '=', 'arriving').execute();
}

/** An arriving upload will never be whole: its readers stop (UploadAbandonedError). */
export async function abandonUpload(db: Kysely<Database>, uploadId: string): Promise<void> {
  await db.updateTable('uploads').set({ state: 'abandoned' }).where('id', '=', uploadId).where('state', '=', 'arriving').execute();
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

/** The upload was cut off (or its sender went silent) before its last chunk: the file will never be whole. */
export class UploadAbandonedError extends Error {}

export interface ReadUploadOptions {
  /** Called while the reader waits for a chunk still arriving (an activity heartbeats here). */
  onWait?: () => void;
  /** How often an arriving upload is looked at again. */
  pollMs?: number;
  /** An arriving upload with no new chunk for this long is taken as abandoned (its API died). */
  stalledMs?: number;
}

/** Whether a missing chunk is the end (`end`), still to come (`wait`), or never coming (throws). */
async function afterLastChunk(pool: pg.Pool, uploadId: string, stalledMs: number): Promise<'end' | 'wait'> {
  const { rows } = await pool.query<{ state: string; stalled: boolean }>(
    `SELECT state, COALESCE(last_chunk_at, created_at) < now() - make_interval(secs => $2) AS stalled FROM uploads WHERE id = $1`,
    [uploadId, stalledMs / 1000],
  );
  const upload = rows[0];
  if (!upload || upload.state === 'complete') return 'end';
  if (upload.state === 'abandoned') throw new UploadAbandonedError('The upload was cut off before the end of the file.');
  if (upload.stalled) throw new UploadAbandonedError(`The upload stopped arriving (no data for ${Math.round(stalledMs / 1000)} s).`);
  return 'wait';
}

/**
 * Reads an upload back from a byte offset, chunk by chunk in binary, the next chunk already on
 * its way while the caller works on the current one. Yields the pieces each chunk arrived in. An
 * upload still arriving is waited for, chunk by chunk, until it is complete or abandoned.
 */
export async function* readUpload(pool: pg.Pool, uploadId: string, fromByte = 0, options: ReadUploadOptions = {}): AsyncGenerator<Buffer> {
  // COPY takes no parameters: the id is checked to be a UUID before it is written into the SQL.
  if (!UUID.test(uploadId)) throw new Error(`not an upload id: ${uploadId}`);
  const pollMs = options.pollMs ?? 20;
  const stalledMs = options.stalledMs ?? 120_000;
  let seq = Math.floor(fromByte / UPLOAD_CHUNK_BYTES);
  let skip = fromByte - seq * UPLOAD_CHUNK_BYTES;
  let next = readUploadChunk(pool, uploadId, seq);
  try {
    for (;;) {
      let pieces = await next;
      while (pieces === undefined) {
        const after = await afterLastChunk(pool, uploadId, stalledMs);
        // Complete: the chunk may have been stored just before the upload was marked so; look once more.
        if (after === 'end') {
          pieces = await readUploadChunk(pool, uploadId, seq);
          if (pieces === undefined) return;
          break;
        }
        options.onWait?.();
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        pieces = await readUploadChunk(pool, uploadId, seq);
      }
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
