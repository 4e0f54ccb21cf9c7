import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app';
import type { App } from '../../src/api/types';
import { createSecretBox } from '../../src/db/secrets';
import { redactUrl } from '../../src/logger';
import { metricsBindAddress } from '../../src/worker';
import { parseConfig } from '../../src/config';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { multipart } from '../helpers/multipart';
import { openRaw, uploadHead, type RawConnection } from '../helpers/raw-http';

const SECRETS_KEY = randomBytes(32).toString('hex');
const MAX_BYTES = 200_000;
let stack: TestStack;
let tenant: TestTenant;
let port: number;

beforeAll(async () => {
  stack = await createTestStack({
    name: 'security',
    env: {
      SECRETS_KEY,
      IMPORT_MAX_BYTES: String(MAX_BYTES),
      UPLOAD_MIN_BYTES_PER_SECOND: '200',
      UPLOAD_RATE_WINDOW_MS: '1000',
      UPLOAD_MAX_CONCURRENT_PER_TENANT: '10',
    },
  });
  await stack.app.listen({ port: 0, host: '127.0.0.1' });
  port = (stack.app.server.address() as AddressInfo).port;
  tenant = await stack.createTenant('Segurança');
});
afterAll(() => stack.close());

const sign = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const box = () => createSecretBox(SECRETS_KEY);

/** A channel written straight to the database (its Graph check has tests of its own). */
async function insertChannel(appSecret: string, phoneNumberId = String(100_000_000_000 + Math.floor(Math.random() * 1e9))) {
  return stack.database.db
    .insertInto('whatsapp_channels')
    .values({
      tenant_id: tenant.tenantId,
      name: `Canal ${phoneNumberId}`,
      phone_number_id: phoneNumberId,
      waba_id: '102290129340398',
      display_number: '554830000000',
      access_token_enc: box().seal('token-valido-123'),
      app_secret_enc: box().seal(appSecret),
      verify_token: 'verifica-segredo-123',
      mps_limit: 80,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

const groupCount = async () =>
  Number(
    (
      await stack.database.db
        .selectFrom('contact_groups')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
const uploadCount = async () =>
  Number(
    (
      await stack.database.db
        .selectFrom('uploads')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('bad input gets a 4xx, never a 500', () => {
  it('a NUL character in a query parameter, a JSON field or a form field is a 400 naming the field', async () => {
    const query = await stack.app.inject({ method: 'GET', url: '/v1/contact-groups?name=a%00b', headers: bearer(tenant.viewerKey) });
    expect(query.statusCode).toBe(400);
    expect(query.headers['content-type']).toContain('application/problem+json');
    expect(query.json()).toMatchObject({ code: 'TEXT_NUL_CHARACTER', errors: [{ field: 'name', in: 'querystring' }] });

    const search = await stack.app.inject({ method: 'GET', url: '/v1/company-contacts?search=%00', headers: bearer(tenant.viewerKey) });
    expect(search.json()).toMatchObject({ status: 400, code: 'TEXT_NUL_CHARACTER', errors: [{ field: 'search' }] });

    const body = await stack.app.inject({
      method: 'POST',
      url: '/v1/company-contacts',
      headers: bearer(tenant.supervisorKey),
      payload: { name: 'Maria\u0000', phones: ['5548998288774'] },
    });
    expect(body.json()).toMatchObject({ status: 400, code: 'TEXT_NUL_CHARACTER', errors: [{ field: 'name', in: 'body' }] });

    const form = multipart({ name: 'Grupo\u0000', kind: 'dialer' }, { filename: 'a.csv', content: 'nome;telefone1\nAna;5548998288774\n' });
    const upload = await stack.app.inject({
      method: 'POST',
      url: '/v1/contact-groups',
      headers: { ...bearer(tenant.supervisorKey), ...form.headers },
      payload: form.payload,
    });
    expect(upload.json()).toMatchObject({ status: 400, code: 'TEXT_NUL_CHARACTER', errors: [{ field: 'name' }] });
  });

  it('malformed multipart (no closing boundary, a gzip Content-Encoding) is a 400', async () => {
    const boundary = 'xyz123';
    const unclosed =
      `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nG\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nnome;telefone1\nAna;5548998288774\n`;
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/contact-groups',
      headers: { ...bearer(tenant.supervisorKey), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: unclosed,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('MULTIPART_MALFORMED');

    const form = multipart({ name: 'Gz', kind: 'dialer' }, { filename: 'a.csv', content: 'nome;telefone1\nAna;5548998288774\n' });
    const gzip = await stack.app.inject({
      method: 'POST',
      url: '/v1/contact-groups',
      headers: { ...bearer(tenant.supervisorKey), ...form.headers, 'content-encoding': 'gzip' },
      payload: form.payload,
    });
    expect(gzip.statusCode).toBe(400);
    expect(gzip.json().code).toBe('CONTENT_ENCODING_UNSUPPORTED');
    expect(await uploadCount()).toBe(0);
  });

  it('a header-only file, with or without a line ending, is a 422 NO_ROWS at once and creates nothing', async () => {
    const before = await groupCount();
    for (const content of ['nome;telefone1\r\n', 'nome;telefone1', 'nome;telefone1\n\n']) {
      const form = multipart({ name: `Só cabeçalho ${content.length}`, kind: 'dialer' }, { filename: 'a.csv', content });
      const res = await stack.app.inject({
        method: 'POST',
        url: '/v1/contact-groups',
        headers: { ...bearer(tenant.supervisorKey), ...form.headers },
        payload: form.payload,
      });
      expect({ content, status: res.statusCode, code: res.json().code }).toEqual({ content, status: 422, code: 'NO_ROWS' });
    }
    expect(await groupCount()).toBe(before);
    expect(await uploadCount()).toBe(0);
  });

  it('an access token with characters HTTP headers cannot carry is a 422 at channel creation', async () => {
    for (const accessToken of ['EAAB token com espaço', 'EAABtoken\r\nX-Injected: 1', 'EAABtokén0123']) {
      const res = await stack.app.inject({
        method: 'POST',
        url: '/v1/whatsapp/channels',
        headers: bearer(tenant.adminKey),
        payload: {
          name: 'Canal',
          phoneNumberId: '106540352242922',
          wabaId: '102290129340398',
          displayNumber: '554830000000',
          accessToken,
          appSecret: 'segredo-123',
        },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'ACCESS_TOKEN_INVALID', errors: [{ field: 'accessToken' }] });
    }
  });

  it('a signed webhook nested 100,000 deep is a 400 and nothing is stored', async () => {
    const channel = await insertChannel('segredo-profundo');
    const body = '['.repeat(100_000) + ']'.repeat(100_000);
    const res = await stack.app.inject({
      method: 'POST',
      url: `/v1/webhooks/whatsapp/${channel.id}`,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, 'segredo-profundo') },
      payload: body,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('WEBHOOK_BODY_TOO_DEEP');
    const stored = await stack.database.db.selectFrom('webhook_events').select('id').where('channel_id', '=', channel.id).execute();
    expect(stored).toEqual([]);
  });
});

describe('uploads', () => {
  const boundary = 'omniRawBoundary42';
  const csvStart = 'nome;telefone1\n';
  const row = (i: number) => `Cliente ${String(i).padStart(6, '0')};55489${String(80_000_000 + i).padStart(8, '0')}\n`;

  async function startUpload(key = tenant.supervisorKey, contentLength = 50_000): Promise<RawConnection> {
    const { head, opening } = uploadHead({
      path: '/v1/contact-groups',
      key,
      contentLength,
      boundary,
      fields: { name: `Lento ${randomBytes(4).toString('hex')}`, kind: 'dialer' },
    });
    const raw = await openRaw(port);
    raw.write(head + opening + csvStart);
    return raw;
  }

  it('ten slow uploads hold no database connection: authenticated calls and /ready still answer', async () => {
    const slow = await Promise.all(Array.from({ length: 10 }, () => startUpload()));
    // Each sends well above the minimum rate (about 500 bytes/s), for as long as the test needs.
    let i = 0;
    const feeding = setInterval(() => slow.forEach((s) => s.write(row(i++) + row(i++) + row(i++))), 200);
    try {
      // Let every upload reach the point where its stream is being read.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = Date.now();
      const calls = await Promise.all(
        Array.from({ length: 5 }, () => stack.app.inject({ method: 'GET', url: '/v1/contact-groups', headers: bearer(tenant.viewerKey) })),
      );
      expect(calls.map((c) => c.statusCode)).toEqual([200, 200, 200, 200, 200]);
      expect(Date.now() - started).toBeLessThan(3000);
      const ready = await stack.app.inject({ method: 'GET', url: '/ready' });
      expect(ready.json().checks.postgres).toEqual({ ok: true });
      // An eleventh upload of the same tenant is refused at once.
      const form = multipart({ name: 'Décimo primeiro', kind: 'dialer' }, { filename: 'a.csv', content: csvStart + row(1) });
      const busy = await stack.app.inject({
        method: 'POST',
        url: '/v1/contact-groups',
        headers: { ...bearer(tenant.supervisorKey), ...form.headers },
        payload: form.payload,
      });
      expect(busy.statusCode).toBe(429);
      expect(busy.json()).toMatchObject({ code: 'UPLOADS_BUSY', limit: 10 });
      expect(slow.every((s) => s.received() === '')).toBe(true);
    } finally {
      clearInterval(feeding);
      slow.forEach((s) => s.socket.destroy());
    }
  });

  it('an upload trickling below the minimum rate is cut off with 408 and its connection closed', async () => {
    const raw = await startUpload();
    const trickle = setInterval(() => raw.write('x'), 250);
    try {
      const text = await raw.responses(1, 5000);
      expect(text).toMatch(/^HTTP\/1\.1 408/);
      expect(text).toMatch(/connection: close/i);
      expect(text).toContain('UPLOAD_TOO_SLOW');
      expect(await raw.closed(3000)).toBe(true);
    } finally {
      clearInterval(trickle);
      raw.socket.destroy();
    }
    // Nothing of it is kept.
    await expect.poll(uploadCount, { timeout: 3000 }).toBe(0);
  });

  it('after an early 422 (a binary file) the answer says Connection: close and the connection is closed, not left hanging', async () => {
    const { head, opening } = uploadHead({
      path: '/v1/contact-groups',
      key: tenant.supervisorKey,
      contentLength: 150_000,
      boundary,
      fields: { name: 'Binário', kind: 'dialer' },
    });
    const raw = await openRaw(port);
    raw.write(head + opening);
    raw.write(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(70_000, 1)]));
    const text = await raw.responses(1, 5000);
    expect(text).toMatch(/^HTTP\/1\.1 422/);
    expect(text).toMatch(/connection: close/i);
    expect(text).toContain('FILE_BINARY');
    expect(await raw.closed(3000)).toBe(true);
    raw.socket.destroy();
  });

  it('after an early 413 the connection is closed too, and the next request on a new connection answers', async () => {
    const { head, opening } = uploadHead({
      path: '/v1/contact-groups',
      key: tenant.supervisorKey,
      contentLength: MAX_BYTES * 3,
      boundary,
      fields: { name: 'Grande', kind: 'dialer' },
    });
    const raw = await openRaw(port);
    raw.write(head + opening + csvStart);
    let written = csvStart.length;
    for (let i = 0; written < MAX_BYTES + 20_000; i++) {
      raw.write(row(i));
      written += row(i).length;
    }
    const text = await raw.responses(1, 5000);
    expect(text).toMatch(/^HTTP\/1\.1 413/);
    expect(text).toMatch(/connection: close/i);
    expect(await raw.closed(3000)).toBe(true);
    raw.socket.destroy();
    const next = await openRaw(port);
    next.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await next.responses(1, 3000)).toMatch(/^HTTP\/1\.1 200/);
    next.socket.destroy();
    await expect.poll(uploadCount, { timeout: 3000 }).toBe(0);
  });
});

describe('roles', () => {
  it('a viewer cannot download (or see) the activity report, which is audit data; a supervisor can', async () => {
    const row = await stack.database.db
      .insertInto('exports')
      .values({ tenant_id: tenant.tenantId, kind: 'activity-report', status: 'completed', file_name: 'atividade.csv', params: JSON.stringify({}) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const asViewer = await stack.app.inject({ method: 'GET', url: `/v1/exports/${row.id}/file`, headers: bearer(tenant.viewerKey) });
    expect(asViewer.statusCode).toBe(403);
    expect(asViewer.json()).toMatchObject({ code: 'ROLE_TOO_LOW', requiredRole: 'supervisor' });
    expect((await stack.app.inject({ method: 'GET', url: `/v1/exports/${row.id}`, headers: bearer(tenant.viewerKey) })).statusCode).toBe(403);
    const list = await stack.app.inject({ method: 'GET', url: '/v1/exports', headers: bearer(tenant.viewerKey) });
    expect(list.json().items).toEqual([]);
    expect((await stack.app.inject({ method: 'GET', url: `/v1/exports/${row.id}/file`, headers: bearer(tenant.supervisorKey) })).statusCode).toBe(200);
    expect((await stack.app.inject({ method: 'GET', url: '/v1/audit-log', headers: bearer(tenant.viewerKey) })).statusCode).toBe(403);
  });

  it('only an admin manages channel credentials, and a viewer does not see the verify token', async () => {
    const channel = await insertChannel('segredo-papel');
    const create = await stack.app.inject({
      method: 'POST',
      url: '/v1/whatsapp/channels',
      headers: bearer(tenant.supervisorKey),
      payload: {
        name: 'Canal',
        phoneNumberId: '106540352242922',
        wabaId: '102290129340398',
        displayNumber: '554830000000',
        accessToken: 'token-valido-123',
        appSecret: 'segredo-123',
      },
    });
    expect(create.statusCode).toBe(403);
    const url = `/v1/whatsapp/channels/${channel.id}`;
    for (const change of [{ appSecret: 'outro-segredo' }, { verifyToken: 'outro-token-123' }, { accessToken: 'outro-token-de-acesso' }]) {
      const res = await stack.app.inject({ method: 'PATCH', url, headers: bearer(tenant.supervisorKey), payload: change });
      expect({ change, status: res.statusCode }).toEqual({ change, status: 403 });
    }
    expect((await stack.app.inject({ method: 'PATCH', url, headers: bearer(tenant.supervisorKey), payload: { name: 'Renomeado' } })).statusCode).toBe(200);
    const asViewer = await stack.app.inject({ method: 'GET', url, headers: bearer(tenant.viewerKey) });
    expect(asViewer.json().verifyToken).toBeNull();
    expect(asViewer.body).not.toContain('verifica-segredo-123');
    const listed = await stack.app.inject({ method: 'GET', url: '/v1/whatsapp/channels', headers: bearer(tenant.viewerKey) });
    expect(listed.body).not.toContain('verifica-segredo-123');
    expect((await stack.app.inject({ method: 'GET', url, headers: bearer(tenant.supervisorKey) })).json().verifyToken).toBe('verifica-segredo-123');
  });
});

describe('secrets, keys and logs', () => {
  it('a rotated app secret applies at once in every API process: the new one is accepted, the old one refused', async () => {
    const channel = await insertChannel('segredo-antigo');
    // A second API process on the same database.
    const other: App = await buildApp({ config: stack.config, db: stack.database.db, pool: stack.database.pool, temporal: stack.temporal }, { logger: false });
    try {
      const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [] });
      const post = (app: App, secret: string) =>
        app.inject({
          method: 'POST',
          url: `/v1/webhooks/whatsapp/${channel.id}`,
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, secret) },
          payload: body,
        });
      expect((await post(other, 'segredo-antigo')).statusCode).toBe(200);
      const rotated = await stack.app.inject({
        method: 'PATCH',
        url: `/v1/whatsapp/channels/${channel.id}`,
        headers: bearer(tenant.adminKey),
        payload: { appSecret: 'segredo-novo' },
      });
      expect(rotated.statusCode).toBe(200);
      expect((await post(other, 'segredo-novo')).statusCode).toBe(200);
      expect((await post(other, 'segredo-antigo')).statusCode).toBe(403);
      expect((await post(stack.app, 'segredo-antigo')).statusCode).toBe(403);
    } finally {
      await other.close();
    }
  });

  it('writes api_keys.last_used_at, at most once a minute', async () => {
    const keyId = /^omni_(k[0-9a-f]{12})_/.exec(tenant.viewerKey)![1];
    const lastUsed = async () =>
      (await stack.database.db.selectFrom('api_keys').select('last_used_at').where('id', '=', keyId).executeTakeFirstOrThrow()).last_used_at;
    await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tenant.viewerKey) });
    await expect.poll(lastUsed, { timeout: 3000 }).not.toBeNull();
    const first = new Date((await lastUsed())!).getTime();
    await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tenant.viewerKey) });
    await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(tenant.viewerKey) });
    // Still the first write (the throttle holds for a minute).
    expect(new Date((await lastUsed())!).getTime()).toBe(first);
  });

  it('logs request URLs with credential-like query parameters redacted', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logged = await buildApp(
      { config: stack.config, db: stack.database.db, pool: stack.database.pool, temporal: stack.temporal },
      { logger: { level: 'info', stream } as never },
    );
    try {
      const channel = await insertChannel('segredo-log');
      await logged.inject({ method: 'GET', url: `/v1/webhooks/whatsapp/${channel.id}?hub.mode=subscribe&hub.verify_token=SEGREDO-VERIFICA&hub.challenge=42` });
      await logged.inject({ method: 'GET', url: '/v1/me?api_key=SEGREDO-CHAVE&access_token=SEGREDO-ACESSO&limit=5' });
    } finally {
      await logged.close();
    }
    const text = lines.join('');
    expect(text).toContain('/v1/me?api_key=[REDACTED]&access_token=[REDACTED]&limit=5');
    expect(text).toContain('hub.verify_token=[REDACTED]');
    expect(text).not.toMatch(/SEGREDO-/);
    expect(redactUrl('/x?hub.mode=subscribe&password=p&Signature=s&ok=1')).toBe('/x?hub.mode=subscribe&password=[REDACTED]&Signature=[REDACTED]&ok=1');
  });

  it('worker metrics listen on loopback unless WORKER_METRICS_HOST says otherwise', () => {
    expect(metricsBindAddress(parseConfig({}))).toBe('127.0.0.1:9464');
    expect(metricsBindAddress(parseConfig({ WORKER_METRICS_HOST: '0.0.0.0', WORKER_METRICS_PORT: '9500' }))).toBe('0.0.0.0:9500');
    expect(metricsBindAddress(parseConfig({ WORKER_METRICS_HOST: '::1' }))).toBe('[::1]:9464');
  });
});
