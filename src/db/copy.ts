import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyEncoder } from './copy-encoder';

/**
 * COPY … FROM STDIN in text format: the fastest way to write many rows. `writeRow` writes one
 * row's values, in `columns` order, with the encoder (which escapes them for the text format).
 */
export async function copyRows<T>(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: readonly T[],
  writeRow: (out: CopyEncoder, row: T) => void,
): Promise<void> {
  if (rows.length === 0) return;
  const blocks: Buffer[] = [];
  const out = new CopyEncoder((block) => blocks.push(block));
  for (const row of rows) {
    writeRow(out, row);
    out.endRow();
  }
  out.finish();
  await copyBytes(client, table, columns, blocks);
}

/** COPY … FROM STDIN of rows already encoded in the text format (see CopyEncoder). */
export async function copyBytes(client: pg.PoolClient, table: string, columns: readonly string[], pieces: readonly Buffer[]): Promise<void> {
  if (pieces.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  try {
    for (const piece of pieces) {
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
