import { utf8Write } from './utf8';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * An object of string values (the custom fields) written as JSON.stringify writes it, without
 * JSON.stringify: for the COPY encoders, text and binary, which encode each `"key":` once
 * (`keyBytes`) in their own format.
 */
export class JsonRecordWriter {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly keyBytes: (key: string) => Buffer) {}

  /** Most bytes `write` takes for the record; -1 when a value is not a string (then use JSON.stringify). */
  bound(value: Record<string, unknown>): number {
    let bytes = 2;
    for (const key in value) {
      const v = value[key];
      if (typeof v !== 'string') return -1;
      bytes += this.key(key).length + 3 * v.length + 3;
    }
    return bytes;
  }

  /**
   * Writes the record at `p` (room for `bound` bytes) and returns where it ends; -1 when a value
   * holds something JSON escapes (`"`, `\`, a control character, a lone surrogate): use
   * JSON.stringify then.
   */
  write(b: Buffer, p: number, value: Record<string, unknown>): number {
    b[p++] = 0x7b; // {
    let first = true;
    for (const key in value) {
      if (!first) b[p++] = 0x2c; // ,
      first = false;
      p += this.key(key).copy(b, p);
      b[p++] = QUOTE;
      const end = p + utf8Write(b, value[key] as string, p);
      if (!jsonPlain(b, p, end)) return -1;
      p = end;
      b[p++] = QUOTE;
    }
    b[p++] = 0x7d; // }
    return p;
  }

  private key(key: string): Buffer {
    let encoded = this.keys.get(key);
    if (encoded === undefined) {
      encoded = this.keyBytes(`${JSON.stringify(key)}:`);
      this.keys.set(key, encoded);
    }
    return encoded;
  }
}

/**
 * Whether UTF-8 written for a string is what JSON.stringify writes between its quotes: no `"`,
 * `\` or control character, and no U+FFFD (which may stand for a lone surrogate).
 */
function jsonPlain(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c < 0x20 || c === QUOTE || c === BACKSLASH || (c === 0xef && b[i + 1] === 0xbf && b[i + 2] === 0xbd)) return false;
  }
  return true;
}
