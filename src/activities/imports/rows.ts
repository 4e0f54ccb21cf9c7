/**
 * The contact file as events: a header, then one validated row per record, each with the byte
 * offset just after it (the import's resume point). Starts at the beginning of a file, checking
 * it first, or at a committed offset with the header already known. Bad content never throws:
 * a problem with the whole file is one `file-problem` event, a bad row is a rejected `row`.
 */
import { decodeRecord, detectEncoding, SNIFF_BYTES, type TextEncoding } from '../../domain/contact-csv/encoding';
import { checkFileStart } from '../../domain/contact-csv/file-check';
import type { FileProblem } from '../../domain/contact-csv/file-problem';
import { mapHeader, type HeaderMap } from '../../domain/contact-csv/header';
import { lineTooLong, malformedRow } from '../../domain/contact-csv/reject-reason';
import { validateRow, type PhonePolicy, type RowResult } from '../../domain/contact-csv/row';
import { PlainRowScanner, type PlainRow } from './plain-row';
import { detectNewline, readRecords, splitFields, type RawRecord } from './records';

export type ImportEvent =
  | { kind: 'header'; cells: string[]; header: HeaderMap; encoding: TextEncoding; line: number; lastLine: number; endOffset: number }
  /** `line`: physical line where the record starts; `raw`: its text (cut to RAW_PREVIEW_CHARS). */
  | { kind: 'row'; line: number; lastLine: number; endOffset: number; raw: string; result: RowResult }
  /** A valid row read from its bytes alone (with `plainRows`; see PlainRowScanner): its text is `source[start, end)`. */
  | ({ kind: 'plain-row'; line: number; lastLine: number; endOffset: number; scanner: PlainRowScanner } & PlainRow)
  | { kind: 'file-problem'; problem: FileProblem };

export interface ImportParseOptions {
  phonePolicy: PhonePolicy;
  /** Longest record, in bytes (default 64 KiB). */
  maxLineBytes?: number;
  /** Required when resuming; detected from the first bytes otherwise. */
  encoding?: TextEncoding;
  newline?: 'lf' | 'cr';
  /** Resume point: the offset and line after the last committed record, and the header cells. */
  resume?: { offset: number; line: number; header: string[] };
  /** Plain rows come as `plain-row` events, their cells found in their bytes (no text is made of them). */
  plainRows?: boolean;
}

export const DEFAULT_MAX_LINE = 64 * 1024;
export const RAW_PREVIEW_CHARS = 1000;
const blank = /^[\s;\u00a0\ufeff]*$/;
const SEMI = 0x3b;

/**
 * Decodes record per record, not per file: files pasted together from UTF-8 and Windows-1252
 * lines read right whichever comes first (see decodeRecord; it also makes NUL storable). A line
 * too long is decoded only as far as its preview.
 */
const decode = (record: RawRecord): string =>
  decodeRecord(record.source, record.start, record.tooLong ? Math.min(record.end, record.start + RAW_PREVIEW_CHARS * 4) : record.end);

/** Most rows start with a letter or digit: only the others are matched against `blank`. */
const isBlank = (text: string): boolean => {
  const c = text.charCodeAt(0);
  return !(c > 0x20 && c < 0x7f && c !== SEMI) && blank.test(text);
};

const preview = (text: string) => (text.length > RAW_PREVIEW_CHARS ? `${text.slice(0, RAW_PREVIEW_CHARS)}…` : text);

/** Reads up to SNIFF_BYTES, then hands back an iterable that replays them before the rest. */
async function peek(source: AsyncIterable<Buffer>): Promise<{ start: Buffer; complete: boolean; all: AsyncIterable<Buffer> }> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let complete = false;
  while (size < SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      complete = true;
      break;
    }
    head.push(next.value);
    size += next.value.length;
  }
  async function* all() {
    yield* head;
    if (complete) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { start: Buffer.concat(head), complete, all: all() };
}

export async function* parseImportRows(source: AsyncIterable<Buffer>, options: ImportParseOptions): AsyncGenerator<ImportEvent[]> {
  let input = source;
  let encoding = options.encoding;
  let newline = options.newline;
  let header: HeaderMap | undefined;
  if (options.resume) {
    const mapped = mapHeader(options.resume.header);
    if (!mapped.ok) {
      yield [{ kind: 'file-problem', problem: mapped.problem }];
      return;
    }
    header = mapped.header;
    if (!encoding || !newline) throw new Error('resuming needs the encoding and line terminator of the file');
  } else {
    const { start, complete, all } = await peek(source);
    const problem = checkFileStart(start, { complete, encoding });
    if (problem) {
      yield [{ kind: 'file-problem', problem }];
      return;
    }
    encoding ??= detectEncoding(start);
    newline ??= detectNewline(start);
    input = all;
  }
  if (encoding !== 'utf8' && encoding !== 'windows-1252') {
    yield [{ kind: 'file-problem', problem: { code: 'FILE_BINARY', detail: `Codificação ${encoding} não suportada: salve como "CSV UTF-8".` } }];
    return;
  }

  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE;
  const records = readRecords(input, {
    startOffset: options.resume?.offset ?? 0,
    startLine: options.resume?.line ?? 1,
    maxRecordBytes: maxLineBytes,
    newline,
  });
  let scanner = header && options.plainRows ? new PlainRowScanner(header, RAW_PREVIEW_CHARS) : undefined;
  for await (const batch of records) {
    const events: ImportEvent[] = [];
    // One array for the cells of the batch's plain rows (its events keep it).
    const cells = scanner ? new Int32Array(batch.length * scanner.stride) : undefined;
    let at = 0;
    for (const record of batch) {
      if (scanner && cells && !record.tooLong && scanner.scan(record.source, record.start, record.end, cells, at)) {
        const { line, source, start, end, endOffset } = record;
        events.push({ kind: 'plain-row', line, lastLine: line + record.lineCount - 1, endOffset, scanner, source, start, end, cells, at });
        at += scanner.stride;
        continue;
      }
      const text = decode(record);
      const lastLine = record.line + record.lineCount - 1;
      if (!record.tooLong && isBlank(text)) continue;
      if (!header) {
        const cells = splitFields(text).fields;
        const mapped = record.tooLong ? undefined : mapHeader(cells);
        if (!mapped?.ok) {
          const problem: FileProblem = mapped ? mapped.problem : { code: 'HEADER_TOO_LONG', detail: 'A primeira linha (cabeçalho) é longa demais.' };
          yield [...events, { kind: 'file-problem', problem }];
          return;
        }
        header = mapped.header;
        // The rows after the header are plain-scanned from the next piece on.
        if (options.plainRows) scanner = new PlainRowScanner(header, RAW_PREVIEW_CHARS);
        events.push({ kind: 'header', cells, header, encoding, line: record.line, lastLine, endOffset: record.endOffset });
        continue;
      }
      const raw = preview(text);
      let result: RowResult;
      if (record.tooLong) result = { ok: false, reasons: [lineTooLong(maxLineBytes)] };
      else {
        const { fields, malformed } = splitFields(text);
        // The cells of a malformed record are guesswork: say what is wrong with the line, not with them.
        result = malformed
          ? { ok: false, reasons: [malformedRow('Aspas abertas e não fechadas, ou texto após o fechamento das aspas.')] }
          : validateRow(fields, header, { phonePolicy: options.phonePolicy });
      }
      events.push({ kind: 'row', line: record.line, lastLine, endOffset: record.endOffset, raw, result });
    }
    if (events.length) yield events;
  }
  if (!header) yield [{ kind: 'file-problem', problem: { code: 'HEADER_MISSING', detail: 'O arquivo não tem linha de cabeçalho.' } }];
}
