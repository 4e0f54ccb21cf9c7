import { sql, type AliasedRawBuilder, type Expression, type Kysely, type RawBuilder } from 'kysely';
import { reportById } from '../../domain/reports/catalogue';
import type { EventCell, ReportLocale } from '../../domain/reports/cells';
import type { Database } from '../schema';
import { csvLineOf, type LineCell } from './csv-cells';
import type { ReportQuery, ReportSource } from './source';

/**
 * The one place a big report's columns are selected: each catalogue column's value as PostgreSQL
 * selects it, keyed by the column's key. Both writers are derived from it: the row source (what
 * `csvRow` and the XLSX sheet format) and the CSV lines PostgreSQL formats itself
 * (src/db/reports/csv-lines.ts), so a column added here (and in the catalogue) reaches both.
 *
 * `plain` marks text that can never start a formula nor need quotes (uuids, serial ids, our own
 * constants): the lines skip its checks. `json` marks a jsonb object's text (or null), which a
 * line quotes whenever it has a key without looking for what needs quotes.
 */
export type ColumnValue = Expression<unknown> | { value: Expression<unknown>; csv: 'plain' | 'json' };

/** A finished CSV line of a page: `ord` numbers the lines in the page's order, `cursor` resumes after that row. */
export interface CsvLineRow {
  ord: string;
  line: string;
  cursor: string;
}

/**
 * A page of a report's finished CSV lines (written by PostgreSQL), as one statement to run: the
 * rows after `cursor`, at most `limit` of them, or (limit null) every row up to `through`.
 */
export type CsvLineSource = (
  db: Kysely<Database>,
  query: ReportQuery,
  cursor: string | null,
  limit: number | null,
  locale: ReportLocale,
  through?: string | null,
) => RawBuilder<CsvLineRow>;

/**
 * The keyset cursors after rows `every`, 2 × `every`, … `count` × `every` past `cursor` (fewer
 * when the report ends first): where the next pages of a report end, found by one index scan
 * that formats nothing, so those pages can be written at once, each bounded by its two cursors.
 */
export type CsvPageEnds = (db: Kysely<Database>, query: ReportQuery, cursor: string | null, every: number, count: number) => RawBuilder<{ cursor: string }>;

type Selection = AliasedRawBuilder<unknown, string>;

export interface KeysetReport {
  reportId: string;
  columns: Readonly<Record<string, ColumnValue>>;
  /** The page's rows (tenant, filters, keyset after `cursor` and up to `through`, order, `limit` unless null) selecting `selections`. */
  page: (
    db: Kysely<Database>,
    query: ReportQuery,
    cursor: string | null,
    limit: number | null,
    selections: Selection[],
    through?: string | null,
  ) => Expression<unknown> & { execute(): Promise<Record<string, unknown>[]> };
  /** The page's ORDER BY, to number its lines. */
  order: RawBuilder<unknown>;
  /** The keyset cursor after a row, as text. */
  cursor: RawBuilder<string>;
}

const valueOf = (c: ColumnValue) => ('csv' in c ? c.value : c);
const hintOf = (c: ColumnValue) => ('csv' in c ? c.csv : undefined);
const eventsInTimeOrder = (events: EventCell[] | null) => (events ? [...events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)) : events);

/** The line cell of each column, or undefined when some column's type has no SQL writer (then csvRow writes the report). */
function lineCellsOf(report: KeysetReport): ((value: Expression<unknown>) => LineCell)[] | undefined {
  const cells: ((value: Expression<unknown>) => LineCell)[] = [];
  for (const column of reportById(report.reportId)!.columns) {
    const hint = hintOf(report.columns[column.key]);
    const kind = column.type === 'text' ? (hint ?? 'text') : column.type;
    if (kind !== 'text' && kind !== 'plain' && kind !== 'json' && kind !== 'datetime' && kind !== 'integer' && kind !== 'seconds' && kind !== 'events')
      return undefined;
    cells.push((value) => ({ kind, value }));
  }
  return cells;
}

/**
 * The row source and the CSV line source of a report paged by keyset. Throws at load when the
 * catalogue and `columns` disagree: a column must be defined in both, and only there.
 */
export function keysetReport(report: KeysetReport): {
  reportId: string;
  source: ReportSource;
  lines: { page: CsvLineSource; ends: CsvPageEnds } | undefined;
} {
  const def = reportById(report.reportId);
  if (!def) throw new Error(`keysetReport: no catalogue entry ${report.reportId}`);
  const keys = def.columns.map((c) => c.key);
  const extra = Object.keys(report.columns).filter((k) => !keys.includes(k));
  const missing = keys.filter((k) => !(k in report.columns));
  if (missing.length || extra.length) throw new Error(`report ${report.reportId}: columns without SQL [${missing}], SQL without a column [${extra}]`);
  const values = keys.map((k, i) => sql`${valueOf(report.columns[k])}`.as(`c${i}`));
  const isEvents = def.columns.map((c) => c.type === 'events');

  const source: ReportSource = async (db, query, cursor, limit) => {
    const rows = await report.page(db, query, cursor, limit, [...values, sql`${report.cursor}`.as('cursor')]).execute();
    return {
      // Events are shown in time order (ties as stored), as the lines' eventsCell writes them.
      rows: rows.map((r) => keys.map((_, i) => (isEvents[i] ? eventsInTimeOrder(r[`c${i}`] as EventCell[] | null) : r[`c${i}`]))),
      nextCursor: rows.length === limit && rows.length > 0 ? String(rows[rows.length - 1].cursor) : null,
    };
  };

  const cells = lineCellsOf(report);
  if (!cells) return { reportId: report.reportId, source, lines: undefined };
  // The values are computed once each in the inner query (which has the ORDER BY and LIMIT), the line from them in the outer one.
  const lineCells = cells.map((cell, i) => cell(sql.ref(`p.c${i}`)));
  const page: CsvLineSource = (db, query, cursor, limit, locale, through) => {
    const inner = report.page(
      db,
      query,
      cursor,
      limit,
      [sql<string>`row_number() OVER (ORDER BY ${report.order})`.as('ord'), sql<string>`${report.cursor}`.as('cursor'), ...values],
      through,
    );
    return sql<CsvLineRow>`SELECT p.ord, p.cursor, ${csvLineOf(lineCells, locale)} AS line FROM (${inner}) p`;
  };
  const ends: CsvPageEnds = (db, query, cursor, every, count) => {
    const inner = report.page(db, query, cursor, every * count, [
      sql<string>`row_number() OVER (ORDER BY ${report.order})`.as('ord'),
      sql<string>`${report.cursor}`.as('cursor'),
    ]);
    return sql<{ cursor: string }>`SELECT p.cursor FROM (${inner}) p WHERE p.ord % ${every} = 0 ORDER BY p.ord`;
  };
  return { reportId: report.reportId, source, lines: { page, ends } };
}
