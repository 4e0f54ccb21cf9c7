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
const plainDigits = /^\d*$/;

/** An array literal; digit-only elements (phones, most arrays we write) need no quoting at all. */
function arrayLiteral(values: string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    out += v.length > 0 && plainDigits.test(v) ? v : `"${v.replace(/(["\\])/g, '\\$1')}"`;
  }
  return escapeText(out + '}');
}

function encode(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return escapeText(value);
  if (Array.isArray(value)) return arrayLiteral(value);
  return escapeText(JSON.stringify(value));
}

export async function copyRows(client: pg.PoolClient, table: string, columns: string[], rows: CopyValue[][]): Promise<void> {
  if (rows.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  function* lines() {
    let buffer = '';
    for (const row of rows) {
      // Built by hand: map + join would allocate two arrays per row.
      for (let i = 0; i < row.length; i++) buffer += (i > 0 ? '\t' : '') + encode(row[i]);
      buffer += '\n';
      if (buffer.length > 64 * 1024) {
        yield buffer;
        buffer = '';
      }
    }
    if (buffer) yield buffer;
  }
  await pipeline(Readable.from(lines()), stream);
}
