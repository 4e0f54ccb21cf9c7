import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createImportActivities, type ImportSliceResult } from '../../src/activities/imports/import-activities';
import { bootstrapTenant } from '../../src/db/accounts';
import { storeUpload } from '../../src/db/uploads';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('attempts');
});
afterAll(() => database.destroy());

const ROWS = 3000;
const file = ['nome;telefone1', ...Array.from({ length: ROWS }, (_, i) => `P${i};55489982${String(i).padStart(5, '0')}`)].join('\n');

async function* once(text: string) {
  yield Buffer.from(text);
}

async function newImport(target: 'contact_group' | 'company_contacts') {
  const { db } = database;
  const { tenant } = await bootstrapTenant(db, { tenantName: `Attempts ${target}` });
  const group =
    target === 'contact_group'
      ? await db
          .insertInto('contact_groups')
          .values({ tenant_id: tenant.id, kind: 'dialer', name: 'g', name_key: 'g', source: 'csv' })
          .returning('id')
          .executeTakeFirstOrThrow()
      : undefined;
  const upload = await storeUpload(database, { tenantId: tenant.id, fileName: 'a.csv', createdBy: null, source: once(file), maxBytes: 1e7 });
  const row = await db
    .insertInto('imports')
    .values({ tenant_id: tenant.id, target, group_id: group?.id ?? null, upload_id: upload.uploadId, file_name: 'a.csv', status: 'pending' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { importId: row.id, tenantId: tenant.id, groupId: group?.id };
}

const slice = (activities: ReturnType<typeof createImportActivities>, importId: string) =>
  new MockActivityEnvironment().run(activities.importSlice, { importId }) as Promise<ImportSliceResult>;

/** Every line once, each in one contact: what the checkpoint guard keeps without a unique index. */
async function expectEachLineOnce(table: 'contacts' | 'company_contacts', importId: string) {
  const lines = await sql<{ n: number; distinct: number }>`
    SELECT count(*)::int AS n, count(DISTINCT line_no)::int AS distinct FROM ${sql.table(table)} WHERE import_id = ${importId}`.execute(database.db);
  expect(lines.rows[0]).toEqual({ n: ROWS, distinct: ROWS });
  const stored = await database.db
    .selectFrom('imports')
    .select(['rows_read', 'rows_imported', 'rows_rejected'])
    .where('id', '=', importId)
    .executeTakeFirstOrThrow();
  expect(stored).toEqual({ rows_read: ROWS, rows_imported: ROWS, rows_rejected: 0 });
}

it('two attempts of one group import at once (a timed-out one still running): one writes, the other stops, a retry finds it done', async () => {
  const { importId } = await newImport('contact_group');
  const activities = createImportActivities({ db: database.db, pool: database.pool, batchSize: 100, sliceMs: 60_000, lockPollMs: 5 });
  const results = await Promise.allSettled([slice(activities, importId), slice(activities, importId)]);
  expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  expect(String(failed.reason)).toMatch(/another attempt wrote past it/);
  expect(await slice(activities, importId)).toMatchObject({ done: true, rowsRead: ROWS, rowsImported: ROWS });
  await expectEachLineOnce('contacts', importId);
});

it('two attempts resuming a company contact import from the same checkpoint: the batch of the later one rolls back', async () => {
  const { importId } = await newImport('company_contacts');
  const first = createImportActivities({ db: database.db, pool: database.pool, batchSize: 100, sliceMs: 0 });
  expect(await slice(first, importId)).toMatchObject({ done: false });
  const activities = createImportActivities({ db: database.db, pool: database.pool, batchSize: 100, sliceMs: 60_000 });
  const results = await Promise.allSettled([slice(activities, importId), slice(activities, importId)]);
  expect(results.some((r) => r.status === 'rejected' && /another attempt wrote past it/.test(String(r.reason)))).toBe(true);
  expect(await slice(activities, importId)).toMatchObject({ done: true, rowsRead: ROWS, rowsImported: ROWS });
  await expectEachLineOnce('company_contacts', importId);
});
