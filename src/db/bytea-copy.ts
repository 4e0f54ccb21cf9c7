import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { BINARY_COPY_SIGNATURE as SIGNATURE } from './binary-copy-encoder';

/**
 * One bytea value read with COPY … TO STDOUT (FORMAT binary): the bytes as stored, in the pieces
 * they arrived in (joining them would allocate the value a second time). A plain query brings
 * bytea as hex text (twice the size, a large string to parse and collect), and pg's `binary: true`
 * decodes every value as UTF-8 text, which corrupts bytes.
 *
 * `select` must produce one bytea column; at most its first row is read. Undefined when it has no
 * row (or the value is NULL).
 */
export async function copyOutBytea(client: pg.PoolClient, select: string): Promise<Buffer[] | undefined> {
  const stream = client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`));
  const parts: Buffer[] = [];
  for await (const part of stream as AsyncIterable<Buffer>) parts.push(part);
  return firstByteaOf(parts);
}

/** Signature, flags, extension length; then a row's field count and its first field's length. */
const HEADER_BYTES = 19;

/** The first row's bytea in a binary COPY stream (see BinaryCopyEncoder for the format). */
export function firstByteaOf(parts: readonly Buffer[]): Buffer[] | undefined {
  const head = startOf(parts, HEADER_BYTES);
  if (head.length < HEADER_BYTES || !head.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
  const at = HEADER_BYTES + head.readInt32BE(15);
  const row = startOf(parts, at + 6);
  const fields = row.readInt16BE(at);
  if (fields === -1) return undefined;
  if (fields !== 1) throw new Error(`expected one bytea column, got ${fields}`);
  const length = row.readInt32BE(at + 2);
  if (length === -1) return undefined;
  return slice(parts, at + 6, at + 6 + length);
}

/** At least the first `bytes` bytes of the parts (the first part alone when it is long enough). */
function startOf(parts: readonly Buffer[], bytes: number): Buffer {
  if (parts.length > 0 && parts[0].length >= bytes) return parts[0];
  return Buffer.concat(parts as Buffer[]);
}

/** Bytes [from, to) of the parts taken as one, as views of them. */
function slice(parts: readonly Buffer[], from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const start = Math.max(from - offset, 0);
    const end = Math.min(to - offset, part.length);
    if (end > start) out.push(part.subarray(start, end));
    offset += part.length;
  }
  return out;
}
