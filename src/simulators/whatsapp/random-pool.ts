import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids (wamids, fbtrace ids) taken from a 64 KiB pool refilled at once: a
 * crypto call per id cost the simulator a tenth of its CPU at thousands of requests a second.
 */
const pool = Buffer.alloc(64 * 1024);
let used = pool.length;

export function randomSlice(bytes: number): Buffer {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const slice = pool.subarray(used, used + bytes);
  used += bytes;
  return slice;
}
