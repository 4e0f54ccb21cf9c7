import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ReportLocale } from '../../domain/reports/cells';
import type { Database } from '../schema';
import type { CsvLineRow, CsvLineSource, CsvPageEnds } from './columns';
import { lineTimeZone } from './csv-cells';
import { callsReport } from './dialer';
import { interactionsReport } from './interactions';

export type { CsvLineRow, CsvLineSource, CsvPageEnds } from './columns';

/** The reports big enough to be written line by line in SQL, derived from their columns (the others go through `csvRow`). */
export const csvLineSources: Record<string, { page: CsvLineSource; ends: CsvPageEnds }> = Object.fromEntries(
  [callsReport, interactionsReport].flatMap((r) => (r.lines ? [[r.reportId, r.lines]] : [])),
);

export interface CsvLinePage {
  rows: number;
  /** The cursor after the page's last row (null when the page is empty). */
  lastCursor: string | null;
}

/**
 * Writes one page of a report as export chunk `seq` inside PostgreSQL: the lines are formatted,
 * joined and stored by one statement, none of them travels to the worker. Keyed by (export, seq):
 * a retried page overwrites itself.
 */
export async function storeCsvLinePage(
  db: Kysely<Database>,
  lines: RawBuilder<CsvLineRow>,
  chunk: { exportId: string; seq: number; head: string; locale: ReportLocale },
): Promise<CsvLinePage> {
  const result = await inLineTimeZone(db, chunk.locale, (trx) =>
    sql<{ rows: number; last_cursor: string | null }>`
    WITH page AS MATERIALIZED (${lines}),
    stored AS (
      INSERT INTO export_chunks (export_id, seq, data)
      SELECT ${chunk.exportId}, ${chunk.seq}, convert_to(${chunk.head} || COALESCE(string_agg(line, '' ORDER BY ord), ''), 'UTF8') FROM page
      ON CONFLICT (export_id, seq) DO UPDATE SET data = EXCLUDED.data
    )
    SELECT count(*)::int AS rows, (array_agg(cursor ORDER BY ord DESC))[1] AS last_cursor FROM page`.execute(trx),
  );
  const row = result.rows[0];
  return { rows: row.rows, lastCursor: row.last_cursor };
}

/** One page of a report's lines as text, for a CSV streamed to the client. */
export async function readCsvLinePage(
  db: Kysely<Database>,
  lines: RawBuilder<CsvLineRow>,
  locale: ReportLocale,
): Promise<{ text: string; rows: number; lastCursor: string | null }> {
  const result = await inLineTimeZone(db, locale, (trx) =>
    sql<{ line: string; cursor: string }>`SELECT line, cursor FROM (${lines}) page ORDER BY ord`.execute(trx),
  );
  const rows = result.rows;
  return { text: rows.map((r) => r.line).join(''), rows: rows.length, lastCursor: rows.length ? rows[rows.length - 1].cursor : null };
}

/**
 * Runs a line statement in a transaction whose TimeZone is the locale's (dateTimeCell writes in it),
 * without JIT (the planner costs a page's window over the whole table and compiles it: ~250 ms of
 * a ~1.5 s interactions page, paid again by every page), and whose stored chunks are compressed
 * with lz4 rather than the default pglz where the server has it: a page's ~3.4 MB of text costs
 * pglz ~15 ms, lz4 ~3 ms (reading it back is the same). The embedded PostgreSQL is built without
 * lz4, so the setting is only asked for where it exists.
 */
function inLineTimeZone<T>(db: Kysely<Database>, locale: ReportLocale, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('TimeZone', ${lineTimeZone(locale)}, true), set_config('jit', 'off', true),
      set_config('default_toast_compression', CASE WHEN 'lz4' = ANY(enumvals) THEN 'lz4' ELSE 'pglz' END, true)
      FROM pg_settings WHERE name = 'default_toast_compression'`.execute(trx);
    return work(trx);
  });
}
