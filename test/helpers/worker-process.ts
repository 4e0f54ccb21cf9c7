import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';

export interface WorkerProcess {
  child: ChildProcess;
  /** SIGKILL: no shutdown, no cleanup, as when a machine dies. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts test/fixtures/worker-main.ts in a child process and waits until it polls. `entry` and
 * `bundlePath` run another checkout's worker instead (the upgrade exercise: test/replay/).
 */
export async function startWorkerProcess(options: {
  taskQueue: string;
  schema: string;
  env?: Record<string, string>;
  entry?: string;
  bundlePath?: string;
}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry ?? 'test/fixtures/worker-main.ts'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      DATABASE_URL: inject('databaseUrl'),
      TEST_DB_SCHEMA: options.schema,
      WORKFLOW_BUNDLE_PATH: options.bundlePath ?? inject('workflowBundlePath'),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker process did not start within 60 s')), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited early with ${code}`));
    });
  });
  const exited = () => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  return {
    child,
    kill: async () => {
      child.kill('SIGKILL');
      await exited();
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited();
    },
  };
}

/** Polls a condition until it holds (or the deadline passes): synchronisation on state, not on time. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
