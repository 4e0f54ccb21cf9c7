// What every bench needs: a fresh database, child processes, and their CPU and memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CHILD_ENV, nodeArgsFor } from '../src/embedded/child-process';
import pg from 'pg';

export const log = (line: string) => console.log(`[bench] ${line}`);

/** A freshly created database on BENCH_DATABASE_URL's server (default the local one); its URL. */
export async function freshDatabase(name: string): Promise<string> {
  const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs a TypeScript entry point as its own process; resolves once it prints `readyText`. */
export function startProcess(entry: string, env: NodeJS.ProcessEnv, readyText: string, nodeArgs: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeArgs, ...nodeArgsFor(entry)], {
    env: { ...CHILD_ENV, ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes(readyText) && resolve(child));
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}`)));
  });
}

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's resident memory now, in MB (0 once it has ended). */
export function residentMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Samples a process's resident memory every 50 ms; `stop()` gives the peak in MB. */
export function memorySampler(pid: number) {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, residentMb(pid));
  }, 50);
  return { stop: () => (clearInterval(timer), peak) };
}

/** CPU seconds of processes by pid (0 for one that has gone). */
export function cpuOf(pids: number[]): Map<number, number> {
  return new Map(
    pids.map((pid) => {
      try {
        return [pid, cpuSeconds(pid)];
      } catch {
        return [pid, 0];
      }
    }),
  );
}

/** CPU seconds of the whole machine (all cores): busy and idle. */
export function machineCpu(): { busy: number; idle: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { busy: (f[0] + f[1] + f[2] + f[5] + f[6]) / 100, idle: (f[3] + f[4]) / 100 };
}

/** Pids of the PostgreSQL backends serving the pool's database: PostgreSQL's share of a run's CPU (pooled, so they live through it). */
export async function databaseBackends(pool: pg.Pool): Promise<number[]> {
  return (await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).rows.map((r) => r.pid);
}

/** CPU seconds the processes of `after` used since `before` (a process new since then counts from 0). */
export function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  return [...after].reduce((sum, [pid, s]) => sum + s - (before.get(pid) ?? 0), 0);
}
