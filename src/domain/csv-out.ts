/**
 * Writing CSV for Brazilian spreadsheets: `;` separated, CRLF, UTF-8 with a BOM so Excel reads
 * accents right. Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR) get a
 * leading apostrophe (OWASP "CSV injection").
 */
export const CSV_BOM = '\uFEFF';
const formulaStart = /^[=+\-@\t\r]/;

export function safeCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = value instanceof Date ? value.toISOString() : String(value);
  if (formulaStart.test(text)) text = `'${text}`;
  if (/[;"\r\n]/.test(text)) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function csvLine(cells: readonly unknown[]): string {
  return cells.map(safeCell).join(';') + '\r\n';
}
