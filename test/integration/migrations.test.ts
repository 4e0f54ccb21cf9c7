import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDb } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { migrations } from '../../src/db/migrations/index';

const schema = `mig_${randomBytes(4).toString('hex')}`;
const handle = createDb({ connectionString: inject('databaseUrl'), schema });
afterAll(async () => {
  await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(handle.db);
  await handle.close();
});

it('applies every migration from an empty schema, then nothing on a second run', async () => {
  const first = await migrateToLatest(handle.db, schema);
  expect(first).toEqual(Object.keys(migrations));
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema}`.execute(handle.db);
  expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['tenants', 'users', 'api_keys', 'audit_log', 'exports', 'export_chunks']));
  expect(await migrateToLatest(handle.db, schema)).toEqual([]);
});
