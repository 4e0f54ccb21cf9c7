import { spawn, type ChildProcess } from 'node:child_process';

/**
 * V8 grows the heap lazily up to a limit derived from the machine's memory; a worker streaming a
 * large import would sit at several hundred MB of garbage. A fixed old-space limit makes it
 * collect instead (measured in bench/import: the live set stays well under it).
 */
export const WORKER_NODE_ARGS = ['--max-old-space-size=192'];

export interface ManagedProcess {
  name: string;
  stop(): Promise<void>;
}

/**
 * Runs a TypeScript entry point as a child process and restarts it if it dies on its own,
 * so the embedded stack stays up while someone is trying it out.
 */
export function runManaged(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  nodeArgs: string[] = [],
): ManagedProcess {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;

  const start = () => {
    child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], { env, stdio: ['ignore', 'inherit', 'inherit'] });
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
        const timer = setTimeout(() => current.kill('SIGKILL'), 15_000);
        current.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        current.kill('SIGTERM');
      }),
  };
}
