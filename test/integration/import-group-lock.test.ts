import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createImportActivities, type ImportSliceResult } from '../../src/activities/imports/import-activities';
import { bootstrapTenant } from '../../src/db/accounts';
import { storeUpload } from '../../src/db/uploads';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('lock');
});
afterAll(() => database.destroy());

const rows = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `P${from + i};55489982${String(from + i).padStart(5, '0')}`);

async function* once(text: string) {
  yield Buffer.from(text);
}

/**
 * The API lets one import at a time into a group; the worker holds the group's import lock too, so
 * that even two imports running at once (one cancelled but still finishing its batch, say) write
 * one after the other, each with the phones the other wrote.
 */
it('two imports into the same group at once: the second waits for the first, every phone once', async () => {
  const { db, pool } = database;
  const { tenant } = await bootstrapTenant(db, { tenantName: 'Lock' });
  const group = await db
    .insertInto('contact_groups')
    .values({ tenant_id: tenant.id, kind: 'dialer', name: 'g', name_key: 'g', source: 'csv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const imports = await Promise.all(
    [rows(1, 3000), rows(2001, 5000)].map(async (lines, i) => {
      const upload = await storeUpload(
        { db, pool },
        {
          tenantId: tenant.id,
          fileName: `${i}.csv`,
          createdBy: null,
          source: once(['nome;telefone1', ...lines].join('\n')),
          maxBytes: 1e7,
        },
      );
      return db
        .insertInto('imports')
        .values({ tenant_id: tenant.id, target: 'contact_group', group_id: group.id, upload_id: upload.uploadId, file_name: `${i}.csv`, status: 'pending' })
        .returning('id')
        .executeTakeFirstOrThrow();
    }),
  );
  // Small batches: each import commits many times, so unserialised writers would interleave.
  const activities = createImportActivities({ db, pool, batchSize: 100, sliceMs: 60_000, lockPollMs: 5 });
  const results: ImportSliceResult[] = await Promise.all(
    imports.map((imp) => new MockActivityEnvironment().run(activities.importSlice, { importId: imp.id }) as Promise<ImportSliceResult>),
  );

  expect(results.every((r) => r.done)).toBe(true);
  expect(results.reduce((n, r) => n + r.rowsImported, 0)).toBe(5000);
  expect(results.reduce((n, r) => n + r.rowsRejected, 0)).toBe(1000);
  const phones = await sql<{ n: number; distinct: number }>`
    SELECT count(*)::int AS n, count(DISTINCT p)::int AS distinct FROM contacts, unnest(phones) AS p WHERE group_id = ${group.id}`.execute(db);
  expect(phones.rows[0]).toEqual({ n: 5000, distinct: 5000 });
  // One import's rows all come before the other's: they did not interleave.
  const order = await sql<{ import_id: string }>`SELECT import_id FROM contacts WHERE group_id = ${group.id} ORDER BY id`.execute(db);
  const switches = order.rows.filter((row, i) => i > 0 && row.import_id !== order.rows[i - 1].import_id).length;
  expect(switches).toBe(1);
});
