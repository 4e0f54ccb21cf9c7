import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { searchAttributeFlags } from '../workflows/search-attributes';
import { resolveTemporalBinary, TemporalBinaryError } from './temporal-binary';

export interface DevServerOptions {
  port: number;
  uiPort: number;
  namespace: string;
  /** SQLite file for durable state; omit for an in-memory server. */
  dbFile?: string;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

const readyTimeoutMs = 60_000;

async function waitUntilServing(address: string, namespace: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`temporal server did not become ready on ${address}: ${String(lastError)}`);
}

/** True when something already accepts connections on the port. */
export const portInUse = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * Starts `temporal server start-dev` with our search attributes registered. Falls back to
 * @temporalio/testing's downloaded server when no binary can be had (needs the internet).
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const log = options.log ?? (() => undefined);
  for (const port of [options.port, options.uiPort]) {
    if (await portInUse(port)) {
      throw new Error(`Port ${port} is already in use (another Temporal dev server?). Stop it, or set EMBEDDED_TEMPORAL_PORT / EMBEDDED_TEMPORAL_UI_PORT.`);
    }
  }
  const dbArgs = options.dbFile ? ['--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF'] : [];
  if (options.dbFile) mkdirSync(dirname(options.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace,
    '--log-level',
    'error',
    ...dbArgs,
    ...searchAttributeFlags(),
  ];

  let binary: string;
  try {
    binary = resolveTemporalBinary({ log });
  } catch (error) {
    if (!(error instanceof TemporalBinaryError)) throw error;
    log(`${error.message}\nTrying @temporalio/testing's download of the dev server instead …`);
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port: options.port,
        ui: true,
        uiPort: options.uiPort,
        namespace: options.namespace,
        dbFilename: options.dbFile,
        extraArgs: searchAttributeFlags(),
      },
    });
    return {
      address: `127.0.0.1:${options.port}`,
      uiUrl: `http://127.0.0.1:${options.uiPort}`,
      stop: () => env.teardown(),
    };
  }

  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${options.port}`;
  try {
    await waitUntilServing(address, options.namespace, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    address,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
