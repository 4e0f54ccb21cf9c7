import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BinaryCopyEncoder, uuidField } from '../../src/db/binary-copy-encoder';
import { copyBinaryRows } from '../../src/db/copy';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('bincopy');
  await sql`CREATE TABLE rows_in (id uuid, line integer, name text, phones text[], email text, custom jsonb)`.execute(database.db);
});
afterAll(() => database.destroy());

const proto = {};
Object.defineProperty(proto, '__proto__', { value: 'plain field', enumerable: true, writable: true, configurable: true });

const values: { name: string; phones: string[]; email?: string; custom: object }[] = [
  { name: 'João Conceição ™ 😀', phones: ['5548998288774', '0048998288774'], email: 'a@b.com', custom: { cidade: 'São Paulo', plano: 'ouro' } },
  { name: 'tab\there\nline\r\\back "quote"', phones: [], custom: {} },
  // (A lone surrogate in a JSON value is refused by PostgreSQL in any format; decoded CSV never has one.)
  { name: 'a\ud800b lone', phones: ['a"b', 'c\\d', 'NULL', '', 'João;x'], custom: { 'say "oi"': 'back\\slash' } },
  { name: 'controls \u0001 \u007f', phones: ['1'], custom: { linhas: 'a\nb\tc\r', replacement: 'a\ufffdb', sep: '\u2028' } },
  { name: 'not strings', phones: ['2'], custom: { nested: { n: 1 }, list: [1, 'a'] } },
  { name: 'an array', phones: ['3'], custom: [{ code: 'X' }] },
  { name: 'proto key', phones: ['4'], custom: proto },
  { name: 'x'.repeat(5000), phones: ['5'.repeat(300)], custom: { big: 'é'.repeat(4000) } },
];

it('writes rows PostgreSQL reads back as the same values: uuid, integer, text, text[], NULL, jsonb', async () => {
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
  // A small first block: rows cross its growth.
  const out = new BinaryCopyEncoder(64);
  values.forEach((v, i) =>
    out
      .encoded(uuidField(id))
      .int4(i + 2)
      .text(v.name)
      .textArray(v.phones)
      .optionalText(v.email)
      .jsonb(v.custom)
      .endRow(),
  );
  const client = await database.pool.connect();
  try {
    await client.query(`SET search_path TO ${database.schema}`);
    await copyBinaryRows(client, 'rows_in', ['id', 'line', 'name', 'phones', 'email', 'custom'], out.written());
  } finally {
    client.release();
  }
  const read = await sql<{ id: string; line: number; name: string; phones: string[]; email: string | null }>`
    SELECT id, line, name, phones, email FROM rows_in ORDER BY line`.execute(database.db);
  expect(read.rows).toEqual(values.map((v, i) => ({ id, line: i + 2, name: Buffer.from(v.name).toString(), phones: v.phones, email: v.email ?? null })));
  // jsonb equal to what JSON.stringify gives, value by value.
  for (const [i, v] of values.entries()) {
    const same = await sql<{ same: boolean }>`SELECT custom = ${JSON.stringify(v.custom)}::jsonb AS same FROM rows_in WHERE line = ${i + 2}`.execute(
      database.db,
    );
    expect(same.rows[0].same).toBe(true);
  }
});
