import { Worker } from 'node:worker_threads';

/** One POST's outcome: the receiver's HTTP status (0: no answer in time) and how long it took. */
export interface PostOutcome {
  status: number;
  ms: number;
}

export type Poster = { post(url: string, body: string, timeoutMs: number): Promise<PostOutcome>; close(): void };

async function postAndTime(url: string, body: string, timeoutMs: number): Promise<PostOutcome> {
  const started = performance.now();
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

/** Posts from this thread: simple, but a busy event loop here is counted in the receiver's time. */
export const inlinePoster = (): Poster => ({ post: postAndTime, close: () => undefined });

// Plain JavaScript (the thread runs it as given, whatever loader the parent has).
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ id, url, body, timeoutMs }) => {
  const started = performance.now();
  let status = 0;
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    status = response.status;
  } catch {}
  parentPort.postMessage({ id, status, ms: performance.now() - started });
});`;

/**
 * Posts from a thread of its own, so the time measured is the receiver's: the simulator's main
 * thread also answers the worker's API calls, and its queueing would otherwise sit inside every
 * measured POST (a load benchmark's concern; Mercado Livre's own senders are not our process).
 */
export function threadPoster(): Poster {
  const worker = new Worker(THREAD_SOURCE, { eval: true });
  worker.unref();
  const waiting = new Map<number, (outcome: PostOutcome) => void>();
  let next = 0;
  worker.on('message', ({ id, status, ms }: { id: number } & PostOutcome) => {
    waiting.get(id)?.({ status, ms });
    waiting.delete(id);
  });
  return {
    post(url, body, timeoutMs) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        worker.postMessage({ id, url, body, timeoutMs });
      });
    },
    close() {
      for (const resolve of waiting.values()) resolve({ status: 0, ms: 0 });
      waiting.clear();
      void worker.terminate();
    },
  };
}
