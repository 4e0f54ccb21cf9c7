import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

// bigint (int8) and numeric come back as strings by default; counts we read are safely numbers.
pg.types.setTypeParser(20, (v) => Number(v));

export interface DbOptions {
  connectionString: string;
  poolSize?: number;
  /** Postgres schema to use (tests give each file its own). */
  schema?: string;
  applicationName?: string;
}

export interface Db {
  db: Kysely<Database>;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function createPool(options: DbOptions): pg.Pool {
  return new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? 'omni-campaigns',
    options: options.schema ? `-c search_path=${options.schema}` : undefined,
    connectionTimeoutMillis: 10_000,
  });
}

export function createDb(options: DbOptions): Db {
  const pool = createPool(options);
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    close: () => db.destroy(),
  };
}
