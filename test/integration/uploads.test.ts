import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bootstrapTenant } from '../../src/db/accounts';
import { completeUpload, readUpload, storeUpload, UPLOAD_CHUNK_BYTES, UploadAbandonedError, UploadTooLargeError } from '../../src/db/uploads';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('uploads');
});
afterAll(() => database.destroy());

/** `count` pieces of `bytes` bytes, each filled with its own number. */
async function* pieces(count: number, bytes: number) {
  for (let i = 0; i < count; i++) yield Buffer.alloc(bytes, i % 251);
}

const countRows = async (table: 'uploads' | 'upload_chunks') =>
  Number(
    (
      await database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

it('stores a file of several chunks (one COPY in flight while the next is received) and reads it back byte for byte', async () => {
  const { db, pool } = database;
  const { tenant } = await bootstrapTenant(db, { tenantName: 'Uploads' });
  const piece = 300 * 1024;
  const stored = await storeUpload(database, { tenantId: tenant.id, fileName: 'a.csv', createdBy: null, source: pieces(12, piece), maxBytes: 1e9 });
  expect(stored).toMatchObject({ sizeBytes: 12 * piece, chunkCount: Math.ceil((12 * piece) / UPLOAD_CHUNK_BYTES) });
  const back: Buffer[] = [];
  for await (const part of readUpload(pool, stored.uploadId)) back.push(part);
  const sent: Buffer[] = [];
  for await (const part of pieces(12, piece)) sent.push(part);
  expect(Buffer.concat(back).equals(Buffer.concat(sent))).toBe(true);
});

it('pieces of any size become whole chunks of exactly UPLOAD_CHUNK_BYTES (the last one shorter), byte for byte, also while the import reads', async () => {
  const { db, pool } = database;
  const { tenant } = await bootstrapTenant(db, { tenantName: 'Odd pieces' });
  // Random bytes in pieces of 1 byte to 200 KiB, the file 2.5 chunks long; and one of exactly two chunks.
  for (const total of [Math.floor(2.5 * UPLOAD_CHUNK_BYTES), 2 * UPLOAD_CHUNK_BYTES]) {
    const file = randomBytes(total);
    const sizes: number[] = [];
    for (let at = 0, i = 0; at < total; i++) {
      const n = Math.min(total - at, i % 7 === 0 ? 1 : 1 + ((i * 7919) % (200 * 1024)));
      sizes.push(n);
      at += n;
    }
    async function* source() {
      let at = 0;
      for (const n of sizes) {
        yield file.subarray(at, at + n);
        at += n;
      }
    }
    let startedOn: string | undefined;
    const stored = await storeUpload(database, {
      tenantId: tenant.id,
      fileName: 'odd.csv',
      createdBy: null,
      source: source(),
      maxBytes: 1e9,
      onStart: async (uploadId) => {
        startedOn = uploadId;
      },
    });
    await completeUpload(db, stored.uploadId);
    expect(startedOn).toBe(stored.uploadId);
    expect(stored).toMatchObject({ sizeBytes: total, chunkCount: Math.ceil(total / UPLOAD_CHUNK_BYTES) });
    const lengths = await db
      .selectFrom('upload_chunks')
      .select((eb) => eb.fn<number>('length', ['data']).as('n'))
      .where('upload_id', '=', stored.uploadId)
      .orderBy('seq')
      .execute();
    const expected = Array.from({ length: stored.chunkCount }, (_, i) => Math.min(UPLOAD_CHUNK_BYTES, total - i * UPLOAD_CHUNK_BYTES));
    expect(lengths.map((l) => Number(l.n))).toEqual(expected);
    const back: Buffer[] = [];
    for await (const part of readUpload(pool, stored.uploadId)) back.push(part);
    expect(Buffer.concat(back).equals(file)).toBe(true);
  }
});

it('a file refused after some chunks were written leaves nothing: its upload and its chunks are deleted', async () => {
  const { db } = database;
  const { tenant } = await bootstrapTenant(db, { tenantName: 'Too large' });
  const [uploads, chunks] = [await countRows('uploads'), await countRows('upload_chunks')];
  const refused = storeUpload(database, {
    tenantId: tenant.id,
    fileName: 'big.csv',
    createdBy: null,
    source: pieces(40, 100 * 1024),
    maxBytes: 3.5 * UPLOAD_CHUNK_BYTES,
  });
  await expect(refused).rejects.toBeInstanceOf(UploadTooLargeError);
  expect([await countRows('uploads'), await countRows('upload_chunks')]).toEqual([uploads, chunks]);
});

/** An upload still arriving, its first chunk stored and its last chunk seen at `lastChunkAt`. */
async function arrivingUpload(tenantId: string, fileName: string, lastChunkAt: Date, firstChunk: string) {
  const { db } = database;
  const upload = await db
    .insertInto('uploads')
    .values({ tenant_id: tenantId, file_name: fileName, created_by: null, state: 'arriving', last_chunk_at: lastChunkAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('upload_chunks')
    .values({ upload_id: upload.id, seq: 0, data: Buffer.from(firstChunk) })
    .execute();
  return upload;
}

it('an arriving upload is read as its chunks come; one whose sender went silent ends the reader with UploadAbandonedError', async () => {
  const { db, pool } = database;
  const { tenant } = await bootstrapTenant(db, { tenantName: 'Arriving' });
  const upload = await arrivingUpload(tenant.id, 'a.csv', new Date(), 'first');
  const read: string[] = [];
  const reader = (async () => {
    for await (const part of readUpload(pool, upload.id, 0, { pollMs: 10 })) {
      read.push(part.toString());
      // The second chunk arrives once the first was read, then the upload is complete.
      if (read.length === 1) {
        await db
          .insertInto('upload_chunks')
          .values({ upload_id: upload.id, seq: 1, data: Buffer.from('second') })
          .execute();
        await completeUpload(db, upload.id);
      }
    }
  })();
  await reader;
  expect(read).toEqual(['first', 'second']);

  const silent = await arrivingUpload(tenant.id, 'b.csv', new Date(Date.now() - 5000), 'only');
  const parts: string[] = [];
  const consume = async () => {
    for await (const part of readUpload(pool, silent.id, 0, { pollMs: 10, stalledMs: 1000 })) parts.push(part.toString());
  };
  await expect(consume()).rejects.toBeInstanceOf(UploadAbandonedError);
  expect(parts).toEqual(['only']);
});
