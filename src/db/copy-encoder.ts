import { JsonRecordWriter } from './json-record';
import { RowBuffer } from './row-buffer';
import { utf8Write } from './utf8';

/**
 * Rows in COPY's text format, encoded as UTF-8 straight into Buffers: no string concatenation
 * turned into bytes later, no regular expressions (the import writes a million rows, and that was
 * a fifth of its CPU).
 *
 * Text escaping is COPY's: `\`, tab, line feed and carriage return become `\\`, `\t`, `\n`, `\r`.
 * Strings are written as Buffer.from would write them (a lone surrogate becomes U+FFFD).
 */
const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** Most bytes one UTF-16 unit takes: UTF-8, escaped once inside an array element and again for COPY. */
const MAX_BYTES_PER_UNIT = 4;

export class CopyEncoder extends RowBuffer {
  private rowStarted = false;
  /** Keys JSON- then COPY-escaped. */
  private readonly jsonRecord = new JsonRecordWriter((key) => encodedText(key));

  /**
   * `emit` receives each filled block; blocks are never reused (the socket may still hold them).
   * Without `emit` everything stays in one Buffer that grows: see `written`.
   */
  constructor(
    private readonly emit?: (block: Buffer) => void,
    private readonly blockBytes = 64 * 1024,
  ) {
    super(blockBytes);
  }

  /** Without `emit`: starts again from nothing, keeping the buffer (once what was written is sent). */
  override reset(): void {
    super.reset();
    this.rowStarted = false;
  }

  /** A text value. */
  text(value: string): this {
    this.field(0);
    this.textValue(value);
    return this;
  }

  /** A text value, NULL when undefined or null. */
  optionalText(value: string | null | undefined): this {
    return value === undefined || value === null ? this.null() : this.text(value);
  }

  null(): this {
    this.field(2);
    this.block[this.pos++] = BACKSLASH;
    this.block[this.pos++] = 0x4e; // N
    return this;
  }

  /** A number (integers written digit by digit, without a string). */
  number(value: number): this {
    if (!Number.isSafeInteger(value)) return this.text(String(value));
    this.field(17);
    let n = value;
    if (n < 0) {
      this.block[this.pos++] = 0x2d;
      n = -n;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    for (let i = this.pos + digits - 1; i >= this.pos; i--) {
      this.block[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.pos += digits;
    return this;
  }

  /** A text[] literal: digit-only elements bare, others quoted with `"` and `\` escaped. */
  textArray(values: readonly string[]): this {
    let units = 2;
    for (const v of values) units += v.length + 3;
    this.field(MAX_BYTES_PER_UNIT * units);
    const b = this.block;
    let p = this.pos;
    b[p++] = 0x7b; // {
    for (let i = 0; i < values.length; i++) {
      if (i > 0) b[p++] = 0x2c; // ,
      const v = values[i];
      const end = p + utf8Write(b, v, p);
      p = isDigitBytes(b, p, end) ? end : this.writeQuoted(v, p);
    }
    b[p++] = 0x7d; // }
    this.pos = p;
    return this;
  }

  /** A jsonb value, as JSON.stringify writes it. */
  json(value: object): this {
    this.field(0);
    if (Array.isArray(value) || !this.stringRecord(value as Record<string, unknown>)) this.textValue(JSON.stringify(value));
    return this;
  }

  /** Escaped UTF-8 of the text, at the current position. */
  private textValue(value: string): void {
    this.reserve(MAX_BYTES_PER_UNIT * value.length);
    const start = this.pos;
    // Node's encoder first (fast whatever the string's representation), then a look at the bytes:
    // only a value with a byte to escape is written again, escaped.
    const end = start + utf8Write(this.block, value, start);
    this.pos = needsEscape(this.block, start, end) ? this.writeText(value, start) : end;
  }

  /**
   * An object of string values (the custom fields) as JSON.stringify writes it (see
   * JsonRecordWriter). False, with nothing written, when JSON.stringify must write it.
   */
  private stringRecord(value: Record<string, unknown>): boolean {
    const bytes = this.jsonRecord.bound(value);
    if (bytes < 0) return false;
    this.reserve(bytes);
    const end = this.jsonRecord.write(this.block, this.pos, value);
    if (end < 0) return false;
    this.pos = end;
    return true;
  }

  /** Ends the current row. */
  endRow(): this {
    this.reserve(1);
    this.block[this.pos++] = LF;
    this.rowStarted = false;
    return this;
  }

  /** Hands over what is left (call once, after the last row). */
  finish(): void {
    if (this.pos > 0) this.emit?.(this.block.subarray(0, this.pos));
    this.block = Buffer.alloc(0);
    this.pos = 0;
  }

  /** Room for a field of up to `bytes` bytes, after its tab. */
  protected field(bytes: number): void {
    this.reserve(bytes + 1);
    if (this.rowStarted) this.block[this.pos++] = TAB;
    this.rowStarted = true;
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.block.length) return;
    if (!this.emit) return this.grow(bytes);
    if (this.pos > 0) this.emit(this.block.subarray(0, this.pos));
    this.block = Buffer.allocUnsafe(Math.max(this.blockBytes, bytes));
    this.pos = 0;
  }

  /** UTF-8 with COPY's escapes, from `p`; returns the position after it. */
  private writeText(s: string, p: number): number {
    const b = this.block;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c > CR && c !== BACKSLASH) b[p++] = c;
        else p = writeAsciiEscaped(b, p, c);
      } else if (c < 0x800) {
        b[p++] = 0xc0 | (c >> 6);
        b[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        p = writeThreeBytes(b, p, c);
      } else {
        const next = s.charCodeAt(i + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          b[p++] = 0xf0 | (cp >> 18);
          b[p++] = 0x80 | ((cp >> 12) & 0x3f);
          b[p++] = 0x80 | ((cp >> 6) & 0x3f);
          b[p++] = 0x80 | (cp & 0x3f);
          i++;
        } else p = writeThreeBytes(b, p, 0xfffd);
      }
    }
    return p;
  }

  /** `"s"` with `"` and `\` escaped by a backslash (arrays and JSON alike), then escaped for COPY. */
  private writeQuoted(s: string, p: number): number {
    const b = this.block;
    b[p++] = QUOTE;
    let from = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === QUOTE || c === BACKSLASH) {
        p = this.writeText(s.slice(from, i), p);
        // The escaping backslash, itself escaped for COPY.
        b[p++] = BACKSLASH;
        b[p++] = BACKSLASH;
        if (c === QUOTE) b[p++] = QUOTE;
        else {
          b[p++] = BACKSLASH;
          b[p++] = BACKSLASH;
        }
        from = i + 1;
      }
    }
    p = this.writeText(from === 0 ? s : s.slice(from), p);
    b[p++] = QUOTE;
    return p;
  }
}

function writeAsciiEscaped(b: Buffer, p: number, c: number): number {
  const escape = c === BACKSLASH ? BACKSLASH : c === TAB ? 0x74 : c === LF ? 0x6e : c === CR ? 0x72 : 0;
  if (escape === 0) {
    b[p++] = c;
    return p;
  }
  b[p++] = BACKSLASH;
  b[p++] = escape;
  return p;
}

function writeThreeBytes(b: Buffer, p: number, c: number): number {
  b[p++] = 0xe0 | (c >> 12);
  b[p++] = 0x80 | ((c >> 6) & 0x3f);
  b[p++] = 0x80 | (c & 0x3f);
  return p;
}

/** A text value encoded once, to write on many rows with `encoded`. */
export function encodedText(value: string): Buffer {
  const blocks: Buffer[] = [];
  const out = new CopyEncoder((block) => blocks.push(block), MAX_BYTES_PER_UNIT * value.length + 1);
  out.text(value).finish();
  return Buffer.concat(blocks);
}

/** Whether bytes written hold one COPY escapes: `\`, tab, line feed or carriage return. */
function needsEscape(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === BACKSLASH || (c <= CR && c >= TAB && c !== 0x0b && c !== 0x0c)) return true;
  }
  return false;
}

/** One or more ASCII digits: an array element that needs no quotes. */
function isDigitBytes(b: Buffer, start: number, end: number): boolean {
  if (end === start) return false;
  for (let i = start; i < end; i++) if (b[i] < 0x30 || b[i] > 0x39) return false;
  return true;
}
