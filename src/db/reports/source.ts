import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema';

/** What a report is run for: the tenant and the filters its catalogue entry accepts (validated). */
export interface ReportQuery {
  tenantId: string;
  filters: Record<string, string | undefined>;
}

/** One page of rows, each an array of raw values in the catalogue's column order. */
export interface ReportPage {
  rows: unknown[][];
  /** Null on the last page. */
  nextCursor: string | null;
}

export type ReportSource = (db: Kysely<Database>, query: ReportQuery, cursor: string | null, limit: number) => Promise<ReportPage>;

/** A cursor of (timestamp with microseconds, id) for time-ordered keyset pages. */
export const microsCursor = (column: string) => sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Rows plus the cursor of the last one when the page is full. */
export function pageOf<R>(rows: R[], limit: number, cursorOf: (last: R) => string, map: (row: R) => unknown[]): ReportPage {
  return { rows: rows.map(map), nextCursor: rows.length === limit && rows.length > 0 ? cursorOf(rows[rows.length - 1]) : null };
}

/** A source that answers everything in one page (small summaries). */
export const singlePage =
  (all: (db: Kysely<Database>, query: ReportQuery) => Promise<unknown[][]>): ReportSource =>
  async (db, query) => ({ rows: await all(db, query), nextCursor: null });
