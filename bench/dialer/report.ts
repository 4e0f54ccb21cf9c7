import { log } from '../lib';

/** The report lines the dialer benches share. */

/** The value at fraction `p` of the sorted samples (0 without any). */
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? 0;
};

/** Worker CPU over the run, per call. */
export function logWorkerCpu(cpu: number, seconds: number, calls: number, what = 'calls'): void {
  log(
    `worker CPU: ${cpu.toFixed(1)} s over ${seconds.toFixed(1)} s = ${((cpu / seconds) * 100).toFixed(0)}% of one core ` +
      `(${((cpu / Math.max(1, calls)) * 1000).toFixed(2)} ms per call, ${calls} ${what})`,
  );
}

/** What the simulator counted: calls placed, the most at once, second originates of one channel id. */
export function logPlaced(stats: { originatesAccepted: number; maxConcurrent: number; reoriginated: string[] }, seconds: number, channels: number): void {
  log(
    `${stats.originatesAccepted} calls in ${seconds.toFixed(1)} s (${(stats.originatesAccepted / seconds).toFixed(0)} calls/s), ` +
      `max concurrent ${stats.maxConcurrent}/${channels}, reoriginated ${stats.reoriginated.length}`,
  );
}
