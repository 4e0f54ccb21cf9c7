import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importWorkflowId } from '../../src/workflows/imports/messages';
import { bearer, createTestStack, type TestStack, type TestTenant, uploadGroup } from '../helpers/app';
import { openRaw, uploadHead, type RawConnection } from '../helpers/raw-http';

/**
 * An import starts on the first bytes of its file, while the rest is still arriving (issue 17),
 * and an upload cut off after that keeps nothing: no group the client was refused, no rows.
 */
let stack: TestStack;
let tenant: TestTenant;
let port: number;

beforeAll(async () => {
  stack = await createTestStack({ name: 'import-streaming', withWorker: true, env: { IMPORT_MAX_BYTES: '20000000' } });
  await stack.app.listen({ port: 0, host: '127.0.0.1' });
  port = (stack.app.server.address() as AddressInfo).port;
  tenant = await stack.createTenant('Envio em partes');
});
afterAll(() => stack.close());

const boundary = 'omniStreamBoundary7';
const header = 'nome;telefone1\n';
const rows = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => `Cliente ${from + k};55489${String(10_000_000 + from + k).padStart(8, '0')}\n`).join('');
// About 1.6 MB: more than the 1 MiB chunk the import reads first.
const FIRST = 50_000;
const REST = 20_000;
const closing = `\r\n--${boundary}--\r\n`;

const db = () => stack.database.db;

/** Polls `read` until `ok` holds for its value (or fails at the deadline). */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, deadlineMs = 30_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > until) throw new Error(`condition not met in ${deadlineMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Opens an upload to `path` and sends the fields, the file's header and its first rows; the rest is the caller's. */
async function beginUpload(path: string, fields: Record<string, string>): Promise<{ raw: RawConnection; rest: string }> {
  const first = header + rows(0, FIRST);
  const rest = rows(FIRST, REST) + closing;
  const { opening } = uploadHead({ path, key: tenant.supervisorKey, contentLength: 0, boundary, fields });
  const contentLength = Buffer.byteLength(opening) + Buffer.byteLength(first) + Buffer.byteLength(rest);
  const raw = await openRaw(port);
  raw.write(uploadHead({ path, key: tenant.supervisorKey, contentLength, boundary, fields }).head + opening + first);
  return { raw, rest };
}

const importOfGroupNamed = (name: string) =>
  db()
    .selectFrom('imports')
    .innerJoin('contact_groups as g', 'g.id', 'imports.group_id')
    .select(['imports.id', 'imports.group_id', 'imports.status', 'imports.rows_imported', 'imports.error'])
    .where('g.name', '=', name)
    .where('g.tenant_id', '=', tenant.tenantId)
    .executeTakeFirst();

const contactsOf = async (groupId: string) =>
  Number(
    (
      await db()
        .selectFrom('contacts')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('group_id', '=', groupId)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('an import that starts while its file arrives', () => {
  it('has imported rows before the last byte is sent, and ends with every row once it is', async () => {
    const name = `Em partes ${randomBytes(3).toString('hex')}`;
    const { raw, rest } = await beginUpload('/v1/contact-groups', { name, kind: 'dialer' });
    // The request is still open (no answer yet), and contacts are already in the group.
    const early = await eventually(
      () => importOfGroupNamed(name),
      (row) => (row?.rows_imported ?? 0) > 0,
    );
    expect(raw.received()).toBe('');
    raw.write(rest);
    expect(await raw.responses(1, 30_000)).toMatch(/^HTTP\/1\.1 202/);
    const result = await stack.temporal.workflow.getHandle(importWorkflowId(early!.id)).result();
    expect(result).toMatchObject({ state: 'completed', rowsRead: FIRST + REST, rowsImported: FIRST + REST, rowsRejected: 0 });
    expect(await contactsOf(early!.group_id!)).toBe(FIRST + REST);
    raw.socket.destroy();
  });

  it('a new group whose upload is cut off after its import began is gone, with every row it had', async () => {
    const name = `Cortado ${randomBytes(3).toString('hex')}`;
    const { raw } = await beginUpload('/v1/contact-groups', { name, kind: 'dialer' });
    const early = await eventually(
      () => importOfGroupNamed(name),
      (row) => (row?.rows_imported ?? 0) > 0,
    );
    raw.socket.destroy();
    await eventually(
      () => db().selectFrom('contact_groups').select('id').where('id', '=', early!.group_id!).executeTakeFirst(),
      (group) => group === undefined,
    );
    expect(await contactsOf(early!.group_id!)).toBe(0);
  });

  it('an append cut off after its import began keeps none of its rows, and the group is as it was', async () => {
    const name = `Base ${randomBytes(3).toString('hex')}`;
    const created = await uploadGroup(
      stack,
      tenant.supervisorKey,
      { name, kind: 'dialer' },
      { filename: 'base.csv', content: 'nome;telefone1\nAna;5511987650001\nBia;5511987650002\n' },
    );
    expect(created.statusCode).toBe(202);
    const { group, import: first } = created.json();
    await stack.temporal.workflow.getHandle(importWorkflowId(first.id)).result();

    const { raw } = await beginUpload(`/v1/contact-groups/${group.id}/imports`, {});
    const appending = () =>
      db()
        .selectFrom('imports')
        .select(['id', 'status', 'rows_imported', 'error'])
        .where('group_id', '=', group.id)
        .where('id', '<>', first.id)
        .executeTakeFirst();
    const early = await eventually(appending, (row) => (row?.rows_imported ?? 0) > 0);
    raw.socket.destroy();
    const ended = await eventually(appending, (row) => row?.status === 'failed');
    expect(ended).toMatchObject({ id: early!.id, rows_imported: 0 });
    expect(ended!.error).toMatch(/cut off/);
    expect(await contactsOf(group.id)).toBe(2);
    const stored = await db().selectFrom('contact_groups').select('contact_count').where('id', '=', group.id).executeTakeFirstOrThrow();
    expect(stored.contact_count).toBe(2);
  });

  it('a field sent after a file the import already reads is refused with 400 FIELD_AFTER_FILE, and leaves no group', async () => {
    const name = `Campo depois ${randomBytes(3).toString('hex')}`;
    // Over one chunk (1 MiB): the import has started when the stray field comes.
    const file = header + rows(100_000, 40_000);
    const b = `----omni${randomBytes(6).toString('hex')}`;
    const payload =
      `--${b}\r\nContent-Disposition: form-data; name="name"\r\n\r\n${name}\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="kind"\r\n\r\ndialer\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\nContent-Type: text/csv\r\n\r\n${file}\r\n` +
      `--${b}\r\nContent-Disposition: form-data; name="phonePolicy"\r\n\r\ndrop_invalid\r\n--${b}--\r\n`;
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/contact-groups',
      headers: { ...bearer(tenant.supervisorKey), 'content-type': `multipart/form-data; boundary=${b}` },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'FIELD_AFTER_FILE' });
    // The group the import began on goes once the import has stopped on the abandoned upload.
    await eventually(
      () => db().selectFrom('contact_groups').select('id').where('name', '=', name).where('tenant_id', '=', tenant.tenantId).executeTakeFirst(),
      (group) => group === undefined,
    );
  });
});
