// `npm run migrate`: applies pending migrations to DATABASE_URL (deployments run it before api/worker),
// or, when it is unset, to the embedded stack's database under DATA_DIR.
import { migrateToLatest } from '../db/migrate';
import { withCliDatabase } from './with-database';

withCliDatabase(async (db) => {
  const applied = await migrateToLatest(db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
}).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
