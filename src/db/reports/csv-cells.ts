import { sql, type RawBuilder } from 'kysely';
import { REPORT_TIME_ZONE, type ReportLocale } from '../../domain/reports/cells';

/**
 * Report CSV cells written by PostgreSQL, byte for byte what `csvRow` (src/domain/reports/cells.ts)
 * writes from the same values, so a big report's lines never leave the database as rows to parse
 * and format one by one. test/integration/report-csv-golden.test.ts holds both to the same bytes.
 */

type Expr = RawBuilder<unknown>;
export type CsvCell = RawBuilder<string>;

// Enough digits for a bigint; to_char writes '#' past the pattern.
const GROUPED = 'FM9,999,999,999,999,999,990';

/** Text as `safeCell`: '' for null, a leading apostrophe before = + - @ tab CR, quoted when it holds ; " CR LF. */
export const textCell = (value: Expr): CsvCell =>
  sql<string>`(CASE WHEN (${value})::text ~ '^[=+\\-@\\t\\r]|[;"\\r\\n]' THEN
    (CASE WHEN (${value})::text ~ '[;"\\r\\n]' THEN '"' || replace(CASE WHEN (${value})::text ~ '^[=+\\-@\\t\\r]' THEN '''' ELSE '' END || (${value})::text, '"', '""') || '"'
      ELSE '''' || (${value})::text END)
    ELSE COALESCE((${value})::text, '') END)`;

/** Text that cannot start a formula nor need quotes (uuids, serial ids, our own constants). */
export const plainCell = (value: Expr): CsvCell => sql<string>`COALESCE((${value})::text, '')`;

/** A timestamptz: `02/12/2026 14:05:00` in São Paulo (pt-BR), or ISO 8601 UTC with milliseconds (iso). */
export const dateTimeCell = (value: Expr, locale: ReportLocale): CsvCell =>
  locale === 'iso'
    ? sql<string>`COALESCE(to_char((${value}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')`
    : sql<string>`COALESCE(to_char((${value}) AT TIME ZONE ${sql.lit(REPORT_TIME_ZONE)}, 'DD/MM/YYYY HH24:MI:SS'), '')`;

/** A whole number: `1.234` (pt-BR) or `1234` (iso). */
export const integerCell = (value: Expr, locale: ReportLocale): CsvCell =>
  locale === 'iso' ? sql<string>`COALESCE((${value})::text, '')` : sql<string>`COALESCE(replace(to_char(${value}, ${sql.lit(GROUPED)}), ',', '.'), '')`;

/** Whole milliseconds as seconds with one decimal, rounded half away from zero: `1.234,6` (pt-BR) or `1234.6` (iso). */
export const secondsCell = (ms: Expr, locale: ReportLocale): CsvCell =>
  locale === 'iso'
    ? sql<string>`COALESCE(round((${ms}) / 1000.0, 1)::text, '')`
    : sql<string>`COALESCE(translate(to_char(round((${ms}) / 1000.0, 1), ${sql.lit(`${GROUPED}.0`)}), ',.', '.,'), '')`;

/** Milliseconds between two timestamptz, each cut to the millisecond first (as a JavaScript Date holds them). */
export const millisBetween = (from: Expr, to: Expr): Expr =>
  sql`(extract(epoch FROM date_trunc('milliseconds', ${to})) - extract(epoch FROM date_trunc('milliseconds', ${from}))) * 1000`;

/**
 * A jsonb array of interaction events in time order (`at` compared as text, ties in stored order)
 * as `accepted 02/12/2026 14:05:00 | read …`; written as is, like the JavaScript writer's events cells.
 */
export const eventsCell = (events: Expr, locale: ReportLocale): CsvCell =>
  sql<string>`COALESCE((SELECT string_agg(COALESCE(e.value ->> 'type', 'undefined') || ' ' || ${dateTimeCell(sql`(e.value ->> 'at')::timestamptz`, locale)},
      ' | ' ORDER BY e.value ->> 'at' COLLATE "C", e.n) FROM jsonb_array_elements(${events}) WITH ORDINALITY AS e(value, n)), '')`;

/** One CSV line: the cells joined by `;`, ended by CRLF. */
export const csvLineOf = (cells: readonly CsvCell[]): CsvCell => sql<string>`${sql.join(cells, sql` || ';' || `)} || E'\\r\\n'`;
