import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb } from '../../src/db/database';
import { freePort } from '../../src/embedded/ports';
import { buildTestApp, createTestStack, type TestStack } from '../helpers/app';
import { uniqueTaskQueue } from '../helpers/temporal';

let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack({ name: 'ready', withWorker: true, env: { READY_REFRESH_MS: '200' } });
});
afterAll(() => stack.close());

/** Polls /ready of `app` until `status` (a worker's first poll or a refresh takes a moment). */
async function readyUntil(app: TestStack['app'], status: number, deadlineMs = 15_000) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    if (res.statusCode === status || Date.now() > until) return res;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it('/ready answers 200 when PostgreSQL and Temporal answer and a worker polls the task queue', async () => {
  const res = await readyUntil(stack.app, 200);
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({ status: 'ready', checks: { postgres: { ok: true }, temporal: { ok: true }, worker: { ok: true } } });
});

it('/ready answers 503 naming the worker when nothing polls the task queue', async () => {
  const config = { ...stack.config, TEMPORAL_TASK_QUEUE: uniqueTaskQueue('nobody') };
  const app = await buildTestApp({ config, db: stack.database.db, pool: stack.database.pool, temporal: stack.temporal });
  try {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json().checks).toMatchObject({ postgres: { ok: true }, temporal: { ok: true }, worker: { ok: false } });
    expect(res.json().checks.worker.error).toMatch(/no worker polls/);
  } finally {
    await app.close();
  }
});

it('many concurrent /ready calls are answered from memory and never 503 spuriously', async () => {
  let pings = 0;
  const pingDatabase = async () => {
    pings++;
    await stack.database.pool.query('SELECT 1');
  };
  const app = await buildTestApp({ config: stack.config, db: stack.database.db, pool: stack.database.pool, temporal: stack.temporal, pingDatabase });
  try {
    await readyUntil(app, 200);
    const before = pings;
    const statuses: number[] = [];
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(Array.from({ length: 200 }, () => app.inject({ method: 'GET', url: '/ready' })));
      statuses.push(...answers.map((a) => a.statusCode));
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(statuses).toHaveLength(1000);
    // A database round trip per background refresh (every 200 ms), not per call.
    expect(pings - before).toBeLessThan(20);
  } finally {
    await app.close();
  }
});

it('/ready answers 503 naming PostgreSQL when the database is down', async () => {
  // Nothing listens on this port: the database is "down".
  const down = createDb({ connectionString: `postgres://nobody@127.0.0.1:${await freePort()}/none` });
  const app = await buildTestApp({ config: stack.config, db: down.db, pool: down.pool, temporal: stack.temporal });
  try {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body.status).toBe('not_ready');
    expect(body.checks.postgres.ok).toBe(false);
    expect(body.checks.postgres.error).toMatch(/ECONNREFUSED|connect/i);
    expect(body.checks.temporal.ok).toBe(true);
  } finally {
    await app.close();
  }
});
