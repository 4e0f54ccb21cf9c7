import { JsonRecordWriter } from './json-record';
import { RowBuffer } from './row-buffer';
import { utf8Write } from './utf8';

/**
 * COPY's binary format: an 11-byte signature, int32 flags and int32 header-extension length; then
 * per row an int16 field count and per field an int32 length (-1 for NULL) and the value in the
 * type's binary form; an int16 -1 ends the data.
 */
export const BINARY_COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
export const BINARY_COPY_HEADER = Buffer.concat([BINARY_COPY_SIGNATURE, Buffer.alloc(8)]);
export const BINARY_COPY_TRAILER = Buffer.from([0xff, 0xff]);

/** pg_type oid of text: the element type a text[] names in its binary form. */
const TEXT_OID = 25;
/** The jsonb binary form is a version byte, then the JSON text. */
const JSONB_VERSION = 1;
/** Most UTF-8 bytes one UTF-16 unit takes. */
const MAX_BYTES_PER_UNIT = 3;

/**
 * Rows in COPY's binary format, into one Buffer that grows (see `written`). PostgreSQL then parses
 * no text: no escapes, no uuid or array literals (an import's PostgreSQL CPU fell by a fifth when
 * its contacts went in binary). Values go in as their types' binary forms: text as UTF-8 (PostgreSQL still checks
 * it), uuid as 16 bytes, integer as int32, text[] and jsonb as described at their methods.
 */
export class BinaryCopyEncoder extends RowBuffer {
  /** Where the current row's field count goes; -1 between rows. */
  private rowStart = -1;
  private fields = 0;
  /** Keys as JSON writes them, no escaping for COPY. */
  private readonly jsonRecord = new JsonRecordWriter((key) => Buffer.from(key));

  constructor(blockBytes = 64 * 1024) {
    super(blockBytes);
  }

  override reset(): void {
    super.reset();
    this.rowStart = -1;
  }

  text(value: string): this {
    this.field(4 + MAX_BYTES_PER_UNIT * value.length);
    const at = this.pos;
    const bytes = utf8Write(this.block, value, at + 4);
    this.block.writeInt32BE(bytes, at);
    this.pos = at + 4 + bytes;
    return this;
  }

  /** A text value, NULL when undefined or null. */
  optionalText(value: string | null | undefined): this {
    return value === undefined || value === null ? this.null() : this.text(value);
  }

  null(): this {
    this.field(4);
    this.pos = this.block.writeInt32BE(-1, this.pos);
    return this;
  }

  /** An integer column's value. */
  int4(value: number): this {
    this.field(8);
    this.pos = this.block.writeInt32BE(value, this.block.writeInt32BE(4, this.pos));
    return this;
  }

  /**
   * A text[]: dimensions (1, or 0 when empty), a has-nulls flag, the element type, per dimension
   * its length and lower bound (1), then each element as a field.
   */
  textArray(values: readonly string[]): this {
    let bytes = 4 + 20;
    for (const v of values) bytes += 4 + MAX_BYTES_PER_UNIT * v.length;
    this.field(bytes);
    const b = this.block;
    const at = this.pos;
    let p = at + 4;
    p = b.writeInt32BE(values.length > 0 ? 1 : 0, p);
    p = b.writeInt32BE(0, p);
    p = b.writeInt32BE(TEXT_OID, p);
    if (values.length > 0) {
      p = b.writeInt32BE(values.length, p);
      p = b.writeInt32BE(1, p);
    }
    for (const v of values) {
      const length = utf8Write(b, v, p + 4);
      b.writeInt32BE(length, p);
      p += 4 + length;
    }
    b.writeInt32BE(p - at - 4, at);
    this.pos = p;
    return this;
  }

  /** A jsonb value, as JSON.stringify writes it (an object of strings without JSON.stringify). */
  jsonb(value: object): this {
    const record = Array.isArray(value) ? -1 : this.jsonRecord.bound(value as Record<string, unknown>);
    if (record >= 0) {
      this.field(5 + record);
      const at = this.pos;
      this.block[at + 4] = JSONB_VERSION;
      const end = this.jsonRecord.write(this.block, at + 5, value as Record<string, unknown>);
      if (end >= 0) {
        this.block.writeInt32BE(end - at - 4, at);
        this.pos = end;
        return this;
      }
    } else this.field(0);
    // Not an object of plain strings: JSON.stringify, over whatever the fast path left.
    const json = JSON.stringify(value);
    this.grow(5 + MAX_BYTES_PER_UNIT * json.length);
    const at = this.pos;
    this.block[at + 4] = JSONB_VERSION;
    const bytes = utf8Write(this.block, json, at + 5);
    this.block.writeInt32BE(1 + bytes, at);
    this.pos = at + 5 + bytes;
    return this;
  }

  /** A text value given as its UTF-8 bytes `source[from, to)` (valid UTF-8: PostgreSQL checks). */
  textBytes(source: Buffer, from: number, to: number): this {
    this.field(4 + to - from);
    const at = this.block.writeInt32BE(to - from, this.pos);
    this.pos = copyRange(source, from, to, this.block, at);
    return this;
  }

  /** textBytes, NULL when empty. */
  optionalTextBytes(source: Buffer, from: number, to: number): this {
    return from === to ? this.null() : this.textBytes(source, from, to);
  }

  /** A text[] of `count` values given as UTF-8 byte ranges of `source`: `ranges[first + 2k]` to `ranges[first + 2k + 1]`. */
  textArrayBytes(source: Buffer, ranges: Int32Array, first: number, count: number): this {
    let bytes = 4 + 20;
    for (let k = first; k < first + 2 * count; k += 2) bytes += 4 + ranges[k + 1] - ranges[k];
    this.field(bytes);
    const b = this.block;
    const at = this.pos;
    let p = at + 4;
    p = b.writeInt32BE(count > 0 ? 1 : 0, p);
    p = b.writeInt32BE(0, p);
    p = b.writeInt32BE(TEXT_OID, p);
    if (count > 0) {
      p = b.writeInt32BE(count, p);
      p = b.writeInt32BE(1, p);
    }
    for (let k = first; k < first + 2 * count; k += 2) {
      p = copyRange(source, ranges[k], ranges[k + 1], b, b.writeInt32BE(ranges[k + 1] - ranges[k], p));
    }
    b.writeInt32BE(p - at - 4, at);
    this.pos = p;
    return this;
  }

  /**
   * A jsonb object of string values given as `keys[i]` (each `"key":` as JSON writes it) and UTF-8
   * byte ranges `ranges[at + 2 * indexes[i]]` to the next entry, which JSON writes as they are (no
   * `"`, `\` or control character: the caller checked).
   */
  jsonbPlainRecord(keys: readonly Buffer[], source: Buffer, ranges: Int32Array, at: number, indexes: readonly number[]): this {
    let bytes = 5 + 2;
    for (let i = 0; i < keys.length; i++) bytes += keys[i].length + 3 + ranges[at + 2 * indexes[i] + 1] - ranges[at + 2 * indexes[i]];
    this.field(bytes);
    const b = this.block;
    const start = this.pos;
    let p = start + 4;
    b[p++] = JSONB_VERSION;
    b[p++] = 0x7b; // {
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) b[p++] = 0x2c; // ,
      p += keys[i].copy(b, p);
      b[p++] = 0x22;
      p = copyRange(source, ranges[at + 2 * indexes[i]], ranges[at + 2 * indexes[i] + 1], b, p);
      b[p++] = 0x22;
    }
    b[p++] = 0x7d; // }
    b.writeInt32BE(p - start - 4, start);
    this.pos = p;
    return this;
  }

  /** Ends the current row: writes its field count. */
  endRow(): this {
    if (this.rowStart < 0) {
      this.grow(2);
      this.rowStart = this.pos;
      this.pos += 2;
      this.fields = 0;
    }
    this.block.writeInt16BE(this.fields, this.rowStart);
    this.rowStart = -1;
    return this;
  }

  /** Room for a field of up to `bytes` bytes (length included); a row's first also makes room for its field count. */
  protected field(bytes: number): void {
    if (this.rowStart < 0) {
      this.grow(2 + bytes);
      this.rowStart = this.pos;
      this.pos += 2;
      this.fields = 0;
    } else this.grow(bytes);
    this.fields += 1;
  }
}

/**
 * Copies `source[from, to)` to `target` at `at`; returns where the copy ends. A cell is a dozen
 * bytes: a loop costs less than Buffer#copy's checks and native call.
 */
function copyRange(source: Buffer, from: number, to: number, target: Buffer, at: number): number {
  if (to - from > 64) return at + source.copy(target, at, from, to);
  for (let i = from; i < to; i++) target[at++] = source[i];
  return at;
}

/** A uuid as a binary COPY field (its length, then its 16 bytes), to write on many rows with `encoded`. */
export function uuidField(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a uuid: ${uuid}`);
  const field = Buffer.alloc(20);
  field.writeInt32BE(16, 0);
  field.write(hex, 4, 'hex');
  return field;
}
