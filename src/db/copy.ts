import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BINARY_COPY_HEADER, BINARY_COPY_TRAILER } from './binary-copy-encoder';

/**
 * COPY … FROM STDIN in text format, the fastest way to write many rows, of rows already encoded
 * (see CopyEncoder). Pass few large pieces: each costs a CopyData message and a socket write.
 */
export async function copyBytes(client: pg.PoolClient, table: string, columns: readonly string[], pieces: readonly Buffer[]): Promise<void> {
  if (pieces.every((piece) => piece.length === 0)) return;
  await copyIn(client, `COPY ${table} (${columns.join(', ')}) FROM STDIN`, pieces);
}

/** COPY … FROM STDIN (FORMAT binary) of rows already encoded (see BinaryCopyEncoder), whole or in pieces. */
export async function copyBinaryRows(client: pg.PoolClient, table: string, columns: readonly string[], rows: Buffer | readonly Buffer[]): Promise<void> {
  const pieces = Buffer.isBuffer(rows) ? [rows] : rows;
  if (pieces.every((piece) => piece.length === 0)) return;
  await copyIn(client, `COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT binary)`, [BINARY_COPY_HEADER, ...pieces, BINARY_COPY_TRAILER]);
}

async function copyIn(client: pg.PoolClient, statement: string, pieces: readonly Buffer[]): Promise<void> {
  const stream = client.query(copyFrom(statement));
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
