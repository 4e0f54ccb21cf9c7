import { afterAll, beforeAll, expect, it } from 'vitest';
import { bucketFor, createRateLimiter } from '../../src/activities/broadcast/limiter';
import { createDb, type Db } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let database: TestDatabase;
const others: Db[] = [];

beforeAll(async () => {
  database = await createTestDatabase('lim');
});
afterAll(async () => {
  for (const o of others) await o.close();
  await database.destroy();
});

/** One "worker": its own pool, taking slots as fast as it can for `ms`, as a page activity does. */
async function hammer(limiter: ReturnType<typeof createRateLimiter>, keys: string[], want: number, ms: number): Promise<number[]> {
  const grants: number[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const g = await limiter.acquire(keys, want);
    if (g.granted > 0) for (let i = 0; i < g.granted; i++) grants.push(Date.now());
    else await new Promise((r) => setTimeout(r, Math.min(g.waitMs, 50)));
  }
  return grants;
}

it('holds the number’s rate across several workers together, and a send’s pace below it', async () => {
  // Four workers, each with its own connection pool, share the bucket rows in PostgreSQL.
  const limiters = [database.db, ...Array.from({ length: 3 }, () => {
    const other = createDb({ connectionString: database.url, schema: database.schema, poolSize: 2 });
    others.push(other);
    return other.db;
  })].map((db) => createRateLimiter(db));
  const number = bucketFor('wa:999', 200);
  const send = bucketFor('send:a', 50);
  await limiters[0].define([number, send]);

  const seconds = 2;
  const all = (await Promise.all(limiters.map((l) => hammer(l, [number.key], 10, seconds * 1000)))).flat();
  // At most rate × time plus one burst, and close to it (the workers kept asking).
  expect(all.length).toBeLessThanOrEqual(200 * seconds + number.burst + 5);
  expect(all.length).toBeGreaterThan(200 * seconds * 0.8);
  // No sliding one-second window went over the rate plus one burst.
  all.sort((a, b) => a - b);
  for (let i = 0, j = 0; i < all.length; i++) {
    while (all[i] - all[j] >= 1000) j++;
    expect(i - j + 1).toBeLessThanOrEqual(200 + number.burst + 2);
  }

  // A send at 50 msg/s on that number: both buckets hold, the smaller wins.
  const paced = (await Promise.all(limiters.map((l) => hammer(l, [number.key, send.key], 10, 1500)))).flat();
  expect(paced.length).toBeLessThanOrEqual(50 * 1.5 + send.burst + number.burst + 2);
  expect(paced.length).toBeGreaterThan(50 * 1.5 * 0.7);
});

it('hands out a batch or nothing: below `least` tokens it grants none and says how long until the batch is due', async () => {
  const limiter = createRateLimiter(database.db);
  const bucket = { key: 'wa:batch', rate: 100, burst: 20 };
  await limiter.define([bucket]);
  expect(await limiter.acquire([bucket.key], 20)).toEqual({ granted: 20, waitMs: 0 });
  // Empty now: 10 tokens take about 100 ms at 100/s; asking for them at once is refused with that wait.
  const refused = await limiter.acquire([bucket.key], 20, 10);
  expect(refused.granted).toBe(0);
  expect(refused.waitMs).toBeGreaterThan(50);
  expect(refused.waitMs).toBeLessThanOrEqual(100);
  await new Promise((r) => setTimeout(r, refused.waitMs + 5));
  const granted = await limiter.acquire([bucket.key], 20, 10);
  expect(granted.granted).toBeGreaterThanOrEqual(10);
  expect(granted.granted).toBeLessThan(13);
});
