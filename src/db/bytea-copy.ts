import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/**
 * One bytea value read with COPY … TO STDOUT (FORMAT binary): the bytes as stored. A plain query
 * brings bytea as hex text (twice the size, a large string to parse and collect), and pg's
 * `binary: true` decodes every value as UTF-8 text, which corrupts bytes.
 *
 * `select` must produce one bytea column; at most its first row is read. Undefined when it has no
 * row (or the value is NULL).
 */
export async function copyOutBytea(client: pg.PoolClient, select: string): Promise<Buffer | undefined> {
  const stream = client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`));
  const parts: Buffer[] = [];
  for await (const part of stream as AsyncIterable<Buffer>) parts.push(part);
  return firstByteaOf(parts.length === 1 ? parts[0] : Buffer.concat(parts));
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * The binary COPY format: an 11-byte signature, int32 flags, int32 header-extension length and
 * the extension, then per row an int16 field count (-1 ends the data) and per field an int32
 * length (-1 for NULL) and the bytes.
 */
export function firstByteaOf(data: Buffer): Buffer | undefined {
  if (data.length < 19 || !data.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
  let at = 15;
  at += 4 + data.readInt32BE(at);
  const fields = data.readInt16BE(at);
  if (fields === -1) return undefined;
  if (fields !== 1) throw new Error(`expected one bytea column, got ${fields}`);
  const length = data.readInt32BE(at + 2);
  if (length === -1) return undefined;
  return data.subarray(at + 6, at + 6 + length);
}
