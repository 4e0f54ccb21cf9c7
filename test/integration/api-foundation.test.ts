import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/database';
import { bearer, buildTestApp, createTestStack, type TestStack, type TestTenant } from '../helpers/app';

let stack: TestStack;
let acme: TestTenant;
let globex: TestTenant;

beforeAll(async () => {
  stack = await createTestStack({ name: 'api-foundation' });
  acme = await stack.createTenant('Acme');
  globex = await stack.createTenant('Globex');
});
afterAll(() => stack.close());

const expectProblem = (res: { headers: Record<string, unknown>; json(): any }, status: number, code: string) => {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({ status, code, type: expect.stringContaining('/problems/'), title: expect.any(String), detail: expect.any(String) });
  return body;
};

describe('authentication and roles', () => {
  it('answers 401 API_KEY_MISSING without a key', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/me' });
    expect(res.statusCode).toBe(401);
    expectProblem(res, 401, 'API_KEY_MISSING');
  });

  it('answers 401 API_KEY_INVALID for a malformed key and for a well-formed unknown one', async () => {
    for (const key of ['nonsense', acme.adminKey.slice(0, -4) + 'AAAA']) {
      const res = await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(key) });
      expect(res.statusCode).toBe(401);
      expectProblem(res, 401, 'API_KEY_INVALID');
    }
  });

  it('accepts the key in X-Api-Key too and tells who it belongs to', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/me', headers: { 'x-api-key': acme.supervisorKey } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ tenant: { id: acme.tenantId, name: 'Acme' }, user: { role: 'supervisor' } });
  });

  it('answers 403 ROLE_TOO_LOW when a viewer tries to change something, and when a supervisor manages users', async () => {
    const viewer = await stack.app.inject({
      method: 'POST',
      url: '/v1/exports/activity-report',
      headers: bearer(acme.viewerKey),
      payload: { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' },
    });
    expect(viewer.statusCode).toBe(403);
    expect(expectProblem(viewer, 403, 'ROLE_TOO_LOW')).toMatchObject({ requiredRole: 'supervisor', role: 'viewer' });
    const supervisor = await stack.app.inject({ method: 'GET', url: '/v1/users', headers: bearer(acme.supervisorKey) });
    expect(supervisor.statusCode).toBe(403);
  });

  it("answers 404 for another tenant's resource", async () => {
    const created = await stack.database.db
      .insertInto('exports')
      .values({ tenant_id: globex.tenantId, kind: 'activity-report', status: 'completed', file_name: 'x.csv' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const own = await stack.app.inject({ method: 'GET', url: `/v1/exports/${created.id}`, headers: bearer(globex.supervisorKey) });
    expect(own.statusCode).toBe(200);
    const other = await stack.app.inject({ method: 'GET', url: `/v1/exports/${created.id}`, headers: bearer(acme.adminKey) });
    expect(other.statusCode).toBe(404);
    expectProblem(other, 404, 'EXPORT_NOT_FOUND');
  });

  it('stops working once the key is revoked, and records the revocation in the audit log', async () => {
    const user = await stack.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(acme.adminKey),
      payload: { name: 'Maria', email: 'maria@acme.test', role: 'viewer' },
    });
    expect(user.statusCode).toBe(201);
    const issued = await stack.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: bearer(acme.adminKey),
      payload: { userId: user.json().id, name: 'maria laptop' },
    });
    expect(issued.statusCode).toBe(201);
    const { id, key } = issued.json();
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(key) })).statusCode).toBe(200);
    const revoked = await stack.app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: bearer(acme.adminKey) });
    expect(revoked.statusCode).toBe(204);
    expect((await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(key) })).statusCode).toBe(401);
    const stored = await stack.database.db.selectFrom('api_keys').select('secret_hash').where('id', '=', id).executeTakeFirstOrThrow();
    expect(key).not.toContain(stored.secret_hash);

    const log = await stack.app.inject({ method: 'GET', url: '/v1/audit-log?limit=10', headers: bearer(acme.supervisorKey) });
    const actions = log.json().items.map((e: { action: string }) => e.action);
    expect(actions.slice(0, 3)).toEqual(['api_key.revoke', 'api_key.create', 'user.create']);
    expect(log.json().items[0]).toMatchObject({ targetId: id, actorKeyId: acme.adminKey.split('_')[1] });
  });
});

describe('problem+json', () => {
  it('lists each bad field of a validation error', async () => {
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(acme.adminKey),
      payload: { name: '', email: 'not-an-email', role: 'boss' },
    });
    expect(res.statusCode).toBe(400);
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'name', 'role']);
    expect(body.errors.every((e: { in: string }) => e.in === 'body')).toBe(true);
  });

  it('answers unknown routes with ROUTE_NOT_FOUND', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/nope', headers: bearer(acme.adminKey) });
    expect(res.statusCode).toBe(404);
    expectProblem(res, 404, 'ROUTE_NOT_FOUND');
  });

  it('answers an over-long path parameter with 400 PATH_PARAMETER_TOO_LONG, not a bare 414', async () => {
    const res = await stack.app.inject({ method: 'POST', url: `/v1/reports/${'x'.repeat(300)}/runs`, headers: bearer(acme.adminKey), payload: {} });
    expect(res.statusCode).toBe(400);
    expectProblem(res, 400, 'PATH_PARAMETER_TOO_LONG');
  });

  it('answers a path that is not valid percent-encoding with 400 URL_INVALID', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/users/%E0%A4%A', headers: bearer(acme.adminKey) });
    expect(res.statusCode).toBe(400);
    expectProblem(res, 400, 'URL_INVALID');
  });

  it('answers a bad cursor with 400 CURSOR_INVALID', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/users?cursor=zzz', headers: bearer(acme.adminKey) });
    expect(res.statusCode).toBe(400);
    expectProblem(res, 400, 'CURSOR_INVALID');
  });

  it('never leaks internals in a 500', async () => {
    // A database with none of our tables: every query fails inside the server.
    const broken = createDb({ connectionString: stack.database.url, schema: 'no_such_schema_here' });
    const app = await buildTestApp({ config: stack.config, db: broken.db, pool: broken.pool, temporal: stack.temporal });
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(acme.adminKey) });
      expect(res.statusCode).toBe(500);
      const body = expectProblem(res, 500, 'INTERNAL_ERROR');
      expect(body.detail).toContain(res.headers['x-request-id'] as string);
      expect(res.body).not.toMatch(/relation|api_keys|select|stack|at /i);
    } finally {
      await app.close();
      await broken.close();
    }
  });
});

describe('lists', () => {
  it('pages with limit and cursor without gaps or repeats', async () => {
    for (let i = 0; i < 7; i++) {
      await stack.app.inject({
        method: 'POST',
        url: '/v1/users',
        headers: bearer(globex.adminKey),
        payload: { name: `Pessoa ${i}`, email: `p${i}@globex.test`, role: 'viewer' },
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/users?limit=3&sort=name${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await stack.app.inject({ method: 'GET', url, headers: bearer(globex.adminKey) });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      seen.push(...body.items.map((u: { name: string }) => u.name));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor);
    // 7 created + the admin and the two role users of the tenant.
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
    expect([...seen]).toEqual([...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(pages).toBe(4);
  });
});

describe('public routes', () => {
  it('serves /health, the OpenAPI document and Swagger UI without a key', async () => {
    expect((await stack.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    const doc = await stack.app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    const openapi = doc.json();
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/exports/activity-report', '/v1/exports/{id}/cancel', '/v1/me']));
    expect(openapi.components.schemas.Problem).toBeDefined();
    const ui = await stack.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });

  it('serves Prometheus metrics', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('omni_http_request_duration_seconds');
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });
});
