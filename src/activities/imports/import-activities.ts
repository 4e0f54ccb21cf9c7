import { setImmediate } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { Database, ImportRow } from '../../db/schema';
import { readUpload, UploadAbandonedError } from '../../db/uploads';
import type { TextEncoding } from '../../domain/contact-csv/encoding';
import { CheckpointMovedError, ImportCancelledError, type Batch } from './batch';
import { detectNewline } from './records';
import { parseImportRows } from './rows';
import { GroupPhoneCache, loadGroupPhones, tryLockGroupImports, unlockGroupImports } from './group-phones';
import type { PhoneSet } from './phone-set';
import { RejectedRows } from './rejected-rows';
import { ValidRows } from './valid-rows';
import { contactRowWriter, finishImportRow, plainRowWriter, rejectionRowWriter, rollBackGroupImport, writeBatch, type ImportTarget } from './write-batch';

export interface ImportActivityDeps {
  db: Kysely<Database>;
  pool: pg.Pool;
  /** Rows per transaction. */
  batchSize?: number;
  /** How long one activity call works before handing back to the workflow (progress becomes visible). */
  sliceMs?: number;
  maxRecordBytes?: number;
  /** How often an import waiting for another import into the same group tries again. */
  lockPollMs?: number;
}

export interface ImportCounts {
  rowsRead: number;
  rowsImported: number;
  rowsRejected: number;
}

export interface ImportSliceResult extends ImportCounts {
  done: boolean;
  /** A cancel was accepted: the counts are those of the batches committed before it. */
  cancelled?: boolean;
  /** Set when the file itself could not be imported (the import fails with it). */
  failure?: string;
}

const countsOf = (row: Pick<ImportRow, 'rows_read' | 'rows_imported' | 'rows_rejected'>): ImportCounts => ({
  rowsRead: row.rows_read,
  rowsImported: row.rows_imported,
  rowsRejected: row.rows_rejected,
});

/**
 * PostgreSQL errors of data (22), integrity (23) and syntax/schema (42) classes repeat on every
 * retry: failing the import at once beats retrying the same batch for minutes.
 */
const deterministic = (error: unknown) => /^(22|23|42)/.test(String((error as { code?: string })?.code ?? ''));

/** The line of the batch's first valid row, else of its first rejected one. */
const firstLine = (batch: Batch): number | undefined =>
  batch.valid.length > 0 ? batch.valid.line(0) : batch.rejected.length > 0 ? batch.rejected.line(0) : undefined;

/** A slice's time ran out while the file it reads was still arriving. */
class SliceOverError extends Error {}

export function createImportActivities(deps: ImportActivityDeps) {
  const { db, pool } = deps;
  const batchSize = deps.batchSize ?? 5000;
  const sliceMs = deps.sliceMs ?? 15_000;

  const lockPollMs = deps.lockPollMs ?? 250;
  const phoneCache = new GroupPhoneCache();

  /** The group's phones: this worker's set from the previous slice if nothing else wrote since. */
  const groupPhones = async (client: pg.PoolClient, importId: string, groupId: string): Promise<PhoneSet> => {
    const { rows } = await client.query<{ phones_revision: string }>('SELECT phones_revision FROM contact_groups WHERE id = $1', [groupId]);
    const revision = Number(rows[0].phones_revision);
    const cached = phoneCache.get(importId, revision);
    if (cached) return cached;
    const phones = await loadGroupPhones(client, groupId);
    phoneCache.set(importId, revision, phones);
    return phones;
  };

  const load = (importId: string) => db.selectFrom('imports').selectAll().where('id', '=', importId).executeTakeFirstOrThrow();

  return {
    /**
     * Imports from the last committed checkpoint for up to `sliceMs`, batch by batch, heartbeating
     * its position. Safe to retry at any point: each batch commits with its checkpoint.
     */
    async importSlice(input: { importId: string }): Promise<ImportSliceResult> {
      const started = Date.now();
      let row = await load(input.importId);
      if (row.status === 'completed' || row.status === 'failed' || row.status === 'cancelled') return { done: true, ...countsOf(row) };
      if (row.cancel_requested_at) return { done: true, cancelled: true, ...countsOf(row) };
      const uploadId = row.upload_id;
      if (!uploadId) return { done: true, ...countsOf(row), failure: 'The uploaded file is no longer stored.' };
      if (row.status === 'pending') {
        row = await db
          .updateTable('imports')
          .set({ status: 'running', started_at: new Date() })
          .where('id', '=', row.id)
          .returningAll()
          .executeTakeFirstOrThrow();
      }
      const resume = row.header ? { offset: Number(row.checkpoint_offset), line: row.checkpoint_line + 1, header: row.header } : undefined;
      // A resumed slice starts mid-file and needs the file's line terminator: its first bytes tell
      // (a fresh import finds it in the bytes it reads first anyway).
      const first = resume
        ? await sql<{ head: Buffer }>`SELECT substring(data FROM 1 FOR 65536) AS head FROM upload_chunks WHERE upload_id = ${uploadId} AND seq = 0`.execute(db)
        : undefined;
      // A file still arriving is waited for, heartbeating (a batch may take a while to fill).
      // A slice past its time while waiting hands back to the workflow (the next resumes at the checkpoint).
      const bytes = readUpload(pool, uploadId, resume?.offset ?? 0, {
        onWait: () => {
          if (Date.now() - started > sliceMs) throw new SliceOverError();
          Context.current().heartbeat({ waiting: 'the upload' });
        },
      });
      const events = parseImportRows(bytes, {
        phonePolicy: row.phone_policy,
        maxLineBytes: deps.maxRecordBytes,
        resume,
        encoding: resume ? ((row.encoding ?? 'utf8') as TextEncoding) : undefined,
        newline: first ? detectNewline(first.rows[0]?.head ?? Buffer.alloc(0)) : undefined,
        // A group's contacts are written straight from the bytes of plain rows (see PlainRowScanner).
        plainRows: row.group_id !== null,
      });
      const client = await pool.connect();
      const groupId = row.group_id;
      let locked = false;
      const cancelled = async () => ({ done: true, cancelled: true, ...countsOf(await load(input.importId)) });
      let writing: Promise<void> = Promise.resolve();
      try {
        let phones: PhoneSet | undefined;
        if (groupId) {
          // Another import into the same group goes first; this one waits, heartbeating, and hands
          // back to the workflow at the end of its slice if it is still waiting.
          while (!(locked = await tryLockGroupImports(client, groupId))) {
            Context.current().heartbeat({ waiting: 'another import into this group' });
            if (Date.now() - started > sliceMs) return { done: false, ...countsOf(row) };
            await Context.current().sleep(lockPollMs);
            if ((await load(input.importId)).cancel_requested_at) return await cancelled();
          }
          phones = await groupPhones(client, row.id, groupId);
        }
        const target: ImportTarget = { importId: row.id, tenantId: row.tenant_id, groupId, phones };

        const counts = countsOf(row);
        // Where the last consumed record ends; a batch commits it as the resume point.
        const position = { line: row.checkpoint_line, offset: Number(row.checkpoint_offset) };
        const writeContactRow = contactRowWriter(target);
        const writePlainRow = groupId ? plainRowWriter(target) : undefined;
        const writeRejectionRow = rejectionRowWriter(target);
        // Written batches are used again: new ones would allocate megabytes of buffers each time,
        // and V8 counts that memory towards starting its next full collection.
        const spare: Batch[] = [];
        const empty = (): Batch => {
          const reused = spare.pop();
          reused?.valid.clear();
          reused?.rejected.clear();
          const valid = reused?.valid ?? new ValidRows(writeContactRow, batchSize, writePlainRow);
          const rejected = reused?.rejected ?? new RejectedRows(writeRejectionRow);
          return { valid, rejected, fromLine: position.line, rowsRead: counts.rowsRead, checkpointLine: position.line, checkpointOffset: position.offset };
        };
        let batch = empty();
        // Parsing the next batch overlaps with PostgreSQL writing the previous one (one connection,
        // so writes stay in file order); a failed write is rethrown at the next flush.
        let writeError: unknown;
        const settle = async () => {
          await writing;
          if (writeError) throw writeError;
        };
        const flush = async () => {
          const full = batch;
          // After the previous write: its batch is then free to take the next rows.
          await settle();
          batch = empty();
          writing = writeBatch(client, target, full).then(
            (outcome) => {
              if (outcome.revision !== undefined && phones) phoneCache.set(row.id, outcome.revision, phones);
              counts.rowsImported += outcome.imported;
              counts.rowsRejected += outcome.rejected;
              Context.current().heartbeat({ line: full.checkpointLine, ...counts });
              spare.push(full);
            },
            (error) => {
              // The set already holds this batch's phones: it is loaded again on the retry.
              phoneCache.forget(row.id);
              writeError = deterministic(error)
                ? ApplicationFailure.nonRetryable(`Line ${firstLine(full)} onwards could not be stored: ${(error as Error).message}`, 'IMPORT_BATCH_REJECTED')
                : error;
            },
          );
        };

        for await (const eventBatch of events) {
          // The upload is read ahead, so parsing never waits for I/O and would keep the event loop
          // to itself: the write in flight, a handful of round trips, would only move on between
          // upload chunks. A turn of the loop after each piece lets it move on meanwhile.
          await setImmediate();
          for (const event of eventBatch) {
            if (event.kind === 'file-problem') {
              await settle();
              return { done: true, ...counts, failure: event.problem.detail };
            }
            position.line = event.lastLine;
            position.offset = event.endOffset;
            if (event.kind === 'header') {
              // Only the first attempt to read the header sets it (and the checkpoint after it).
              const stored = await db
                .updateTable('imports')
                .set({ header: event.cells, encoding: event.encoding, checkpoint_line: event.lastLine, checkpoint_offset: event.endOffset })
                .where('id', '=', row.id)
                .where('header', 'is', null)
                .executeTakeFirst();
              if (stored.numUpdatedRows === 0n) throw new CheckpointMovedError(row.id, row.checkpoint_line);
              batch = empty();
              continue;
            }
            counts.rowsRead += 1;
            if (event.kind === 'plain-row') batch.valid.addPlain(event.line, event, event.scanner);
            else if (event.result.ok) batch.valid.add(event.line, event.raw, event.result.contact);
            else batch.rejected.add(event.line, event.raw, event.result.reasons);
            batch.rowsRead = counts.rowsRead;
            batch.checkpointLine = event.lastLine;
            batch.checkpointOffset = event.endOffset;
            if (batch.valid.length + batch.rejected.length >= batchSize) {
              await flush();
              if (Date.now() - started > sliceMs) {
                await settle();
                return { done: false, ...counts };
              }
            }
          }
        }
        await flush();
        await settle();
        phoneCache.forget(row.id);
        return { done: true, ...counts };
      } catch (error) {
        if (error instanceof UploadAbandonedError) {
          // The file will never be whole: nothing of it stays (the writes in flight first).
          await writing.catch(() => undefined);
          phoneCache.forget(row.id);
          if (groupId) await rollBackGroupImport(client, row.id, groupId);
          return { done: true, rowsRead: 0, rowsImported: 0, rowsRejected: 0, failure: `${error.message} Nothing of this file was kept.` };
        }
        if (error instanceof SliceOverError) {
          await writing.catch(() => undefined);
          return { done: false, ...countsOf(await load(input.importId)) };
        }
        if (!(error instanceof ImportCancelledError)) throw error;
        phoneCache.forget(row.id);
        return await cancelled();
      } finally {
        if (locked && groupId) await unlockGroupImports(client, groupId).catch(() => undefined);
        client.release();
      }
    },

    /** Ends the import; one whose cancel was accepted ends `cancelled` (the status it was given back). */
    async finishImport(input: {
      importId: string;
      status: 'completed' | 'failed' | 'cancelled';
      error?: string;
    }): Promise<'completed' | 'failed' | 'cancelled'> {
      return finishImportRow(db, input.importId, input.status, input.error);
    },
  };
}

export type ImportActivities = ReturnType<typeof createImportActivities>;
