import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRateLimiter, paceWindow, tenthWindow } from '../../src/activities/broadcast/limiter';
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

/** A grant as the client saw it: the limiter stamped it between `before` and `after`. */
interface SeenGrant {
  before: number;
  after: number;
  size: number;
}

/** One "worker": its own pool, taking slots as fast as it can for `ms`, as a page activity does. */
async function hammer(limiter: ReturnType<typeof createRateLimiter>, keys: string[], want: number, ms: number): Promise<SeenGrant[]> {
  const grants: SeenGrant[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const before = Date.now();
    const g = await limiter.acquire(keys, want);
    if (g.granted > 0) grants.push({ before, after: Date.now(), size: g.granted });
    else await new Promise((r) => setTimeout(r, Math.min(g.waitMs, 50)));
  }
  return grants;
}

/** The most slots stamped within any `ms` (one second unless told): grants seen wholly inside [t, t + ms). */
function busiestSecond(grants: SeenGrant[], ms = 1000): number {
  let most = 0;
  for (const start of grants) {
    let n = 0;
    for (const g of grants) if (g.before >= start.before && g.after < start.before + ms) n += g.size;
    most = Math.max(most, n);
  }
  return most;
}

const total = (grants: SeenGrant[]) => grants.reduce((n, g) => n + g.size, 0);

function workers(n: number) {
  return [
    database.db,
    ...Array.from({ length: n - 1 }, () => {
      const other = createDb({ connectionString: database.url, schema: database.schema, poolSize: 2 });
      others.push(other);
      return other.db;
    }),
  ].map((db) => createRateLimiter(db));
}

it('holds the number’s limit in every second across several workers together, and a send’s pace below it', async () => {
  // Four workers, each with its own connection pool, share the window rows in PostgreSQL.
  const limiters = workers(4);
  const number = paceWindow('wa:999', 200);
  const otherNumber = paceWindow('wa:998', 200);
  const send = paceWindow('send:a', 50);
  await limiters[0].define([number, otherNumber, send]);

  const all = (await Promise.all(limiters.map((l) => hammer(l, [number.key], 10, 1500)))).flat();
  expect(busiestSecond(all)).toBeLessThanOrEqual(200);
  // The window is used fully: a whole second's worth at once, then again once it has passed
  // (1.5 s see two windows of 1,010 ms begin, the third begins after 2,020 ms).
  expect(total(all)).toBe(400);

  // A send at 50 msg/s on a number of 200 msg/s: both windows hold, the smaller wins.
  const paced = (await Promise.all(limiters.map((l) => hammer(l, [otherNumber.key, send.key], 10, 1500)))).flat();
  expect(busiestSecond(paced)).toBeLessThanOrEqual(50);
  expect(total(paced)).toBe(100);
});

it('with its tenth-of-a-second window, a number hands out a second’s slots over the second, not at once', async () => {
  // Pages that stalled catch up at the steady pace: a whole second's slots taken at once would
  // reach the provider together with the late calls of the second before (refused as 130429).
  const limiters = workers(4);
  const number = paceWindow('wa:997', 200);
  const tenth = tenthWindow('wa:997', 200);
  expect(tenth).toEqual({ key: 'wa:997:tenth', limit: 20, windowMs: 101 });
  await limiters[0].define([number, tenth]);
  const all = (await Promise.all(limiters.map((l) => hammer(l, [number.key, tenth.key], 10, 1500)))).flat();
  expect(busiestSecond(all, 100)).toBeLessThanOrEqual(20);
  expect(busiestSecond(all)).toBeLessThanOrEqual(200);
  // Still the number's whole pace: a second's slots within the first 1.5 s.
  expect(total(all)).toBeGreaterThanOrEqual(200);
});

it('grants a whole window at once, then a batch or nothing: below `least` it grants none and says when the oldest slots free', async () => {
  const [limiter] = workers(1);
  const window = { key: 'wa:batch', limit: 100, windowMs: 1000 };
  await limiter.define([window]);
  const first = Date.now();
  expect(await limiter.acquire([window.key], 150)).toMatchObject({ granted: 100, waitMs: 0 });
  // Full: the slots free when that grant leaves the window, a second after it was made.
  const refused = await limiter.acquire([window.key], 20, 10);
  expect(refused.granted).toBe(0);
  expect(refused.waitMs).toBeGreaterThan(1000 - (Date.now() - first) - 5);
  expect(refused.waitMs).toBeLessThanOrEqual(1001);
  await new Promise((r) => setTimeout(r, refused.waitMs + 5));
  expect(await limiter.acquire([window.key], 20, 10)).toMatchObject({ granted: 20, waitMs: 0 });
});

it('refuses to take from a window that was never defined', async () => {
  const [limiter] = workers(1);
  await expect(limiter.acquire(['wa:nowhere'], 1)).rejects.toThrow(/pace windows missing/);
});

it('counts a restamped grant from when its calls leave, so its slots free a window after that', async () => {
  const [limiter] = workers(1);
  const window = { key: 'wa:restamp', limit: 100, windowMs: 1000 };
  await limiter.define([window]);
  const grant = await limiter.acquire([window.key], 100);
  expect(grant.granted).toBe(100);
  // The intent took 300 ms to record; the calls leave now.
  await new Promise((r) => setTimeout(r, 300));
  const left = Date.now();
  await limiter.restamp([window.key], grant, 100);
  await new Promise((r) => setTimeout(r, 800));
  // A window after the grant was taken, but not yet a window after its calls left: still full.
  const early = await limiter.acquire([window.key], 10);
  expect(early.granted).toBe(0);
  expect(early.waitMs).toBeGreaterThan(1000 - (Date.now() - left) - 5);
  await new Promise((r) => setTimeout(r, early.waitMs + 5));
  expect((await limiter.acquire([window.key], 10)).granted).toBe(10);
});

it('grants slots that free within the lead ahead, counted from when they free', async () => {
  const [limiter] = workers(1);
  const window = { key: 'wa:lead', limit: 100, windowMs: 1000 };
  await limiter.define([window]);
  const first = await limiter.acquire([window.key], 100);
  const takenAt = Date.now();
  await new Promise((r) => setTimeout(r, 900));
  // 100 ms before the slots free: nothing now, and nothing with a lead of 50 ms either.
  const tooEarly = await limiter.acquire([window.key], 100, 1, 50);
  expect(tooEarly.granted).toBe(0);
  expect(tooEarly.waitMs).toBeLessThanOrEqual(1000 - 50 - (Date.now() - takenAt) + 5);
  await new Promise((r) => setTimeout(r, tooEarly.waitMs));
  // Within the lead: the whole window, to be used when the first grant has left it.
  const ahead = await limiter.acquire([window.key], 100, 1, 50);
  expect(ahead.granted).toBe(100);
  expect(ahead.stamp).toBe(first.stamp + 1000);
  expect(ahead.delayMs).toBeGreaterThan(0);
  expect(ahead.delayMs).toBeLessThanOrEqual(50);
  // And the window after it is counted from that time too.
  const next = await limiter.acquire([window.key], 1, 1, 50);
  expect(next.granted).toBe(0);
  expect(next.waitMs).toBeGreaterThan(800);
});
