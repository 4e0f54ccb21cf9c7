import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { inject } from 'vitest';
import { createDb, type Db } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';

export interface TestDatabase extends Db {
  schema: string;
  url: string;
  destroy(): Promise<void>;
}

/** A fresh schema with every migration applied, dropped again by destroy(). */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const url = inject('databaseUrl');
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  const handle = createDb({ connectionString: url, schema, poolSize: 10 });
  await migrateToLatest(handle.db, schema);
  return {
    ...handle,
    schema,
    url,
    destroy: async () => {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(handle.db);
      await handle.close();
    },
  };
}
