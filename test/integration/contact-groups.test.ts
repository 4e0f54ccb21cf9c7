import { sql } from 'kysely';
import iconv from 'iconv-lite';
import { startImportWorkflow } from '../../src/api/imports/start';
import { storeUpload } from '../../src/db/uploads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importWorkflowId, importProgressQuery } from '../../src/workflows/imports/messages';
import { ContactGroupId, JobKind, JobStatus, TenantId } from '../../src/workflows/search-attributes';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { multipart } from '../helpers/multipart';

let stack: TestStack;
let tenant: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  stack = await createTestStack({ name: 'contact-groups', withWorker: true, env: { IMPORT_MAX_BYTES: '200000' } });
  tenant = await stack.createTenant('Call Center Sul');
  other = await stack.createTenant('Outra Empresa');
});
afterAll(() => stack.close());

/** What Excel writes in Brazil: Windows-1252, CRLF, `;`, typos included. */
const excelFile = (lines: string[]) => iconv.encode(lines.join('\r\n') + '\r\n', 'win1252');

async function upload(name: string, content: Buffer | string, extra: Record<string, string> = {}, key = tenant.supervisorKey) {
  const form = multipart({ name, kind: 'dialer', ...extra }, { filename: 'contatos.csv', content });
  return stack.app.inject({ method: 'POST', url: '/v1/contact-groups', headers: { ...bearer(key), ...form.headers }, payload: form.payload });
}

async function waitImport(importId: string) {
  return stack.temporal.workflow.getHandle(importWorkflowId(importId)).result();
}

const get = (url: string, key = tenant.viewerKey) => stack.app.inject({ method: 'GET', url, headers: bearer(key) });

describe('importing a real-looking Brazilian file', () => {
  let groupId: string;
  let importId: string;

  it('answers 202 with the group and its import, then imports exactly the valid rows', async () => {
    const res = await upload(
      'Clientes Março',
      excelFile([
        'Nome;Telefone1;Telefone2;Email;Documento;Cidade',
        'João da Silva;5548998288774;554734322422;joao@x.com;123;Florianópolis', // 2: ok
        'Maria Conceição;(48) 9982-8775;;maria@x.com;;São José', // 3: read as national, but a mobile without its ninth digit
        ';5548998288776;;;;', // 4: no name
        'Pedro;;;;;', // 5: no phone
        '',
        'Ana;+55 48 99828-8777;5520998288777;;;', // 7: second phone bad DDD
        'José;5548998288774;;;;', // 8: duplicate of line 2
        '"Souza; Filho";5511987654321;;;;"=HYPERLINK(""http://x"")"', // 9: ok, quoted ;
        'Carla;5511987654322;;;', // 10: column count
        'Conceição;551133334444;;;;Niterói', // 11: ok landline
      ]),
    );
    expect(res.statusCode).toBe(202);
    const body = res.json();
    groupId = body.group.id;
    importId = body.import.id;
    expect(body.group).toMatchObject({ name: 'Clientes Março', kind: 'dialer', status: 'active', locked: false });
    expect(body.import).toMatchObject({ status: 'pending', fileName: 'contatos.csv', workflowId: `import-${importId}` });

    const result = await waitImport(importId);
    expect(result).toMatchObject({ state: 'completed', rowsRead: 9, rowsImported: 3, rowsRejected: 6 });

    const status = (await get(`/v1/imports/${importId}`)).json();
    expect(status).toMatchObject({ status: 'completed', rowsRead: 9, rowsImported: 3, rowsRejected: 6, encoding: 'windows-1252' });
    expect(status.durationMs).toBeGreaterThanOrEqual(0);

    const contacts = (await get(`/v1/contact-groups/${groupId}/contacts`)).json().items;
    expect(contacts.map((c: { name: string }) => c.name)).toEqual(['João da Silva', 'Souza; Filho', 'Conceição']);
    expect(contacts[0]).toMatchObject({ phones: ['5548998288774', '554734322422'], email: 'joao@x.com', custom: { Cidade: 'Florianópolis' }, line: 2 });
    expect((await get(`/v1/contact-groups/${groupId}`)).json().contactCount).toBe(3);
  });

  it('keeps every rejected row with its line, original text and every reason', async () => {
    const rejections = (await get(`/v1/imports/${importId}/rejections`)).json().items;
    const byLine = Object.fromEntries(rejections.map((r: { line: number; reasons: { code: string }[] }) => [r.line, r.reasons.map((x) => x.code)]));
    expect(byLine).toEqual({
      3: ['PHONE_INVALID'],
      4: ['NAME_MISSING'],
      5: ['NO_PHONE'],
      7: ['PHONE_INVALID'],
      8: ['DUPLICATE'],
      10: ['COLUMN_COUNT'],
    });
    const line7 = rejections.find((r: { line: number }) => r.line === 7);
    expect(line7.raw).toBe('Ana;+55 48 99828-8777;5520998288777;;;');
    expect(line7.reasons[0]).toMatchObject({ column: 'Telefone2', why: 'DDD' });

    const csv = await get(`/v1/imports/${importId}/rejections.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(csv.body).toContain('linha;conteudo_original;motivos;codigos');
    expect(csv.body).toContain('Maria Conceição');
  });

  it('lists the import in the Histórico Importação CSV', async () => {
    const csv = await get('/v1/imports/history.csv?groupKind=dialer');
    expect(csv.statusCode).toBe(200);
    const lines = csv.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('importacao;grupo;tipo;arquivo;usuario;inicio;fim;duracao_s;situacao;linhas_lidas;importadas;rejeitadas;erro');
    const row = lines.find((l) => l.startsWith(importId))!.split(';');
    expect(row.slice(1, 5)).toEqual(['Clientes Março', 'dialer', 'contatos.csv', 'supervisor Call Center Sul']);
    expect(row.slice(8, 12)).toEqual(['completed', '9', '3', '6']);
    const broadcastOnly = await get('/v1/imports/history.csv?groupKind=broadcast');
    expect(broadcastOnly.body).not.toContain(importId);
  });

  it('shows the import in the group history and is findable by search attributes', async () => {
    const history = (await get(`/v1/contact-groups/${groupId}/imports`)).json().items;
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ id: importId, rowsImported: 3, createdBy: expect.stringContaining('supervisor') });
    const handle = stack.temporal.workflow.getHandle(importWorkflowId(importId));
    const attributes = (await handle.describe()).typedSearchAttributes;
    expect(attributes.get(TenantId)).toBe(tenant.tenantId);
    expect(attributes.get(ContactGroupId)).toBe(groupId);
    expect(attributes.get(JobKind)).toBe('import');
    expect(attributes.get(JobStatus)).toBe('completed');
    expect(await handle.query(importProgressQuery)).toMatchObject({ state: 'completed', rowsImported: 3 });
  });

  it('appends with a second import, counting phones already in the group as duplicates', async () => {
    const form = multipart({}, { filename: 'mais.csv', content: 'nome;telefone1\nBeto;5548998288774\nBia;5521987654321\n' });
    const res = await stack.app.inject({
      method: 'POST',
      url: `/v1/contact-groups/${groupId}/imports`,
      headers: { ...bearer(tenant.supervisorKey), ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode).toBe(202);
    expect(await waitImport(res.json().id)).toMatchObject({ rowsRead: 2, rowsImported: 1, rowsRejected: 1 });
    expect((await get(`/v1/contact-groups/${groupId}`)).json().contactCount).toBe(4);
  });

  it('searches contacts by name ignoring accents and by phone', async () => {
    const byName = (await get(`/v1/contact-groups/${groupId}/contacts?search=conceicao`)).json().items;
    expect(byName.map((c: { name: string }) => c.name)).toEqual(['Conceição']);
    const byPhone = (await get(`/v1/contact-groups/${groupId}/contacts?search=${encodeURIComponent('(21) 98765')}`)).json().items;
    expect(byPhone.map((c: { name: string }) => c.name)).toEqual(['Bia']);
  });

  it('with phonePolicy drop_invalid keeps a row with its valid phones', async () => {
    const res = await upload('Tolerante', 'nome;telefone1;telefone2\nLia;5548998281111;123\nRui;999;\n', { phonePolicy: 'drop_invalid' });
    expect(res.statusCode).toBe(202);
    expect(await waitImport(res.json().import.id)).toMatchObject({ rowsImported: 1, rowsRejected: 1 });
    const contacts = (await get(`/v1/contact-groups/${res.json().group.id}/contacts`)).json().items;
    expect(contacts).toEqual([expect.objectContaining({ name: 'Lia', phones: ['5548998281111'] })]);
  });
});

describe('problems with the file as a whole', () => {
  const cases: [string, Buffer | string, number, string][] = [
    ['empty', '', 422, 'FILE_EMPTY'],
    ['comma separated', 'nome,telefone1\nJoão,5548998288774\n', 422, 'WRONG_SEPARATOR'],
    ['tab separated', 'nome\ttelefone1\nJoão\t5548998288774\n', 422, 'WRONG_SEPARATOR'],
    ['binary', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 1, 2, 3, 0, 0, 9, 9]), 422, 'FILE_BINARY'],
    ['no nome column', 'cliente;telefone1\nJoão;5548998288774\n', 422, 'NAME_COLUMN_MISSING'],
    ['over the size limit', 'nome;telefone1\n' + 'João;5548998288774\n'.repeat(12_000), 413, 'FILE_TOO_LARGE'],
  ];
  it.each(cases)('%s: answered at once, nothing created', async (label, content, status, code) => {
    const before = await stack.database.db
      .selectFrom('uploads')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const res = await upload(`Arquivo ruim ${label}`, content);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.json().code).toBe(code);
    const groups = await stack.database.db.selectFrom('contact_groups').select('id').where('name', '=', `Arquivo ruim ${label}`).execute();
    expect(groups).toEqual([]);
    const after = await stack.database.db
      .selectFrom('uploads')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('says "use ;" for a comma-separated header', async () => {
    const res = await upload('Virgulas', 'nome,telefone1\n');
    expect(res.json().detail).toMatch(/;/);
  });

  it('lists missing form fields', async () => {
    const form = multipart({ kind: 'robot' }, { filename: 'a.csv', content: 'nome;telefone1\nAna;5548998288774\n' });
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/contact-groups',
      headers: { ...bearer(tenant.supervisorKey), ...form.headers },
      payload: form.payload,
    });
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['kind', 'name']);
  });
});

describe('managing groups', () => {
  it('refuses a second group with the same name and kind (ignoring case and accents), allows it for the other kind', async () => {
    const file = 'nome;telefone1\nZé;5548998280000\n';
    expect((await upload('Cobrança Junho', file)).statusCode).toBe(202);
    const again = await upload('cobranca junho', file);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('GROUP_NAME_TAKEN');
    expect((await upload('Cobrança Junho', file, { kind: 'broadcast' })).statusCode).toBe(202);
  });

  it('never renames a group', async () => {
    const group = (await get('/v1/contact-groups?name=cobranca&kind=dialer')).json().items[0];
    const res = await stack.app.inject({
      method: 'PATCH',
      url: `/v1/contact-groups/${group.id}`,
      headers: bearer(tenant.supervisorKey),
      payload: { name: 'Outro nome' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('GROUP_NAME_IMMUTABLE');
  });

  it('filters by name, kind and status, and (de)activates in a batch with a result per id', async () => {
    const list = (await get('/v1/contact-groups?name=COBRANÇA')).json().items;
    expect(list.map((g: { kind: string }) => g.kind).sort()).toEqual(['broadcast', 'dialer']);
    const ids = list.map((g: { id: string }) => g.id);
    const foreign = (await upload('Deles', 'nome;telefone1\nA;5548998280001\n', {}, other.supervisorKey)).json().group.id;
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/contact-groups/batch-status',
      headers: bearer(tenant.supervisorKey),
      payload: { ids: [...ids, foreign], status: 'inactive' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().results).toEqual([
      { id: ids[0], ok: true, status: 'inactive' },
      { id: ids[1], ok: true, status: 'inactive' },
      { id: foreign, ok: false, code: 'CONTACT_GROUP_NOT_FOUND', detail: expect.any(String) },
    ]);
    const inactive = (await get('/v1/contact-groups?status=inactive')).json().items.map((g: { id: string }) => g.id);
    expect(inactive.sort()).toEqual([...ids].sort());
    expect((await get(`/v1/contact-groups/${foreign}`)).statusCode).toBe(404);
    expect((await get(`/v1/contact-groups/${foreign}`, other.viewerKey)).json().status).toBe('active');
  });

  it('tells clearly why a group linked to a campaign cannot be edited', async () => {
    const created = (await upload('Vinculado', 'nome;telefone1\nA;5548998280002\nB;5548998280003\n')).json();
    await waitImport(created.import.id);
    const campaignId = '00000000-0000-4000-8000-000000000001';
    await stack.database.db
      .updateTable('contact_groups')
      .set({ campaign_id: campaignId, campaign_name: 'Campanha Natal', linked_at: new Date() })
      .where('id', '=', created.group.id)
      .execute();
    const group = (await get(`/v1/contact-groups/${created.group.id}`)).json();
    expect(group).toMatchObject({ locked: true, campaign: { id: campaignId, name: 'Campanha Natal' } });
    expect((await get(`/v1/contact-groups?campaignId=${campaignId}`)).json().items.map((g: { id: string }) => g.id)).toEqual([created.group.id]);

    const contacts = (await get(`/v1/contact-groups/${created.group.id}/contacts`)).json().items;
    const form = multipart({}, { filename: 'x.csv', content: 'nome;telefone1\nC;5548998280004\n' });
    const attempts = [
      await stack.app.inject({
        method: 'POST',
        url: `/v1/contact-groups/${created.group.id}/imports`,
        headers: { ...bearer(tenant.supervisorKey), ...form.headers },
        payload: form.payload,
      }),
      await stack.app.inject({
        method: 'POST',
        url: `/v1/contact-groups/${created.group.id}/contacts/remove`,
        headers: bearer(tenant.supervisorKey),
        payload: { contactIds: [contacts[0].id] },
      }),
      await stack.app.inject({
        method: 'PATCH',
        url: `/v1/contact-groups/${created.group.id}/contacts/${contacts[0].id}`,
        headers: bearer(tenant.supervisorKey),
        payload: { name: 'Novo' },
      }),
    ];
    for (const res of attempts) {
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'GROUP_LOCKED', campaign: { name: 'Campanha Natal' } });
      expect(res.json().detail).toContain('Campanha Natal');
    }
  });

  it('removes and corrects contacts of an unlinked group', async () => {
    const created = (await upload('Editavel', 'nome;telefone1\nA;5548998280010\nB;5548998280011\n')).json();
    await waitImport(created.import.id);
    const [a, b] = (await get(`/v1/contact-groups/${created.group.id}/contacts`)).json().items;
    const edit = await stack.app.inject({
      method: 'PATCH',
      url: `/v1/contact-groups/${created.group.id}/contacts/${a.id}`,
      headers: bearer(tenant.supervisorKey),
      payload: { name: 'Alice', phones: ['+55 (48) 99828-0012'] },
    });
    expect(edit.statusCode).toBe(200);
    expect(edit.json()).toMatchObject({ name: 'Alice', phones: ['5548998280012'] });
    const clash = await stack.app.inject({
      method: 'PATCH',
      url: `/v1/contact-groups/${created.group.id}/contacts/${a.id}`,
      headers: bearer(tenant.supervisorKey),
      payload: { phones: ['5548998280011'] },
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().code).toBe('PHONE_IN_GROUP');
    const bad = await stack.app.inject({
      method: 'PATCH',
      url: `/v1/contact-groups/${created.group.id}/contacts/${a.id}`,
      headers: bearer(tenant.supervisorKey),
      payload: { phones: ['12345'] },
    });
    expect(bad.statusCode).toBe(422);
    const removed = await stack.app.inject({
      method: 'POST',
      url: `/v1/contact-groups/${created.group.id}/contacts/remove`,
      headers: bearer(tenant.supervisorKey),
      payload: { contactIds: [b.id, '999999999'] },
    });
    expect(removed.json()).toEqual({ removed: 1, notFound: ['999999999'] });
    expect((await get(`/v1/contact-groups/${created.group.id}`)).json().contactCount).toBe(1);
  });

  it('after removing and correcting contacts, a new import sees the freed and the new phones', async () => {
    const created = (await upload('Revisada', 'nome;telefone1\nA;5548998281020\nB;5548998281021\n')).json();
    await waitImport(created.import.id);
    const [a, b] = (await get(`/v1/contact-groups/${created.group.id}/contacts`)).json().items;
    await stack.app.inject({
      method: 'PATCH',
      url: `/v1/contact-groups/${created.group.id}/contacts/${a.id}`,
      headers: bearer(tenant.supervisorKey),
      payload: { phones: ['5548998281022'] },
    });
    await stack.app.inject({
      method: 'POST',
      url: `/v1/contact-groups/${created.group.id}/contacts/remove`,
      headers: bearer(tenant.supervisorKey),
      payload: { contactIds: [b.id] },
    });
    // 1020 and 1021 are free again; 1022 is A's now.
    const form = multipart({}, { filename: 'volta.csv', content: 'nome;telefone1\nC;5548998281020\nD;5548998281021\nE;5548998281022\n' });
    const res = await stack.app.inject({
      method: 'POST',
      url: `/v1/contact-groups/${created.group.id}/imports`,
      headers: { ...bearer(tenant.supervisorKey), ...form.headers },
      payload: form.payload,
    });
    expect(await waitImport(res.json().id)).toMatchObject({ rowsImported: 2, rowsRejected: 1 });
    const rejected = (await get(`/v1/imports/${res.json().id}/rejections`)).json().items;
    expect(rejected).toEqual([expect.objectContaining({ line: 4, reasons: [expect.objectContaining({ code: 'DUPLICATE' })] })]);
  });

  it('refuses a second append while one is running into the group, and counts every row of the one that ran', async () => {
    const rows = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `P${from + i};55489982${String(from + i).padStart(5, '0')}`);
    const created = (await upload('Concorrida', ['nome;telefone1', ...rows(1, 100)].join('\n'))).json();
    await waitImport(created.import.id);
    const appends = await Promise.all(
      [rows(50, 200), rows(150, 300)].map((lines, i) => {
        const form = multipart({}, { filename: `parte${i}.csv`, content: ['nome;telefone1', ...lines].join('\n') });
        return stack.app.inject({
          method: 'POST',
          url: `/v1/contact-groups/${created.group.id}/imports`,
          headers: { ...bearer(tenant.supervisorKey), ...form.headers },
          payload: form.payload,
        });
      }),
    );
    const accepted = appends.filter((res) => res.statusCode === 202);
    const refused = appends.filter((res) => res.statusCode === 409);
    expect([accepted.length, refused.length]).toEqual([1, 1]);
    expect(refused[0].json()).toMatchObject({ code: 'IMPORT_IN_PROGRESS', importId: accepted[0].json().id });
    const result = await waitImport(accepted[0].json().id);
    expect(result.rowsImported + result.rowsRejected).toBe(151);
    const phones = await stack.database.db
      .selectFrom('contacts')
      .select([sql<number>`count(*)::int`.as('n'), sql<number>`count(DISTINCT phones[1])::int`.as('distinct')])
      .where('group_id', '=', created.group.id)
      .executeTakeFirstOrThrow();
    expect(phones).toEqual({ n: 100 + result.rowsImported, distinct: 100 + result.rowsImported });
  });

  it('downloads the CSV model', async () => {
    const res = await get('/v1/contact-groups/template.csv');
    expect(res.statusCode).toBe(200);
    const [header, example] = res.body.replace(/^\uFEFF/, '').split('\r\n');
    expect(header).toBe(['nome', ...Array.from({ length: 10 }, (_, i) => `telefone${i + 1}`), 'email', 'documento'].join(';'));
    expect(example).toContain('554734322422');
  });
});

describe('an import that can never be stored', () => {
  it('fails at once with the reason instead of retrying the same batch', async () => {
    const db = stack.database.db;
    async function* file() {
      yield Buffer.from('nome;telefone1\nA;5548998289001\nB;5548998289002\n');
    }
    const upload = await storeUpload(stack.database, { tenantId: tenant.tenantId, fileName: 'x.csv', createdBy: null, source: file(), maxBytes: 1e6 });
    const group = await db
      .insertInto('contact_groups')
      .values({ tenant_id: tenant.tenantId, kind: 'dialer', name: 'Impossível', name_key: 'impossivel', source: 'csv' })
      .returningAll()
      .executeTakeFirstOrThrow();
    const row = await db
      .insertInto('imports')
      .values({ tenant_id: tenant.tenantId, target: 'contact_group', group_id: group.id, upload_id: upload.uploadId, file_name: 'x.csv', status: 'pending' })
      .returningAll()
      .executeTakeFirstOrThrow();
    // The table refuses this group's contacts (a check violation): every retry would fail the same way.
    await sql`ALTER TABLE contacts ADD CONSTRAINT refuses_impossivel CHECK (group_id <> ${sql.lit(group.id)}) NOT VALID`.execute(db);
    await startImportWorkflow({ temporal: stack.temporal, config: stack.config, db }, row);
    const result = await waitImport(row.id).finally(() => sql`ALTER TABLE contacts DROP CONSTRAINT refuses_impossivel`.execute(db));
    expect(result).toMatchObject({ state: 'failed', error: expect.stringContaining('Line 2 onwards could not be stored') });
    const stored = await db.selectFrom('imports').select(['status', 'error', 'rows_imported']).where('id', '=', row.id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ status: 'failed', rows_imported: 0 });
    const history = await stack.temporal.workflow.getHandle(importWorkflowId(row.id)).fetchHistory();
    const attempts = history.events?.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes?.attempt);
    expect(attempts).toEqual([1, 1]);
  });
});
