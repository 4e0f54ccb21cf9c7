/**
 * Splits a `;` CSV into records at the byte level, before decoding, so every record carries the
 * byte offset just after it: an import commits that offset with each batch and a resumed import
 * starts reading there instead of parsing the file again. Safe for UTF-8 and Windows-1252 alike:
 * neither encoding uses the bytes of `"`, `;` or a line break inside a multi-byte character.
 *
 * Quotes follow Excel's CSV: a `"` opens a quoted cell only at the start of a cell, `""` inside
 * one is a quote, and a line break inside one belongs to the cell. A stray `"` in the middle of an
 * unquoted cell is just text.
 */
import { RecordParts } from './record-parts';

export class RawRecord {
  constructor(
    /** Physical line number (1-based) where the record starts. */
    readonly line: number,
    /** The record's bytes without its line terminator are `source[start, end)` (no Buffer per record). */
    readonly source: Buffer,
    readonly start: number,
    readonly end: number,
    /** Byte offset in the file just after the record's terminator. */
    readonly endOffset: number,
    /** Lines the record spans (quoted line breaks make it more than one). */
    readonly lineCount: number,
    /** The record was cut because it exceeded the maximum size. */
    readonly tooLong: boolean,
  ) {}

  get bytes(): Buffer {
    return this.source.subarray(this.start, this.end);
  }
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const SEMI = 0x3b;

export interface RecordReaderOptions {
  /** Byte offset of the first byte of `source` in the file. */
  startOffset?: number;
  /** Physical line number of the first line in `source`. */
  startLine?: number;
  /** Largest record; a longer one is cut at its next line break and flagged. */
  maxRecordBytes?: number;
  /** The line terminator: LF (also CRLF), or CR for old Mac files. */
  newline?: 'lf' | 'cr';
}

/** Old Mac files end lines with CR alone: CRs and no LF in the first bytes. */
export function detectNewline(firstBytes: Uint8Array): 'lf' | 'cr' {
  return firstBytes.includes(LF) || !firstBytes.includes(CR) ? 'lf' : 'cr';
}

/** Quote state carried across line segments and chunks. */
class QuoteState {
  inQuotes = false;
  cellStart = true;
  /** Inside quotes, a `"` was the last byte seen: a closing quote, or the first of `""`. */
  pendingQuote = false;

  scan(bytes: Buffer, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      if (this.pendingQuote) {
        this.pendingQuote = false;
        if (b === QUOTE) continue; // "" inside a quoted cell
        this.inQuotes = false;
      }
      if (this.inQuotes) {
        if (b === QUOTE) this.pendingQuote = true;
      } else if (b === SEMI) this.cellStart = true;
      else {
        if (b === QUOTE && this.cellStart) this.inQuotes = true;
        this.cellStart = false;
      }
    }
  }

  /** At a line break: is it inside a quoted cell? */
  breakInsideQuotes(): boolean {
    if (this.pendingQuote) {
      this.pendingQuote = false;
      this.inQuotes = false;
    }
    if (this.inQuotes) return true;
    this.cellStart = true;
    return false;
  }

  reset(): void {
    this.inQuotes = false;
    this.cellStart = true;
    this.pendingQuote = false;
  }
}

/**
 * A few hundred records per yield: one await per record would cost seconds over a million, and a
 * whole chunk's records (and the rows made of them) would outlive the young generation.
 */
const RECORDS_PER_YIELD = 256;

/**
 * Yields the records in arrays of up to RECORDS_PER_YIELD.
 *
 * A quote opened at the start of a cell and never closed (within maxRecordBytes, or before the end
 * of the file) would swallow the lines after it: then only its first line is the record (it comes
 * out malformed) and reading goes on from the next line.
 */
export async function* readRecords(source: AsyncIterable<Buffer>, options: RecordReaderOptions = {}): AsyncGenerator<RawRecord[]> {
  const maxBytes = options.maxRecordBytes ?? 64 * 1024;
  const NL = options.newline === 'cr' ? CR : LF;
  let offset = options.startOffset ?? 0;
  let line = options.startLine ?? 1;
  let recordStart = offset;
  const parts = new RecordParts();
  let newlinesInside = 0;
  let tooLong = false;
  const quotes = new QuoteState();

  const reset = () => {
    parts.clear();
    newlinesInside = 0;
    tooLong = false;
    quotes.reset();
  };
  const finish = (endOffset: number): RawRecord | undefined => {
    parts.collapse();
    const { source, start } = parts;
    let end = parts.end;
    if (NL === LF && end > start && source[end - 1] === CR) end--;
    const record = end > start || tooLong ? new RawRecord(line, source, start, end, endOffset, newlinesInside + 1, tooLong) : undefined;
    line += newlinesInside + 1;
    recordStart = endOffset;
    reset();
    return record;
  };
  /** The unclosed-quote case: the record is its first line; the bytes after it are read again. */
  const cutAtFirstLine = (): { record: RawRecord | undefined; reread: Buffer } => {
    parts.collapse();
    const all = parts.source.subarray(parts.start, parts.end);
    const nl = all.indexOf(NL);
    const reread = all.subarray(nl + 1);
    parts.clear();
    parts.add(all, 0, nl);
    newlinesInside = 0;
    tooLong = false;
    const record = finish(recordStart + nl + 1);
    offset = recordStart;
    return { record, reread };
  };

  const bom = { skipped: 0 };
  const queue: Buffer[] = [];
  const input = (offset === 0 ? withoutBom(source, bom) : source)[Symbol.asyncIterator]();
  for (;;) {
    if (queue.length === 0) {
      const next = await input.next();
      if (next.done) break;
      offset += bom.skipped;
      recordStart += bom.skipped;
      bom.skipped = 0;
      queue.push(next.value);
    }
    let out: RawRecord[] = [];
    while (queue.length) {
      const chunk = queue.shift()!;
      let start = 0;
      // The next quote in this chunk, found once: most lines have none, and searching the rest of a
      // 1 MiB chunk for every line would make the scan quadratic.
      let nextQuote = chunk.indexOf(QUOTE);
      while (start < chunk.length) {
        const nl = chunk.indexOf(NL, start);
        const end = nl === -1 ? chunk.length : nl;
        if (nextQuote !== -1 && nextQuote < start) nextQuote = chunk.indexOf(QUOTE, start);
        if (!tooLong) {
          // Only segments with a quote, or inside a quoted cell, need the byte-by-byte state machine.
          if ((nextQuote !== -1 && nextQuote < end) || quotes.pendingQuote) quotes.scan(chunk, start, end);
          else if (!quotes.inQuotes && end > start) quotes.cellStart = chunk[end - 1] === SEMI;
          parts.add(chunk, start, end);
          if (parts.bytes > maxBytes) {
            if (quotes.inQuotes && newlinesInside > 0) {
              const { record, reread } = cutAtFirstLine();
              if (record) out.push(record);
              queue.unshift(reread, chunk.subarray(end));
              break;
            }
            // A giant line: stop keeping it and resynchronise at the next line break.
            tooLong = true;
          }
        }
        if (nl === -1) {
          offset += chunk.length - start;
          break;
        }
        offset += nl + 1 - start;
        start = nl + 1;
        if (!tooLong && quotes.breakInsideQuotes()) {
          parts.add(chunk, nl, nl + 1);
          newlinesInside += 1;
          continue;
        }
        const record = finish(offset);
        if (record) out.push(record);
        if (out.length === RECORDS_PER_YIELD) {
          yield out;
          out = [];
        }
      }
    }
    if (out.length) yield out;
  }
  while (parts.bytes > 0 || tooLong) {
    if (quotes.inQuotes && newlinesInside > 0 && !tooLong) {
      // The file ended inside a quote: keep the first line as a record, read the rest again.
      const { record, reread } = cutAtFirstLine();
      const rest: RawRecord[] = record ? [record] : [];
      for await (const batch of readRecords(single(reread), { ...options, startOffset: offset, startLine: line })) rest.push(...batch);
      if (rest.length) yield rest;
      return;
    }
    const record = finish(offset);
    if (record) yield [record];
    break;
  }
}

async function* single(buffer: Buffer): AsyncGenerator<Buffer> {
  if (buffer.length) yield buffer;
}

/** Drops a UTF-8 byte order mark at the start of the file, however the first bytes are chunked. */
async function* withoutBom(source: AsyncIterable<Buffer>, bom: { skipped: number }): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of source) {
    if (!head) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < 3) continue;
    const hasBom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
    if (hasBom) bom.skipped = 3;
    const rest = hasBom ? head.subarray(3) : head;
    head = undefined;
    if (rest.length) yield rest;
  }
  if (head?.length) yield head;
}

/**
 * Splits one decoded record into cells with the same rules: `;` separated, a quoted cell may hold
 * `;`, line breaks and `""`. Text after a closing quote, or a quote never closed, flags the record
 * as malformed (the text is kept).
 */
export function splitFields(text: string): { fields: string[]; malformed: boolean } {
  // Without a quote the rules are plain `;` splitting, done natively.
  if (!text.includes('"')) return { fields: text.split(';'), malformed: false };
  const fields: string[] = [];
  let malformed = false;
  let i = 0;
  const n = text.length;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) {
          malformed = true;
          value += text.slice(j);
          j = n;
          break;
        }
        value += text.slice(j, q);
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      const sep = text.indexOf(';', j);
      const tail = text.slice(j, sep === -1 ? n : sep);
      if (tail.trim()) {
        malformed = true;
        value += tail;
      }
      fields.push(value);
      if (sep === -1) break;
      i = sep + 1;
    } else {
      const sep = text.indexOf(';', i);
      fields.push(text.slice(i, sep === -1 ? n : sep));
      if (sep === -1) break;
      i = sep + 1;
    }
  }
  return { fields, malformed };
}
