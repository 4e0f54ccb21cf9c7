import { spawn, type ChildProcess } from 'node:child_process';

/**
 * V8 grows the heap lazily up to a limit derived from the machine's memory; a worker streaming a
 * large import would sit at several hundred MB of garbage. Fixed old-space and young-generation
 * limits make it collect instead (bench/import: the live set stays well under them, and the
 * import is no slower).
 */
export const WORKER_NODE_ARGS = ['--max-old-space-size=128', '--max-semi-space-size=8'];

/**
 * The API's young generation, as the worker's: with V8's default its new space was 52 MB as an
 * upload began, and its idle heap 117–127 MB against 81–83 MB with the flag
 * (`bench/worker/idle-memory.ts --api`; docs/scaling.md, "The API while it streams an upload").
 */
export const API_NODE_ARGS = ['--max-semi-space-size=8'];

/**
 * glibc gives each thread that allocates its own malloc arena; the Temporal SDK's threads and the
 * PostgreSQL driver's buffers then leave tens of MB of freed memory spread over them. Two arenas
 * keep the worker's and the API's resident memory close to what they use.
 */
export const CHILD_ENV = { MALLOC_ARENA_MAX: '2' };

export interface ManagedProcess {
  name: string;
  stop(): Promise<void>;
}

/** How node runs an entry: a compiled `.mjs` as it is (with its source map), a `.ts` through tsx. */
export const nodeArgsFor = (entry: string): string[] => (entry.endsWith('.mjs') ? ['--enable-source-maps', entry] : ['--import', 'tsx', entry]);

/**
 * Runs an entry point (TypeScript, or compiled by compileEntry) as a child process and restarts
 * it if it dies on its own, so the embedded stack stays up while someone is trying it out.
 */
export function runManaged(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  nodeArgs: string[] = [],
  options: { stopTimeoutMs?: number } = {},
): ManagedProcess {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;

  const start = () => {
    child = spawn(process.execPath, [...nodeArgs, ...nodeArgsFor(entry)], { env: { ...CHILD_ENV, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('exit', (code, signal) => {
      if (stopping) return;
      restarts += 1;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(restarts, 6));
      log(`${name} exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(() => !stopping && start(), delay).unref();
    });
  };
  start();

  return {
    name,
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        const current = child;
        if (!current || current.exitCode !== null || current.signalCode !== null) return resolve();
        const timer = setTimeout(() => current.kill('SIGKILL'), options.stopTimeoutMs ?? 15_000);
        current.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        current.kill('SIGTERM');
      }),
  };
}
