import type { Kysely } from 'kysely';
import { loadConfig } from '../config';
import { createDb } from '../db/database';
import type { Database } from '../db/schema';
import { openCliDatabase } from '../embedded/database';

/**
 * Runs a command-line tool's work on its database (DATABASE_URL, or the embedded stack's: see
 * openCliDatabase) and closes everything after, the embedded server too when it started one.
 */
export async function withCliDatabase(work: (db: Kysely<Database>) => Promise<void>): Promise<void> {
  const database = await openCliDatabase(loadConfig(), (line) => console.error(line));
  const { db, close } = createDb({ connectionString: database.url });
  try {
    await work(db);
  } finally {
    await close();
    await database.stop();
  }
}
