import { CSV_BOM, csvLine } from '../csv-out';
import { csvRow, type ReportLocale } from './cells';
import type { ReportColumn } from './catalogue';

/** The file's start: BOM and the Portuguese header line. */
export const csvHead = (columns: readonly ReportColumn[]) => CSV_BOM + csvLine(columns.map((c) => c.header));

/** Rows of a report page as CSV text (`;`, CRLF, the locale's dates and numbers, formula-safe text). */
export function csvBody(columns: readonly ReportColumn[], rows: readonly unknown[][], locale: ReportLocale): string {
  const types = columns.map((c) => c.type);
  let text = '';
  for (const row of rows) text += csvRow(row, types, locale);
  return text;
}
