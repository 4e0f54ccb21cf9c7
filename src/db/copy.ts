import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * COPY … FROM STDIN in text format, the fastest way to write many rows, of rows already encoded
 * (see CopyEncoder).
 */
export async function copyBytes(client: pg.PoolClient, table: string, columns: readonly string[], pieces: readonly Buffer[]): Promise<void> {
  if (pieces.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  try {
    // Few large writes: each piece costs a CopyData message and a socket write.
    for (const piece of joined(pieces, 1024 * 1024)) {
      // The socket is behind: wait instead of queueing every piece.
      if (!stream.write(piece)) await once(stream, 'drain');
    }
    stream.end();
    await finished(stream);
  } catch (error) {
    stream.destroy(error as Error);
    await finished(stream).catch(() => undefined);
    throw error;
  }
}

/** The pieces joined into Buffers of about `bytes` each (a piece larger than that stays whole). */
function joined(pieces: readonly Buffer[], bytes: number): Buffer[] {
  const out: Buffer[] = [];
  let group: Buffer[] = [];
  let size = 0;
  for (const piece of pieces) {
    if (size > 0 && size + piece.length > bytes) {
      out.push(group.length === 1 ? group[0] : Buffer.concat(group, size));
      group = [];
      size = 0;
    }
    group.push(piece);
    size += piece.length;
  }
  if (size > 0) out.push(group.length === 1 ? group[0] : Buffer.concat(group, size));
  return out;
}
