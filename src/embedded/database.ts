import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config';
import { embeddedPostgresUrl, startEmbeddedPostgres } from './postgres';
import { portInUse } from './temporal-server';

export class NoEmbeddedDatabaseError extends Error {}

/** The port of the PostgreSQL that runs on `dataDir` now, from its postmaster.pid (line 1 the pid, line 4 the port). */
function runningPort(dataDir: string): number | undefined {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pid), 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined; // stale: the server is gone
  }
  return Number(port) || undefined;
}

/**
 * The database a command-line tool (`npm run admin`, `npm run migrate`) works on: DATABASE_URL when
 * set; otherwise the embedded stack's PostgreSQL under DATA_DIR, as `npm start` lays it out: the
 * running server when the stack is up, else started for the command and stopped by `stop()`.
 */
export async function openCliDatabase(config: Config, log?: (line: string) => void): Promise<{ url: string; stop(): Promise<void> }> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, stop: async () => undefined };
  const dataDir = join(resolve(config.DATA_DIR), 'postgres');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    throw new NoEmbeddedDatabaseError(
      `DATABASE_URL is not set and the embedded stack has never run here (no PostgreSQL data in ${dataDir}).\n` +
        'Run `npm start` once (it creates the database and the first tenant), or set DATABASE_URL to your database.',
    );
  }
  const port = runningPort(dataDir);
  if (port && (await portInUse(port))) return { url: embeddedPostgresUrl(port), stop: async () => undefined };
  log?.(`starting the embedded PostgreSQL in ${dataDir} for this command …`);
  return startEmbeddedPostgres({ dataDir, port: config.EMBEDDED_POSTGRES_PORT });
}
