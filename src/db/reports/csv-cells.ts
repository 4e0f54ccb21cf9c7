import { sql, type Expression, type RawBuilder } from 'kysely';
import { REPORT_TIME_ZONE, type ReportLocale } from '../../domain/reports/cells';

/**
 * Report CSV cells written by PostgreSQL, byte for byte what `csvRow` (src/domain/reports/cells.ts)
 * writes from the same values, so a big report's lines never leave the database as rows to parse
 * and format one by one. test/integration/report-csv-golden.test.ts holds both to the same bytes.
 */

type Expr = Expression<unknown>;
export type CsvCell = RawBuilder<string>;

// Enough digits for a bigint; to_char writes '#' past the pattern.
const GROUPED = 'FM9,999,999,999,999,999,990';
const FORMULA_START = sql.raw(`'^[=+\\-@\\t\\r]'`);
const NEEDS_QUOTES = sql.raw(`'[;"\\r\\n]'`);

/** Text as `safeCell`: '' for null, a leading apostrophe before = + - @ tab CR, quoted when it holds ; " CR LF. */
export const safeTextCell = (value: Expr): CsvCell =>
  sql<string>`(CASE WHEN (${value})::text ~ ${NEEDS_QUOTES}
    THEN '"' || replace(CASE WHEN (${value})::text ~ ${FORMULA_START} THEN '''' ELSE '' END || (${value})::text, '"', '""') || '"'
    WHEN (${value})::text ~ ${FORMULA_START} THEN '''' || (${value})::text
    ELSE COALESCE((${value})::text, '') END)`;

/** Text that cannot start a formula nor need quotes (uuids, serial ids, our own constants, cells already written). */
export const plainCell = (value: Expr): CsvCell => sql<string>`COALESCE((${value})::text, '')`;

/**
 * The session TimeZone a line statement runs under (`SET LOCAL`): dates are written in it, which
 * costs a fraction of an `AT TIME ZONE 'America/Sao_Paulo'` per cell.
 */
export const lineTimeZone = (locale: ReportLocale) => (locale === 'iso' ? 'UTC' : REPORT_TIME_ZONE);

/** A timestamptz: `02/12/2026 14:05:00` in São Paulo (pt-BR), or ISO 8601 UTC with milliseconds (iso); see lineTimeZone. */
export const dateTimeCell = (value: Expr, locale: ReportLocale): CsvCell =>
  locale === 'iso'
    ? sql<string>`COALESCE(to_char(${value}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')`
    : sql<string>`COALESCE(to_char(${value}, 'DD/MM/YYYY HH24:MI:SS'), '')`;

/** A whole number: `1.234` (pt-BR) or `1234` (iso); to_char only when there are thousands to group. */
export const integerCell = (value: Expr, locale: ReportLocale): CsvCell =>
  locale === 'iso'
    ? sql<string>`COALESCE((${value})::text, '')`
    : sql<string>`COALESCE(CASE WHEN (${value}) BETWEEN -999 AND 999 THEN (${value})::text ELSE replace(to_char(${value}, ${sql.lit(GROUPED)}), ',', '.') END, '')`;

/**
 * Whole milliseconds (an integer or bigint) as seconds with one decimal, rounded half away from
 * zero in integer arithmetic: `1.234,6` (pt-BR) or `1234.6` (iso).
 */
export const secondsCell = (ms: Expr, locale: ReportLocale): CsvCell => {
  // bigint: an integer column near its limit would overflow on + 50.
  const tenths = sql`((abs((${ms})::bigint) + 50) / 100)`;
  const sign = sql`CASE WHEN (${ms}) <= -50 THEN '-' ELSE '' END`;
  const whole =
    locale === 'iso'
      ? sql`(${tenths} / 10)::text`
      : sql`CASE WHEN ${tenths} < 10000 THEN (${tenths} / 10)::text ELSE replace(to_char(${tenths} / 10, ${sql.lit(GROUPED)}), ',', '.') END`;
  return sql<string>`COALESCE(${sign} || ${whole} || ${sql.lit(locale === 'iso' ? '.' : ',')} || (${tenths} % 10)::text, '')`;
};

/** Whole milliseconds between two timestamptz, each cut to the millisecond first (as a JavaScript Date holds them). */
export const millisBetween = (from: Expr, to: Expr): Expr =>
  sql`(extract(epoch FROM date_trunc('milliseconds', ${to}) - date_trunc('milliseconds', ${from})) * 1000)::bigint`;

/**
 * A jsonb array of interaction events in time order (`at` compared as text, ties in stored order)
 * as `accepted 02/12/2026 14:05:00 | read …`; written as is, like the JavaScript writer's events cells.
 */
export const eventsCell = (events: Expr, locale: ReportLocale): CsvCell =>
  sql<string>`COALESCE((SELECT string_agg(COALESCE(e.value ->> 'type', 'undefined') || ' ' || ${dateTimeCell(sql`(e.value ->> 'at')::timestamptz`, locale)},
      ' | ' ORDER BY e.value ->> 'at' COLLATE "C", e.n) FROM jsonb_array_elements(${events}) WITH ORDINALITY AS e(value, n)), '')`;

/**
 * A jsonb object's text (null for none) as `safeCell` writes it: an object with a key always holds
 * `"` and starts with `{`, so it is quoted without a look for what needs quotes; anything else
 * (an empty object, an array, a scalar) takes the careful way.
 */
export const jsonObjectCell = (value: Expr): CsvCell =>
  sql<string>`(CASE WHEN left(${value}, 2) = '{"' THEN '"' || replace(${value}, '"', '""') || '"' ELSE ${safeTextCell(value)} END)`;

/** A cell of a line: its kind says how its value is written (`events`: a jsonb array of events, see eventsCell). */
export interface LineCell {
  kind: 'text' | 'plain' | 'json' | 'datetime' | 'integer' | 'seconds' | 'events';
  value: Expr;
}

function cellOf(c: LineCell, locale: ReportLocale, careful: boolean): CsvCell {
  switch (c.kind) {
    case 'text':
      return careful ? safeTextCell(c.value) : plainCell(c.value);
    case 'plain':
      return plainCell(c.value);
    case 'json':
      return jsonObjectCell(c.value);
    case 'events':
      return eventsCell(c.value, locale);
    case 'datetime':
      return dateTimeCell(c.value, locale);
    case 'integer':
      return integerCell(c.value, locale);
    case 'seconds':
      return secondsCell(c.value, locale);
  }
}

/**
 * One CSV line (cells joined by `;`, CRLF). The text cells are checked once per row: only a row
 * where some text could start a formula or needs quotes (rare) pays for the checks cell by cell.
 */
export function csvLineOf(cells: readonly LineCell[], locale: ReportLocale): CsvCell {
  // One concat_ws builds the line in one pass (a chain of || copies it once per cell); every cell is non-null.
  const write = (careful: boolean) => sql`concat_ws(';', ${sql.join(cells.map((c) => cellOf(c, locale, careful)))})`;
  const texts = cells.filter((c) => c.kind === 'text').map((c) => sql`(${c.value})::text`);
  if (!texts.length) return sql<string>`${write(false)} || E'\\r\\n'`;
  // \x01 joins the texts so that each one's start shows; a \x01 inside a value only sends its row the careful way.
  return sql<string>`(CASE WHEN concat_ws(E'\\x01', ${sql.join(texts)}) ~ '(^|\\x01)[=+\\-@\\t\\r]|[;"\\r\\n]'
    THEN ${write(true)} ELSE ${write(false)} END) || E'\\r\\n'`;
}
