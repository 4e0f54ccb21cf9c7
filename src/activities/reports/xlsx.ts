import { PassThrough } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import type ExcelJS from 'exceljs';
import { formatCell, saoPauloWallClock, type CellType, type ReportLocale } from '../../domain/reports/cells';
import type { ReportColumn } from '../../domain/reports/catalogue';

/**
 * XLSX written as a stream with exceljs's WorkbookWriter: each row is committed (serialised into
 * the zip) as it is added, so memory stays flat whatever the number of rows. Inline strings (no
 * shared-strings table, which would grow with the file). Cells are typed: numbers are numbers,
 * dates are Excel dates in São Paulo wall-clock time, so the sheet sorts and sums as expected.
 */

const FORMATS: Record<ReportLocale, Partial<Record<CellType, string>>> = {
  'pt-BR': { datetime: 'dd/mm/yyyy hh:mm:ss', date: 'dd/mm/yyyy', integer: '#,##0', decimal: '#,##0.00', seconds: '0.0', percent: '0.00%' },
  iso: { datetime: 'yyyy-mm-dd hh:mm:ss', date: 'yyyy-mm-dd', integer: '0', decimal: '0.00', seconds: '0.0', percent: '0.00%' },
};

function cellValue(value: unknown, type: CellType, locale: ReportLocale): ExcelJS.CellValue {
  if (value === null || value === undefined || value === '') return null;
  switch (type) {
    case 'datetime':
    case 'date': {
      if (type === 'date' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T00:00:00Z`);
      const d = value instanceof Date ? value : new Date(String(value));
      return Number.isNaN(d.getTime()) ? String(value) : saoPauloWallClock(d);
    }
    case 'integer':
    case 'decimal':
    case 'percent':
      return Number(value);
    case 'seconds':
      return Number(value) / 1000;
    case 'events':
      return formatCell(value, type, locale);
    default:
      return typeof value === 'string' ? value : String(value);
  }
}

export interface XlsxSheet {
  /** Adds rows, waiting whenever the zip is behind (so memory stays flat whatever the size). */
  addRows(rows: readonly unknown[][], isCancelled?: () => boolean): Promise<void>;
  /** Finishes the file; the stream ends after the last byte. */
  finish(): Promise<void>;
  /** The file's bytes as they are produced. */
  output: PassThrough;
}

const ROWS_PER_CHECK = 250;
const MAX_ZIP_BACKLOG_BYTES = 1 << 20;

/**
 * Bytes of sheet XML written but not yet taken by the zip's compressor. exceljs's sheet stream (a
 * StreamBuf, 4.4.0) buffers every committed row, and writes it into the zip entry, without
 * heeding backpressure, so a sheet produced faster than it is deflated and stored piles up in
 * memory (800 MB for a million rows). This reads those internals (`stream.buffers`,
 * `stream.pipes`), hence exceljs pinned to 4.4.0. Waiting on a timer also lets the zip run at all
 * when pages come faster than I/O turns.
 */
interface ZipEntryInput {
  _writableState?: { length: number };
  _readableState?: { length: number };
}

function zipBacklog(sheet: ExcelJS.Worksheet): number {
  const stream = (sheet as unknown as { stream?: { buffers?: { length: number }[]; pipes?: ZipEntryInput[] } }).stream;
  let bytes = 0;
  for (const buffer of stream?.buffers ?? []) bytes += buffer.length;
  // archiver's entry input is a readable-stream 2 PassThrough: no writableLength, its states count the bytes.
  for (const pipe of stream?.pipes ?? []) bytes += (pipe._writableState?.length ?? 0) + (pipe._readableState?.length ?? 0);
  return bytes;
}

/** exceljs is loaded on the first XLSX export only: a worker that never writes one keeps its ~9 MB of heap free. */
export async function createXlsxSheet(title: string, columns: readonly ReportColumn[], locale: ReportLocale): Promise<XlsxSheet> {
  const { default: Excel } = await import('exceljs');
  const output = new PassThrough();
  const workbook = new Excel.stream.xlsx.WorkbookWriter({ stream: output, useStyles: true, useSharedStrings: false });
  workbook.creator = 'Omni Campaigns';
  // Excel limits sheet names to 31 characters without []:*?/\
  const sheet = workbook.addWorksheet(title.replace(/[[\]:*?/\\]/g, ' ').slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = columns.map((c) => ({
    header: c.header,
    key: c.key,
    width: c.type === 'datetime' ? 20 : c.type === 'events' ? 60 : Math.max(10, Math.min(40, c.header.length + 4)),
    style: FORMATS[locale][c.type] ? { numFmt: FORMATS[locale][c.type] } : {},
  }));
  sheet.getRow(1).font = { bold: true };
  const types = columns.map((c) => c.type);
  return {
    output,
    async addRows(rows, isCancelled = () => false) {
      for (let i = 0; i < rows.length; i++) {
        sheet.addRow(rows[i].map((v, c) => cellValue(v, types[c], locale))).commit();
        if (i % ROWS_PER_CHECK === ROWS_PER_CHECK - 1 || i === rows.length - 1) {
          while (zipBacklog(sheet) > MAX_ZIP_BACKLOG_BYTES && !isCancelled()) await setTimeout(1);
        }
      }
    },
    async finish() {
      sheet.commit();
      await workbook.commit();
    },
  };
}
