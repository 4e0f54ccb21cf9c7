import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { sql, type Kysely } from 'kysely';
import { csvLineSources, storeCsvLinePage } from '../../db/reports/csv-lines';
import { reportSources, type ReportQuery } from '../../db/reports/index';
import type { Database } from '../../db/schema';
import type { ReportLocale } from '../../domain/reports/cells';
import { reportById, type ReportDefinition } from '../../domain/reports/catalogue';
import { csvBody, csvHead } from '../../domain/reports/csv';
import { createXlsxSheet } from './xlsx';

export interface ReportActivityDeps {
  db: Kysely<Database>;
  /** Rows per page (one chunk of a CSV file each). */
  pageSize?: number;
  /**
   * Rows per page of the reports PostgreSQL writes line by line (src/db/reports/csv-lines.ts): no
   * row reaches the worker, and big pages spread each statement's fixed cost (a chunk of ~4 MB).
   */
  linePageSize?: number;
  /**
   * Pages of those reports one activity writes at once, each on its own connection (so on its own
   * PostgreSQL backend and core): the formatting is PostgreSQL's CPU, and one backend uses one core.
   */
  linePagesAtOnce?: number;
}

export interface ReportPageInput {
  exportId: string;
  tenantId: string;
  reportId: string;
  filters: Record<string, string>;
  locale: ReportLocale;
  cursor: string | null;
  seq: number;
}

export interface ReportFileInput {
  exportId: string;
  tenantId: string;
  reportId: string;
  filters: Record<string, string>;
  locale: ReportLocale;
}

/** An XLSX file's bytes are stored in chunks of about this size. */
const XLSX_CHUNK_BYTES = 256 << 10;

function definitionOf(reportId: string): ReportDefinition {
  const def = reportById(reportId);
  // No retry can make an unknown report known.
  if (!def || !reportSources[reportId]) throw ApplicationFailure.nonRetryable(`Unknown report ${reportId}`, 'REPORT_UNKNOWN');
  return def;
}

/**
 * A query PostgreSQL rejects for its data or its text (SQLSTATE classes 22 and 42: a filter value
 * of the wrong type, a column that is not there) fails the same on every retry: fail for good, so
 * the run ends `failed` with the reason instead of retrying for minutes.
 */
async function failForGoodOnBadQuery<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^(22|42)/.test(code)) throw ApplicationFailure.nonRetryable((error as Error).message, 'REPORT_QUERY_FAILED');
    throw error;
  }
}

/** Keyed by (export, seq): a retried page overwrites itself instead of adding a copy. */
const putChunk = (db: Kysely<Database>, exportId: string, seq: number, data: Buffer) =>
  db
    .insertInto('export_chunks')
    .values({ export_id: exportId, seq, data })
    .onConflict((oc) => oc.columns(['export_id', 'seq']).doUpdateSet({ data }))
    .execute();

/** What writing pages of a report gives the export workflow; `pages` chunks were written (1 when absent, as before). */
export interface ReportPagesResult {
  rows: number;
  nextCursor: string | null;
  done: boolean;
  pages?: number;
}

export function createReportActivities({ db, pageSize = 5000, linePageSize = 20_000, linePagesAtOnce = 2 }: ReportActivityDeps) {
  // An XLSX page only waits in memory to become sheet rows: small pages keep the worker's memory low.
  const xlsxPageSize = Math.min(pageSize, 200);
  /**
   * Writes one page of a catalogue report as CSV chunk `seq` (the first with BOM and header); the
   * big reports are formatted and stored by PostgreSQL itself (src/db/reports/csv-lines.ts).
   */
  async function writeReportPage(input: ReportPageInput): Promise<ReportPagesResult> {
    const def = definitionOf(input.reportId);
    const query: ReportQuery = { tenantId: input.tenantId, filters: input.filters };
    if (csvLineSources[input.reportId]) return writeLinePages(input, query, csvHead(def.columns));
    const page = await reportSources[input.reportId](db, query, input.cursor, pageSize);
    const text = (input.seq === 0 ? csvHead(def.columns) : '') + csvBody(def.columns, page.rows, input.locale);
    await putChunk(db, input.exportId, input.seq, Buffer.from(text, 'utf8'));
    return { rows: page.rows.length, nextCursor: page.nextCursor ?? input.cursor, done: page.nextCursor === null };
  }

  /**
   * Writes the next pages of a report PostgreSQL formats (chunks `seq`, `seq` + 1, …) at once: one
   * index scan finds where each page but the last ends, every page but the last is bounded by its
   * two cursors (a row added meanwhile lands in exactly one page, none is cut off), the last takes
   * `linePageSize` rows. Each chunk is keyed by (export, seq): a retry rewrites the same chunks.
   */
  async function writeLinePages(input: ReportPageInput, query: ReportQuery, head: string): Promise<ReportPagesResult> {
    const lines = csvLineSources[input.reportId];
    const ends =
      linePagesAtOnce > 1 ? (await lines.ends(db, query, input.cursor, linePageSize, linePagesAtOnce - 1).execute(db)).rows.map((r) => r.cursor) : [];
    const starts = [input.cursor, ...ends];
    const pages = await Promise.all(
      starts.map((start, i) => {
        const bounded = i < ends.length;
        const statement = lines.page(db, query, start, bounded ? null : linePageSize, input.locale, bounded ? ends[i] : null);
        const seq = input.seq + i;
        return storeCsvLinePage(db, statement, { exportId: input.exportId, seq, head: seq === 0 ? head : '', locale: input.locale });
      }),
    );
    const last = pages[pages.length - 1];
    const full = last.rows === linePageSize;
    return {
      rows: pages.reduce((n, p) => n + p.rows, 0),
      nextCursor: full ? last.lastCursor : (starts[starts.length - 1] ?? null),
      done: !full,
      pages: pages.length,
    };
  }

  /**
   * Writes a whole report as one XLSX file (a zip cannot be resumed half-way: a retry starts over),
   * streaming pages into the workbook and the workbook's bytes into 256 KiB chunks. Heartbeats its
   * row count, updates the run's row count for progress, and stops when the run is cancelled.
   */
  async function writeReportXlsx(input: ReportFileInput): Promise<{ rows: number; chunks: number }> {
    const ctx = Context.current();
    const def = definitionOf(input.reportId);
    await db.deleteFrom('export_chunks').where('export_id', '=', input.exportId).execute();
    const sheet = await createXlsxSheet(def.name, def.columns, input.locale);
    let seq = 0;
    let parts: Buffer[] = [];
    let size = 0;
    const flush = async () => {
      if (size === 0) return;
      const data = Buffer.concat(parts);
      parts = [];
      size = 0;
      await putChunk(db, input.exportId, seq++, data);
    };
    const stored = (async () => {
      for await (const chunk of sheet.output) {
        parts.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size >= XLSX_CHUNK_BYTES) await flush();
      }
      await flush();
    })();
    let rows = 0;
    let cursor: string | null = null;
    const query: ReportQuery = { tenantId: input.tenantId, filters: input.filters };
    try {
      for (;;) {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('report run cancelled');
        const page = await reportSources[input.reportId](db, query, cursor, xlsxPageSize);
        await sheet.addRows(page.rows, () => ctx.cancellationSignal.aborted);
        rows += page.rows.length;
        ctx.heartbeat({ rows });
        await db.updateTable('exports').set({ rows_written: rows }).where('id', '=', input.exportId).execute();
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      await sheet.finish();
      await stored;
    } catch (error) {
      sheet.output.destroy();
      await stored.catch(() => undefined);
      throw error;
    }
    return { rows, chunks: seq };
  }

  /** Deletes the files of finished runs past their tenant's retention; the runs themselves stay. */
  async function deleteExpiredReportFiles(input: { limit?: number } = {}): Promise<number> {
    const expired = await db
      .selectFrom('exports')
      .select('id')
      .where('file_deleted_at', 'is', null)
      .where('expires_at', '<=', sql<Date>`now()`)
      .orderBy('expires_at')
      .limit(input.limit ?? 200)
      .execute();
    for (const { id } of expired) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('export_chunks').where('export_id', '=', id).execute();
        await trx.updateTable('exports').set({ file_deleted_at: new Date() }).where('id', '=', id).execute();
      });
    }
    return expired.length;
  }

  return {
    writeReportPage: (input: ReportPageInput) => failForGoodOnBadQuery(() => writeReportPage(input)),
    writeReportXlsx: (input: ReportFileInput) => failForGoodOnBadQuery(() => writeReportXlsx(input)),
    deleteExpiredReportFiles,
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
