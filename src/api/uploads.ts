import type { MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../config';
import type { Database } from '../db/schema';
import { abandonUpload, completeUpload, deleteUpload, pruneAbandonedUploads, storeUpload, type UploadStore, UploadTooLargeError } from '../db/uploads';
import { detectEncoding } from '../domain/contact-csv/encoding';
import { checkFileStart } from '../domain/contact-csv/file-check';
import { nulProblem } from './input-guard';
import { ProblemError } from './problem';

export interface ReceivedContactFile {
  fields: Record<string, string>;
  /** `sizeBytes` is unknown while the file is still arriving (an import started on its first bytes). */
  upload?: { uploadId: string; fileName: string; sizeBytes?: number };
}

type UploadConfig = Pick<Config, 'IMPORT_MAX_BYTES' | 'UPLOAD_MAX_CONCURRENT_PER_TENANT' | 'UPLOAD_MIN_BYTES_PER_SECOND' | 'UPLOAD_RATE_WINDOW_MS'>;

/** Uploads running now, per tenant, in this process. */
const running = new Map<string, number>();

function takeUploadSlot(tenantId: string, max: number): () => void {
  const now = running.get(tenantId) ?? 0;
  if (now >= max) {
    throw new ProblemError(429, 'UPLOADS_BUSY', `Your account already has ${now} uploads in progress (at most ${max} at once); wait for one to finish.`, {
      limit: max,
    });
  }
  running.set(tenantId, now + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (running.get(tenantId) ?? 1) - 1;
    if (left <= 0) running.delete(tenantId);
    else running.set(tenantId, left);
  };
}

/**
 * A client that sends fewer than `minBytesPerSecond` over a window of `windowMs` is cut off
 * (408): a trickling upload must not keep a slot, a socket and memory for ever. Only the time
 * spent waiting for the client counts (not our own chunk inserts, which hold the stream back).
 */
function uploadDeadline(request: FastifyRequest, minBytesPerSecond: number, windowMs: number) {
  let bytes = 0;
  let waited = 0;
  let waitingSince: number | undefined;
  let fail: (error: Error) => void = () => undefined;
  const expired = new Promise<never>((_, reject) => {
    fail = reject;
  });
  expired.catch(() => undefined);
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
  };
  request.raw.on('data', onData);
  const timer = setInterval(() => {
    const now = Date.now();
    const waitedMs = waited + (waitingSince === undefined ? 0 : now - waitingSince);
    if (waitedMs >= windowMs / 2 && bytes < (minBytesPerSecond * waitedMs) / 1000 && request.raw.complete !== true) {
      fail(new ProblemError(408, 'UPLOAD_TOO_SLOW', `The upload sent ${bytes} bytes in ${waitedMs} ms; at least ${minBytesPerSecond} bytes/s are needed.`));
    }
    bytes = 0;
    waited = 0;
    if (waitingSince !== undefined) waitingSince = now;
  }, windowMs);
  return {
    async race<T>(promise: Promise<T>): Promise<T> {
      waitingSince = Date.now();
      try {
        return await Promise.race([promise, expired]);
      } finally {
        waited += Date.now() - waitingSince;
        waitingSince = undefined;
      }
    },
    stop() {
      clearInterval(timer);
      request.raw.off('data', onData);
    },
  };
}

type Deadline = ReturnType<typeof uploadDeadline>;

/**
 * The parts (or a file's bytes) as they arrive, cut off by the deadline. What the multipart reader
 * itself throws (no closing boundary, a truncated part…) is the client's fault: a 400.
 */
async function* guarded<T>(source: AsyncIterable<T>, deadline: Deadline): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<T>;
    try {
      next = await deadline.race(iterator.next());
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (error instanceof ProblemError || (status && status < 500)) throw error;
      throw new ProblemError(400, 'MULTIPART_MALFORMED', `The multipart body cannot be read: ${(error as Error).message}.`);
    }
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Reads a multipart request whose `file` part is a contact CSV, streaming the file into PostgreSQL.
 * No transaction is open meanwhile: each chunk's COPY takes a pooled connection only while it
 * runs, so slow clients cannot starve the pool. The first bytes are checked before anything is
 * written (422 naming the problem, 413 when too large); a refused upload is deleted.
 */
export async function receiveContactFile(
  store: UploadStore,
  request: FastifyRequest,
  config: UploadConfig,
  /** When given: called with the fields so far once the file's first bytes passed their checks, the rest still to come (see withStreamedContactFile). */
  onFileStart?: (received: Required<ReceivedContactFile>) => Promise<void>,
): Promise<ReceivedContactFile> {
  if (!request.isMultipart()) {
    throw new ProblemError(415, 'NOT_MULTIPART', 'Send the CSV as multipart/form-data with a `file` part.');
  }
  const encoding = request.headers['content-encoding'];
  if (encoding && encoding !== 'identity') {
    throw new ProblemError(
      400,
      'CONTENT_ENCODING_UNSUPPORTED',
      `Content-Encoding "${encoding}" is not accepted on uploads; send the multipart body uncompressed.`,
    );
  }
  const release = takeUploadSlot(request.auth.tenantId, config.UPLOAD_MAX_CONCURRENT_PER_TENANT);
  const { db } = store;
  await pruneAbandonedUploads(db, request.auth.tenantId).catch((error) => {
    release();
    throw error;
  });
  const deadline = uploadDeadline(request, config.UPLOAD_MIN_BYTES_PER_SECOND, config.UPLOAD_RATE_WINDOW_MS);
  const maxBytes = config.IMPORT_MAX_BYTES;
  const fields: Record<string, string> = {};
  let upload: ReceivedContactFile['upload'];
  try {
    // One byte over the limit reaches storeUpload, which answers 413 at once; at exactly the limit
    // the reader would wait for the rest of the part, which a client that is refused may never send.
    for await (const part of guarded(request.parts({ limits: { fileSize: maxBytes + 1 } }), deadline)) {
      if (part.type === 'field') {
        if (upload && onFileStart) {
          throw new ProblemError(
            400,
            'FIELD_AFTER_FILE',
            `Send the field "${part.fieldname}" before the file part: the import starts as soon as the file does.`,
          );
        }
        fields[part.fieldname] = String(part.value ?? '');
        if (fields[part.fieldname].includes('\u0000') || part.fieldname.includes('\u0000')) throw nulProblem(part.fieldname, 'body');
        continue;
      }
      const file = part as MultipartFile;
      if (file.fieldname !== 'file' || upload) {
        file.file.resume();
        throw new ProblemError(400, 'UNEXPECTED_FILE', `Only one file, in the part named "file", is accepted (got "${file.fieldname}").`);
      }
      const fileName = file.filename || 'contatos.csv';
      try {
        const stored = await storeUpload(store, {
          tenantId: request.auth.tenantId,
          fileName,
          createdBy: request.auth.userId,
          source: guarded(file.file, deadline),
          maxBytes,
          onStart: onFileStart && ((uploadId) => onFileStart({ fields: { ...fields }, upload: { uploadId, fileName } })),
          inspect: (firstBytes, complete) => {
            const problem = checkFileStart(firstBytes, { complete });
            if (problem) throw new ProblemError(422, problem.code, problem.detail, problem.columns ? { columns: problem.columns } : {});
            const encoding = detectEncoding(firstBytes);
            if (encoding !== 'utf8' && encoding !== 'windows-1252') {
              throw new ProblemError(
                422,
                'FILE_ENCODING_UNSUPPORTED',
                `O arquivo está em ${encoding.toUpperCase()}. Salve como "CSV UTF-8" ou "CSV (separado por vírgulas)" do Excel.`,
              );
            }
          },
        });
        upload = { uploadId: stored.uploadId, fileName, sizeBytes: stored.sizeBytes };
        if (file.file.truncated) throw new UploadTooLargeError(maxBytes);
      } catch (error) {
        file.file.resume();
        if (error instanceof UploadTooLargeError || (error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          throw new ProblemError(413, 'FILE_TOO_LARGE', `The file is larger than the limit of ${maxBytes} bytes.`, { limitBytes: maxBytes });
        }
        throw error;
      }
    }
  } catch (error) {
    // A file an import already reads is marked abandoned (the import stops on it), never deleted under it.
    if (upload) await (onFileStart ? abandonUpload : deleteUpload)(db, upload.uploadId);
    throw error;
  } finally {
    deadline.stop();
    release();
  }
  return { fields, upload };
}

/**
 * Receives the contact file (no transaction open while the bytes arrive), then runs `use` in one
 * transaction; when `use` refuses, the stored upload is deleted.
 */
export async function withContactFile<T>(
  store: UploadStore,
  request: FastifyRequest,
  config: UploadConfig,
  use: (trx: Transaction<Database>, received: ReceivedContactFile) => Promise<T>,
): Promise<T> {
  return withContactFileReceived(store.db, await receiveContactFile(store, request, config), use);
}

export interface StreamedContactFile<T> {
  /** Creates what the file is imported into (one transaction), as withContactFile's `use`. */
  use: (trx: Transaction<Database>, received: ReceivedContactFile) => Promise<T>;
  /** Starts the import on what `use` created. */
  start: (opened: T) => Promise<void>;
}

/**
 * Like withContactFile, but the import starts while the file is still arriving: `use` runs and
 * `start` starts the import as soon as the file's first 64 KiB pass their checks (so fields must
 * come before the file), and the import reads each chunk as it is stored. The upload is marked
 * complete only once the whole request has been read; an upload that fails afterwards is marked
 * abandoned: the import stops on it and takes back what it wrote (and a group it created goes, see finishImportRow).
 */
export async function withStreamedContactFile<T>(
  store: UploadStore,
  request: FastifyRequest,
  config: UploadConfig,
  steps: StreamedContactFile<T>,
): Promise<{ opened: T; sizeBytes: number | undefined }> {
  let opened: { value: T } | undefined;
  const { db } = store;
  const received = await receiveContactFile(store, request, config, async (early) => {
    opened = { value: await db.transaction().execute((trx) => steps.use(trx, early)) };
    await steps.start(opened.value);
  });
  // A file of one chunk or less (or none: `use` refuses that) is taken whole, as withContactFile does.
  if (!opened || !received.upload) {
    const value = await withContactFileReceived(db, received, steps.use);
    await steps.start(value);
    return { opened: value, sizeBytes: received.upload?.sizeBytes };
  }
  await completeUpload(db, received.upload.uploadId);
  return { opened: opened.value, sizeBytes: received.upload.sizeBytes };
}

async function withContactFileReceived<T>(
  db: Kysely<Database>,
  received: ReceivedContactFile,
  use: (trx: Transaction<Database>, received: ReceivedContactFile) => Promise<T>,
): Promise<T> {
  try {
    return await db.transaction().execute((trx) => use(trx, received));
  } catch (error) {
    if (received.upload) await deleteUpload(db, received.upload.uploadId);
    throw error;
  }
}

/**
 * A request answered before its body was read (an early 413/422/408 on an upload) closes its
 * connection: the unread bytes would otherwise be taken as the next request, which never answers.
 */
export function registerUnreadBodyClose(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    if (request.raw.complete === false) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request) => {
    if (request.raw.complete === false) request.raw.socket?.destroy();
  });
}
