import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * COPY … FROM STDIN in text format: the fastest way to write many rows. Values are escaped for
 * the text format: strings, numbers, null, string arrays (text[]) and objects (jsonb).
 * Pass other JSON (arrays of objects) already stringified.
 */
export type CopyValue = string | number | null | string[] | Record<string, unknown>;

const needsEscape = /[\\\t\n\r]/;
const escapeText = (text: string) =>
  needsEscape.test(text) ? text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : text;

function encode(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return escapeText(value);
  if (Array.isArray(value)) return escapeText(`{${value.map((v) => `"${v.replace(/(["\\])/g, '\\$1')}"`).join(',')}}`);
  return escapeText(JSON.stringify(value));
}

export async function copyRows(client: pg.PoolClient, table: string, columns: string[], rows: CopyValue[][]): Promise<void> {
  if (rows.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  function* lines() {
    let buffer = '';
    for (const row of rows) {
      buffer += row.map(encode).join('\t') + '\n';
      if (buffer.length > 64 * 1024) {
        yield buffer;
        buffer = '';
      }
    }
    if (buffer) yield buffer;
  }
  await pipeline(Readable.from(lines()), stream);
}
