// `npm run migrate`: applies pending migrations to DATABASE_URL (deployments run it before api/worker).
import { loadConfig, requireDatabaseUrl } from '../config';
import { createDb } from '../db/database';
import { migrateToLatest } from '../db/migrate';

const config = loadConfig();
const { db, close } = createDb({ connectionString: requireDatabaseUrl(config) });
migrateToLatest(db)
  .then((applied) => console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date'))
  .catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => close());
