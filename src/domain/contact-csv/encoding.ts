/**
 * Which text encoding a contact file is in, and turning its bytes into text. Brazilian files come
 * as UTF-8 (with or without BOM) or Windows-1252 (Excel's "CSV (separado por vírgulas)"); Excel's
 * "Texto Unicode" is UTF-16 with a BOM. Uses Node's Buffer/stream: keep out of workflow code.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { Transform } from 'node:stream';
import iconv from 'iconv-lite';

export type TextEncoding = 'utf8' | 'windows-1252' | 'utf16le' | 'utf16be';

/** How much of the start of a file we look at to decide its encoding and check its header. */
export const SNIFF_BYTES = 64 * 1024;

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));

const startsWith = (bytes: Uint8Array, ...prefix: number[]) => prefix.every((b, i) => bytes[i] === b);

/** Length of `bytes` without a UTF-8 sequence cut short at its end (so a chunk can be checked alone). */
function completeUtf8Length(bytes: Uint8Array): number {
  const len = bytes.length;
  for (let k = 1; k <= Math.min(3, len); k++) {
    const b = bytes[len - k];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? len - k : len;
  }
  return len;
}

/**
 * Decides from the first bytes (up to SNIFF_BYTES): a BOM says it; otherwise valid UTF-8 is UTF-8
 * (plain ASCII included) and anything else is Windows-1252.
 */
export function detectEncoding(firstBytes: Uint8Array): TextEncoding {
  if (startsWith(firstBytes, 0xef, 0xbb, 0xbf)) return 'utf8';
  if (startsWith(firstBytes, 0xff, 0xfe)) return 'utf16le';
  if (startsWith(firstBytes, 0xfe, 0xff)) return 'utf16be';
  const sample = firstBytes.subarray(0, Math.min(firstBytes.length, SNIFF_BYTES));
  return isUtf8(sample.subarray(0, completeUtf8Length(sample))) ? 'utf8' : 'windows-1252';
}

/** Bytes in, text out, keeping sequences cut between chunks; strips a leading BOM. */
export interface ChunkDecoder {
  write(chunk: Uint8Array): string;
  end(): string;
}

const CP1252 = iconv.decode(Buffer.from(Array.from({ length: 256 }, (_, i) => i)), 'windows-1252');

/** Length of the well-formed UTF-8 sequence at `i`, or 0 (overlongs, surrogates and > U+10FFFF are not). */
function utf8SequenceAt(b: Uint8Array, i: number): number {
  const lead = b[i];
  const cont = (k: number) => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const second = b[i + 1];
    if (lead === 0xe0 && second < 0xa0) return 0;
    if (lead === 0xed && second > 0x9f) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const second = b[i + 1];
    if (lead === 0xf0 && second < 0x90) return 0;
    if (lead === 0xf4 && second > 0x8f) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** UTF-8 where it is valid, Windows-1252 for each byte where it is not. */
function decodeMixed(b: Uint8Array): string {
  const parts: string[] = [];
  const buf = asBuffer(b);
  let i = 0;
  while (i < b.length) {
    let j = i;
    while (j < b.length && b[j] < 0x80) j++;
    if (j > i) parts.push(buf.toString('latin1', i, j));
    if (j >= b.length) break;
    const n = utf8SequenceAt(b, j);
    parts.push(n > 0 ? buf.toString('utf8', j, j + n) : CP1252[b[j]]);
    i = j + Math.max(n, 1);
  }
  return parts.join('');
}

/**
 * One record of a contact file as text to store, whatever the file was detected as: valid UTF-8
 * is read as UTF-8 and any other byte as Windows-1252, so a file pasted together from both kinds
 * of line reads right whichever comes first. NUL, which PostgreSQL text cannot hold, becomes U+FFFD.
 * `start`/`end` pick the record out of a larger buffer without a Buffer for it.
 */
export function decodeRecord(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const buffer = asBuffer(bytes);
  let text = buffer.toString('utf8', start, end);
  // Invalid UTF-8 always decodes with a U+FFFD in it: only then is the record checked byte by byte.
  if (text.includes('\uFFFD')) {
    const record = buffer.subarray(start, end);
    if (!isUtf8(record)) text = decodeMixed(record);
  }
  return text.includes('\0') ? text.replace(/\0/g, '\uFFFD') : text;
}

/**
 * A UTF-8 decoder that reads stray Windows-1252 bytes as such instead of U+FFFD: the first 64 KiB
 * of a Windows-1252 file may be pure ASCII (accents come later), and some files are pasted
 * together from both encodings. Valid chunks take Node's fast path.
 */
class TolerantUtf8Decoder implements ChunkDecoder {
  private carry: Uint8Array = new Uint8Array(0);
  private started = false;

  write(chunk: Uint8Array): string {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = completeUtf8Length(data);
    this.carry = Uint8Array.prototype.slice.call(data, cut);
    return this.text(data.subarray(0, cut));
  }

  end(): string {
    const rest = this.carry;
    this.carry = new Uint8Array(0);
    return this.text(rest);
  }

  private text(bytes: Uint8Array): string {
    let text = isUtf8(bytes) ? asBuffer(bytes).toString('utf8') : decodeMixed(bytes);
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
  }
}

const ICONV_NAME = { 'windows-1252': 'windows-1252', utf16le: 'utf-16le', utf16be: 'utf-16be' } as const;

export function chunkDecoder(encoding: TextEncoding): ChunkDecoder {
  if (encoding === 'utf8') return new TolerantUtf8Decoder();
  const decoder = iconv.getDecoder(ICONV_NAME[encoding], { stripBOM: true });
  return { write: (chunk) => decoder.write(asBuffer(chunk)), end: () => decoder.end() ?? '' };
}

/** A stream of text (strings, object mode) from a stream of bytes in `encoding`, BOM removed. */
export function createDecoder(encoding: TextEncoding): Transform {
  const decoder = chunkDecoder(encoding);
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc, done) {
      const text = decoder.write(chunk);
      if (text.length > 0) this.push(text);
      done();
    },
    flush(done) {
      const text = decoder.end();
      if (text.length > 0) this.push(text);
      done();
    },
  });
}
