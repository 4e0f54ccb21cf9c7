import { Context } from '@temporalio/activity';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Database, ImportRow } from '../../db/schema';
import { readUpload } from '../../db/uploads';
import { decodeRecord, detectEncoding, type TextEncoding } from '../../domain/contact-csv/encoding';
import { mapHeader, type HeaderMap } from '../../domain/contact-csv/header';
import { lineTooLong, malformedRow } from '../../domain/contact-csv/reject-reason';
import { validateRow } from '../../domain/contact-csv/row';
import type { Batch } from './batch';
import { readRecords, splitFields } from './records';
import { finishImportRow, writeBatch } from './write-batch';

export interface ImportActivityDeps {
  db: Kysely<Database>;
  pool: pg.Pool;
  /** Rows per transaction. */
  batchSize?: number;
  /** How long one activity call works before handing back to the workflow (progress becomes visible). */
  sliceMs?: number;
  maxRecordBytes?: number;
}

export interface ImportCounts {
  rowsRead: number;
  rowsImported: number;
  rowsRejected: number;
}

export interface ImportSliceResult extends ImportCounts {
  done: boolean;
  /** Set when the file itself could not be imported (the import fails with it). */
  failure?: string;
}

const RAW_KEEP = 4000;

const countsOf = (row: Pick<ImportRow, 'rows_read' | 'rows_imported' | 'rows_rejected'>): ImportCounts => ({
  rowsRead: row.rows_read,
  rowsImported: row.rows_imported,
  rowsRejected: row.rows_rejected,
});

/**
 * Decodes one record per record, not per file: files pasted together from UTF-8 and Windows-1252
 * lines read right whichever comes first (see decodeRecord; it also makes NUL storable).
 */
const decode = (bytes: Buffer, _encoding: TextEncoding): string => decodeRecord(bytes);

export function createImportActivities(deps: ImportActivityDeps) {
  const { db, pool } = deps;
  const batchSize = deps.batchSize ?? 5000;
  const sliceMs = deps.sliceMs ?? 15_000;

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
      const uploadId = row.upload_id;
      if (!uploadId) return { done: true, ...countsOf(row), failure: 'The uploaded file is no longer stored.' };
      if (row.status === 'pending' || !row.encoding) {
        const first = await db.selectFrom('upload_chunks').select('data').where('upload_id', '=', uploadId).where('seq', '=', 0).executeTakeFirst();
        const encoding = detectEncoding(first?.data ?? Buffer.alloc(0));
        row = await db
          .updateTable('imports')
          .set({ status: 'running', encoding, started_at: row.started_at ?? new Date() })
          .where('id', '=', row.id)
          .returningAll()
          .executeTakeFirstOrThrow();
      }
      const encoding = row.encoding as TextEncoding;
      // The byte-level record splitter needs an ASCII-compatible encoding; uploads refuse UTF-16.
      if (encoding !== 'utf8' && encoding !== 'windows-1252') return { done: true, ...countsOf(row), failure: `Unsupported encoding ${encoding}.` };
      const target = { importId: row.id, tenantId: row.tenant_id, groupId: row.group_id };
      let header: HeaderMap | undefined;
      if (row.header) {
        const mapped = mapHeader(row.header);
        if (!mapped.ok) return { done: true, ...countsOf(row), failure: mapped.problem.detail };
        header = mapped.header;
      }

      const client = await pool.connect();
      try {
        const counts = countsOf(row);
        // Where the last consumed record ends; a batch commits it as the resume point.
        const position = { line: row.checkpoint_line, offset: Number(row.checkpoint_offset) };
        const empty = (): Batch => ({ valid: [], rejected: [], rowsRead: counts.rowsRead, checkpointLine: position.line, checkpointOffset: position.offset });
        let batch = empty();
        // Parsing the next batch overlaps with PostgreSQL writing the previous one (one connection,
        // so writes stay in file order); a failed write is rethrown at the next flush.
        let writing: Promise<void> = Promise.resolve();
        let writeError: unknown;
        const settle = async () => {
          await writing;
          if (writeError) throw writeError;
        };
        const flush = async () => {
          const full = batch;
          batch = empty();
          await settle();
          writing = writeBatch(client, target, full).then(
            (outcome) => {
              counts.rowsImported += outcome.imported;
              counts.rowsRejected += outcome.rejected;
              Context.current().heartbeat({ line: full.checkpointLine, ...counts });
            },
            (error) => {
              writeError = error;
            },
          );
        };

        const records = readRecords(readUpload(db, uploadId, Number(row.checkpoint_offset)), {
          startOffset: Number(row.checkpoint_offset),
          startLine: row.checkpoint_line + 1,
          maxRecordBytes: deps.maxRecordBytes,
        });
        for await (const chunkRecords of records) for (const record of chunkRecords) {
          const text = decode(record.bytes, encoding);
          const lastLine = record.line + record.lineCount - 1;
          if (!header) {
            const cells = splitFields(text).fields;
            const mapped = mapHeader(cells);
            if (!mapped.ok) return { done: true, ...counts, failure: mapped.problem.detail };
            header = mapped.header;
            await db.updateTable('imports').set({ header: cells, checkpoint_line: lastLine, checkpoint_offset: record.endOffset }).where('id', '=', row.id).execute();
            position.line = lastLine;
            position.offset = record.endOffset;
            batch = empty();
            continue;
          }
          counts.rowsRead += 1;
          const raw = text.length > RAW_KEEP ? text.slice(0, RAW_KEEP) + '…' : text;
          if (record.tooLong) {
            batch.rejected.push({ line: record.line, raw, reasons: [lineTooLong(deps.maxRecordBytes ?? 64 * 1024)] });
          } else {
            const { fields, malformed } = splitFields(text);
            const result = validateRow(fields, header, { phonePolicy: row.phone_policy });
            if (malformed) {
              const reasons = result.ok ? [] : result.reasons;
              batch.rejected.push({ line: record.line, raw, reasons: [malformedRow('Aspas desbalanceadas ou texto após o fechamento de aspas.'), ...reasons] });
            } else if (result.ok) batch.valid.push({ line: record.line, raw, contact: result.contact });
            else batch.rejected.push({ line: record.line, raw, reasons: result.reasons });
          }
          position.line = lastLine;
          position.offset = record.endOffset;
          batch.rowsRead = counts.rowsRead;
          batch.checkpointLine = lastLine;
          batch.checkpointOffset = record.endOffset;
          if (batch.valid.length + batch.rejected.length >= batchSize) {
            await flush();
            if (Date.now() - started > sliceMs) {
              await settle();
              return { done: false, ...counts };
            }
          }
        }
        if (!header) return { done: true, ...counts, failure: 'The file has no header line.' };
        await flush();
        await settle();
        return { done: true, ...counts };
      } finally {
        client.release();
      }
    },

    async finishImport(input: { importId: string; status: 'completed' | 'failed' | 'cancelled'; error?: string }): Promise<void> {
      await finishImportRow(db, input.importId, input.status, input.error);
    },
  };
}

export type ImportActivities = ReturnType<typeof createImportActivities>;
