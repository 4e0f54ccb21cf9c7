import { sql } from 'kysely';
import { buildApp } from './api/app';
import { loadConfig, requireDatabaseUrl, type Config } from './config';
import { createDb } from './db/database';
import { isMain } from './logger';
import { connectClient } from './temporal/connection';

/** `npm run api`: the HTTP API alone. */
export async function runApiProcess(config: Config = loadConfig()): Promise<void> {
  const { db, pool, close } = createDb({ connectionString: requireDatabaseUrl(config), poolSize: config.DATABASE_POOL_SIZE, applicationName: 'omni-api' });
  const temporal = await connectClient(config);
  const app = await buildApp({ config, db, pool, temporal, pingDatabase: async () => void (await sql`SELECT 1`.execute(db)) });
  const shutdown = async () => {
    await app.close();
    await temporal.connection.close();
    await close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await app.listen({ host: config.API_HOST, port: config.API_PORT });
}

if (isMain(import.meta.url)) {
  runApiProcess().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
