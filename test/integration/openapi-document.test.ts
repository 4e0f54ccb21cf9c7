import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { multipart } from '../helpers/multipart';

let stack: TestStack;
let tenant: TestTenant;
let doc: OpenAPIV3.Document;

beforeAll(async () => {
  stack = await createTestStack({ name: 'openapi-doc' });
  tenant = await stack.createTenant();
  doc = (await stack.app.inject({ method: 'GET', url: '/docs/json' })).json();
});
afterAll(() => stack.close());

type Operation = OpenAPIV3.OperationObject & { path: string; method: string };
const operations = (): Operation[] =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item as Record<string, OpenAPIV3.OperationObject>).map(([method, op]) => ({ ...op, path, method })),
  );
const op = (method: string, path: string) => (doc.paths[path] as Record<string, OpenAPIV3.OperationObject>)[method];
const response = (operation: OpenAPIV3.OperationObject, status: string) => operation.responses[status] as OpenAPIV3.ResponseObject;
const bodySchema = (operation: OpenAPIV3.OperationObject, mediaType: string) =>
  (operation.requestBody as OpenAPIV3.RequestBodyObject | undefined)?.content[mediaType]?.schema as OpenAPIV3.SchemaObject | undefined;

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3 document (every schema, parameter and reference)', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
    const parameterNames = operations().flatMap((o) => ((o.parameters ?? []) as OpenAPIV3.ParameterObject[]).map((p) => p.name));
    expect(parameterNames).not.toContain('additionalProperties');
  });

  it('documents every error as application/problem+json, and only that', () => {
    const errors = operations().flatMap((o) =>
      Object.entries(o.responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([status, r]) => ({ o, status, r })),
    );
    expect(errors.length).toBeGreaterThan(100);
    for (const { o, status, r } of errors) {
      if (o.path === '/ready' && status === '503') continue; // readiness answers its checks, as JSON
      expect(Object.keys((r as OpenAPIV3.ResponseObject).content ?? {}), `${o.method} ${o.path} ${status}`).toEqual(['application/problem+json']);
    }
  });

  it('documents 204 responses without a body', () => {
    const noContent = operations().filter((o) => o.responses['204']);
    expect(noContent.map((o) => `${o.method} ${o.path}`)).toEqual(expect.arrayContaining(['delete /v1/api-keys/{id}', 'delete /v1/dialer/block-list/{phone}']));
    for (const o of noContent) expect(response(o, '204').content, `${o.method} ${o.path}`).toBeUndefined();
  });

  it('says which routes need no key, and every other one needs the bearer key (or the console session)', () => {
    const open = operations().filter((o) => Array.isArray(o.security) && o.security.length === 0);
    expect(open.map((o) => `${o.method} ${o.path}`).sort()).toEqual([
      'get /health',
      'get /ready',
      'get /v1/mercadolivre/oauth/callback',
      'get /v1/webhooks/whatsapp/{channelId}',
      'post /v1/auth/invites/accept',
      'post /v1/auth/session',
      'post /v1/webhooks/mercadolivre',
      'post /v1/webhooks/whatsapp/{channelId}',
    ]);
    expect(doc.security).toEqual([{ apiKey: [] }, { xApiKey: [] }, { consoleSession: [] }]);
    for (const o of operations())
      if (!open.some((p) => p.path === o.path && p.method === o.method)) expect(o.security, `${o.method} ${o.path}`).toBeUndefined();
  });

  it("documents the webhook subscription check's query and its text/plain answer", () => {
    const check = op('get', '/v1/webhooks/whatsapp/{channelId}');
    const query = (check.parameters as OpenAPIV3.ParameterObject[]).filter((p) => p.in === 'query').map((p) => p.name);
    expect(query).toEqual(['hub.mode', 'hub.verify_token', 'hub.challenge']);
    expect(Object.keys(response(check, '200').content ?? {})).toEqual(['text/plain']);
    expect(bodySchema(op('post', '/v1/webhooks/whatsapp/{channelId}'), 'application/json')?.required).toEqual(['object', 'entry']);
  });

  it('documents the multipart uploads with their fields', () => {
    const create = bodySchema(op('post', '/v1/contact-groups'), 'multipart/form-data');
    expect(create?.required).toEqual(['name', 'kind', 'file']);
    expect(create?.properties?.file).toMatchObject({ type: 'string', format: 'binary' });
    expect(create?.properties?.phonePolicy).toMatchObject({ enum: ['reject_row', 'drop_invalid'] });
    for (const path of ['/v1/contact-groups/{id}/imports', '/v1/company-contacts/imports']) {
      const form = bodySchema(op('post', path), 'multipart/form-data');
      expect(Object.keys(form?.properties ?? {}), path).toEqual(['phonePolicy', 'file']);
      expect(form?.required, path).toEqual(['file']);
    }
  });

  it('names the non-JSON answers by their media type', () => {
    expect(Object.keys(response(op('get', '/v1/contact-groups/template.csv'), '200').content ?? {})).toEqual(['text/csv']);
    expect(Object.keys(response(op('get', '/v1/dialer/reports/calls'), '200').content ?? {})).toEqual(['text/csv']);
    expect(Object.keys(response(op('get', '/v1/broadcast/sends/{id}/monitor/stream'), '200').content ?? {})).toEqual(['text/event-stream']);
  });

  it('states the constraints the server enforces: cursor, phones, from before to, roles', () => {
    const cursor = (op('get', '/v1/users').parameters as OpenAPIV3.ParameterObject[]).find((p) => p.name === 'cursor');
    expect(cursor?.schema).toMatchObject({ pattern: '^[A-Za-z0-9_-]+$' });
    const phone = bodySchema(op('post', '/v1/dialer/block-list'), 'application/json')?.properties?.phone as OpenAPIV3.SchemaObject;
    expect(phone.pattern).toBe('^[0-9\\s+().-]+$');
    expect(phone.description).toMatch(/DDI 55/);
    const contactPhones = bodySchema(op('post', '/v1/company-contacts'), 'application/json')?.properties?.phones as OpenAPIV3.ArraySchemaObject;
    expect((contactPhones.items as OpenAPIV3.SchemaObject).pattern).toBe(phone.pattern);
    const period = bodySchema(op('post', '/v1/exports/activity-report'), 'application/json')?.properties?.to as OpenAPIV3.SchemaObject;
    expect(period.description).toMatch(/after `from`/);
    expect(op('post', '/v1/users').description).toMatch(/role `admin`/);
  });

  it('answers a cursor with characters outside base64url 400 CURSOR_INVALID, as documented', async () => {
    const first = (await stack.app.inject({ method: 'GET', url: '/v1/users?limit=1', headers: bearer(tenant.adminKey) })).json();
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    // Base64 decoding skips stray characters: without the pattern this would be read as the same cursor.
    const res = await stack.app.inject({ method: 'GET', url: `/v1/users?limit=1&cursor=${first.nextCursor}!!`, headers: bearer(tenant.adminKey) });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('CURSOR_INVALID');
  });
});

describe('block-list/import: the documented limits and the body limit agree', () => {
  it('documents 100,000 phones and 5,000,000 characters of CSV, and a body limit that holds them', () => {
    const operation = op('post', '/v1/dialer/block-list/import');
    const schema = bodySchema(operation, 'application/json');
    expect(schema?.properties?.csv).toMatchObject({ maxLength: 5_000_000 });
    expect(schema?.properties?.phones).toMatchObject({ maxItems: 100_000 });
    expect(operation.description).toMatch(/up to 6,291,456 bytes/);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['413', '415']));
  });

  it('accepts a CSV of more than 1 MiB (the JSON default) and answers 413 beyond the route limit', async () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `55119${String(10_000_000 + i).padStart(8, '0')}`);
    const csv = lines.join('\n');
    expect(csv.length).toBeGreaterThan(1024 * 1024);
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/dialer/block-list/import',
      headers: { ...bearer(tenant.supervisorKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ csv }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ added: lines.length, invalid: [] });

    const tooLarge = await stack.app.inject({
      method: 'POST',
      url: '/v1/dialer/block-list/import',
      headers: { ...bearer(tenant.supervisorKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ csv: 'x'.repeat(7 * 1024 * 1024) }),
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('still refuses a non-multipart upload with 415 as documented', async () => {
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/company-contacts/imports',
      headers: { ...bearer(tenant.supervisorKey), 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(415);
    const ok = multipart({}, { filename: 'c.csv', content: 'nome;telefone1\nAna;5511912345678\n' });
    const accepted = await stack.app.inject({
      method: 'POST',
      url: '/v1/company-contacts/imports',
      headers: { ...bearer(tenant.supervisorKey), ...ok.headers },
      payload: ok.payload,
    });
    expect(accepted.statusCode, accepted.body).toBe(202);
  });
});
