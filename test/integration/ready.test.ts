import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb } from '../../src/db/database';
import { freePort } from '../../src/embedded/ports';
import { buildTestApp, createTestStack, type TestStack } from '../helpers/app';

let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack({ name: 'ready' });
});
afterAll(() => stack.close());

it('/ready answers 200 when PostgreSQL and Temporal answer', async () => {
  const res = await stack.app.inject({ method: 'GET', url: '/ready' });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({ status: 'ready', checks: { postgres: { ok: true }, temporal: { ok: true } } });
});

it('/ready answers 503 naming PostgreSQL when the database is down', async () => {
  // Nothing listens on this port: the database is "down".
  const down = createDb({ connectionString: `postgres://nobody@127.0.0.1:${await freePort()}/none` });
  const app = await buildTestApp({ config: stack.config, db: down.db, temporal: stack.temporal });
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
    await down.close();
  }
});
