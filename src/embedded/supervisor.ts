import { spawn } from 'node:child_process';

/**
 * The terminal's Ctrl-C signals the whole foreground process group at once: PostgreSQL, Temporal,
 * the worker and the API would all stop at the same moment (stack traces, failed activity
 * completions, campaigns paused). So `npm start` runs the stack in a detached child — its own
 * process group, out of the terminal's reach — and this launcher, which alone gets the Ctrl-C,
 * asks it to stop in order (SIGTERM). Returns true in the launcher (which then only waits).
 */
export function runDetached(): boolean {
  if (process.env.OMNI_SUPERVISED === '1') return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: 'inherit',
    env: { ...process.env, OMNI_SUPERVISED: '1' },
  });
  const forward = () => child.kill('SIGTERM');
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return true;
}

/** In the detached stack: if the launcher dies without a word (SIGKILL), stop in order anyway. */
export function stopWhenOrphaned(stop: () => void): void {
  const launcher = process.ppid;
  setInterval(() => {
    if (process.ppid !== launcher) stop();
  }, 1000).unref();
}
