/**
 * Splits a `;` CSV into records at the byte level, before decoding, so every record carries the
 * byte offset just after it: an import commits that offset with each batch and a resumed import
 * starts reading there instead of parsing the file again. Safe for UTF-8 and Windows-1252 alike:
 * neither encoding uses the bytes of `"` or newline inside a multi-byte character.
 */
export interface RawRecord {
  /** Physical line number (1-based) where the record starts. */
  line: number;
  /** The record's bytes without its line terminator. */
  bytes: Buffer;
  /** Byte offset in the file just after the record's terminator. */
  endOffset: number;
  /** Lines the record spans (quoted newlines make it more than one). */
  lineCount: number;
  /** Set when the record was cut because it exceeded the maximum size. */
  tooLong?: boolean;
}

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

export interface RecordReaderOptions {
  /** Byte offset of the first byte of `source` in the file. */
  startOffset?: number;
  /** Physical line number of the first line in `source`. */
  startLine?: number;
  /** Largest record; a longer one is cut at its next newline and flagged. */
  maxRecordBytes?: number;
}

/**
 * Yields the records of each input chunk as one array: one await per chunk instead of one per
 * record (a million promise hops cost seconds).
 */
export async function* readRecords(source: AsyncIterable<Buffer>, options: RecordReaderOptions = {}): AsyncGenerator<RawRecord[]> {
  const maxBytes = options.maxRecordBytes ?? 64 * 1024;
  let offset = options.startOffset ?? 0;
  let line = options.startLine ?? 1;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let inQuotes = false;
  let newlinesInside = 0;
  let tooLong = false;

  const finish = (endOffset: number): RawRecord | undefined => {
    let bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, partBytes);
    if (bytes.length && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    const record: RawRecord = { line, bytes, endOffset, lineCount: newlinesInside + 1, ...(tooLong ? { tooLong } : {}) };
    line += newlinesInside + 1;
    parts = [];
    partBytes = 0;
    inQuotes = false;
    newlinesInside = 0;
    tooLong = false;
    return record;
  };

  const bom = { skipped: 0 };
  for await (const chunk of offset === 0 ? withoutBom(source, bom) : source) {
    offset += bom.skipped;
    bom.skipped = 0;
    const out: RawRecord[] = [];
    let start = 0;
    // The next quote in this chunk, found once: most lines have none, and searching the rest of a
    // 1 MiB chunk for every line would make the scan quadratic.
    let nextQuote = chunk.indexOf(QUOTE);
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl === -1 ? chunk.length : nl;
      if (nextQuote !== -1 && nextQuote < start) nextQuote = chunk.indexOf(QUOTE, start);
      if (!tooLong) {
        // Quotes toggle "inside a field"; a newline inside quotes belongs to the field.
        while (nextQuote !== -1 && nextQuote < end) {
          inQuotes = !inQuotes;
          nextQuote = chunk.indexOf(QUOTE, nextQuote + 1);
        }
        parts.push(chunk.subarray(start, end));
        partBytes += end - start;
        // A runaway quote or a giant line: stop keeping it and resynchronise at the next newline.
        if (partBytes > maxBytes) tooLong = true;
      }
      if (nl === -1) {
        offset += chunk.length - start;
        break;
      }
      offset += nl + 1 - start;
      start = nl + 1;
      if (inQuotes && !tooLong) {
        parts.push(chunk.subarray(nl, nl + 1));
        partBytes += 1;
        newlinesInside += 1;
        continue;
      }
      const record = finish(offset);
      if (record && (record.bytes.length > 0 || record.tooLong)) out.push(record);
    }
    if (out.length) yield out;
  }
  if (partBytes > 0 || tooLong) {
    const record = finish(offset);
    if (record && (record.bytes.length > 0 || record.tooLong)) yield [record];
  }
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

/** Splits one decoded record into fields: `;` separated, `"` quoted, `""` an escaped quote. */
export function splitFields(text: string): { fields: string[]; malformed: boolean } {
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
      // Anything between the closing quote and the next separator is kept, but flagged.
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
