import { spawn, type ChildProcess } from 'node:child_process';

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
): ManagedProcess {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;

  const start = () => {
    child = spawn(process.execPath, ['--import', 'tsx', entry], { env, stdio: ['ignore', 'inherit', 'inherit'] });
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
