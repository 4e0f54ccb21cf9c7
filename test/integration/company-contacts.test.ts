import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importWorkflowId } from '../../src/workflows/imports/messages';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { multipart } from '../helpers/multipart';

let stack: TestStack;
let tenant: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  stack = await createTestStack({ name: 'company-contacts', withWorker: true });
  tenant = await stack.createTenant('Call Center Norte');
  other = await stack.createTenant('Outra Empresa');
});
afterAll(() => stack.close());

/** A fresh valid mobile for every call: tests never share phones by accident. */
let phoneSeq = 10_000_000;
const mobile = () => `55119${++phoneSeq}`;

type Json = Record<string, any>;

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Json, key = tenant.supervisorKey) =>
  stack.app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
const get = (url: string, key = tenant.viewerKey) => api('GET', url, undefined, key);
const create = (body: Json, key = tenant.supervisorKey) => api('POST', '/v1/company-contacts', body, key);
const patch = (id: string, body: Json, key = tenant.supervisorKey) => api('PATCH', `/v1/company-contacts/${id}`, body, key);
const names = (res: { json(): any }) => res.json().items.map((c: { name: string }) => c.name);

async function optOuts(query: string, key = tenant.viewerKey) {
  const res = await get(`/v1/opt-outs?${query}`, key);
  expect(res.statusCode).toBe(200);
  return res
    .json()
    .items.map((o: Json) => `${o.channel}:${o.phone}:${o.source}`)
    .sort();
}

async function importFile(content: Buffer | string, key = tenant.supervisorKey, fields: Record<string, string> = {}) {
  const form = multipart(fields, { filename: 'contatos-omni.csv', content });
  return stack.app.inject({ method: 'POST', url: '/v1/company-contacts/imports', headers: { ...bearer(key), ...form.headers }, payload: form.payload });
}
const waitImport = (id: string) => stack.temporal.workflow.getHandle(importWorkflowId(id)).result();

describe('create, read, update, delete', () => {
  it('creates with normalised phones, reads it back, changes it and deletes it, each audited', async () => {
    const phone = mobile();
    const res = await create({
      name: 'João da Silva',
      phones: [`+${phone.slice(0, 2)} (${phone.slice(2, 4)}) ${phone.slice(4, 9)}-${phone.slice(9)}`, '554734322422', phone],
      email: 'joao@exemplo.com.br',
      document: '123.456.789-00',
      custom: { Cidade: 'Florianópolis', Plano: 'Ouro' },
    });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(res.headers.location).toBe(`/v1/company-contacts/${created.id}`);
    expect(created).toMatchObject({
      name: 'João da Silva',
      phones: [phone, '554734322422'],
      email: 'joao@exemplo.com.br',
      document: '123.456.789-00',
      custom: { Cidade: 'Florianópolis', Plano: 'Ouro' },
      optOutVoice: false,
      optOutWhatsapp: false,
      importId: null,
    });

    expect((await get(`/v1/company-contacts/${created.id}`)).json()).toEqual(created);

    const changed = await patch(created.id, { name: 'João Silva', email: null, custom: { Cidade: 'Joinville' } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({
      name: 'João Silva',
      email: null,
      document: '123.456.789-00',
      custom: { Cidade: 'Joinville' },
      phones: created.phones,
    });
    expect(new Date(changed.json().updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(created.updatedAt).getTime());

    const deleted = await api('DELETE', `/v1/company-contacts/${created.id}`);
    expect(deleted.statusCode).toBe(204);
    const gone = await get(`/v1/company-contacts/${created.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().code).toBe('COMPANY_CONTACT_NOT_FOUND');
    expect((await api('DELETE', `/v1/company-contacts/${created.id}`)).statusCode).toBe(404);

    const actions = await stack.database.db.selectFrom('audit_log').select('action').where('target_id', '=', created.id).orderBy('id').execute();
    expect(actions.map((a) => a.action)).toEqual(['company_contact.create', 'company_contact.update', 'company_contact.delete']);
  });

  it('answers 422 PHONE_INVALID listing each bad phone, and creates nothing', async () => {
    const res = await create({ name: 'Ana', phones: [mobile(), '123', '5520998288777', '48998288774'] });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    const body = res.json();
    expect(body.code).toBe('PHONE_INVALID');
    expect(body.errors.map((e: Json) => [e.field, e.value, e.why])).toEqual([
      ['phones.1', '123', 'LENGTH'],
      ['phones.2', '5520998288777', 'DDD'],
      ['phones.3', '48998288774', 'DDI'],
    ]);
    expect(names(await get('/v1/company-contacts?name=ana'))).toEqual([]);

    const patched = await create({ name: 'Bruna', phones: [mobile()] });
    const bad = await patch(patched.json().id, { phones: ['5548898288774'] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([expect.objectContaining({ field: 'phones.0', why: 'NINTH_DIGIT' })]);
  });

  it('answers 400 for missing names, more than 10 phones, no phone or an unknown field', async () => {
    const phones = Array.from({ length: 11 }, mobile);
    for (const body of [{ phones: [mobile()] }, { name: 'Onze', phones }, { name: 'Nenhum', phones: [] }, { name: 'X', phones: [mobile()], optOut: true }]) {
      const res = await create(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    expect((await create({ name: 'Dez', phones: phones.slice(0, 10) })).statusCode).toBe(201);
  });

  it('answers 409 PHONE_IN_USE when another company contact has the phone, on create and on update', async () => {
    const [p1, p2] = [mobile(), mobile()];
    const first = (await create({ name: 'Primeiro', phones: [p1] })).json();
    const clash = await create({ name: 'Segundo', phones: [p2, `+${p1}`] });
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ code: 'PHONE_IN_USE', phones: [{ phone: p1, contactId: first.id }] });
    expect(names(await get('/v1/company-contacts?name=segundo'))).toEqual([]);

    const second = (await create({ name: 'Segundo', phones: [p2] })).json();
    const update = await patch(second.id, { phones: [p2, p1] });
    expect(update.statusCode).toBe(409);
    expect(update.json().code).toBe('PHONE_IN_USE');
    // Its own phones are not a clash.
    expect((await patch(first.id, { phones: [p1, mobile()] })).statusCode).toBe(200);
  });

  it('lets only one of two simultaneous creates with the same phone through', async () => {
    const phone = mobile();
    const results = await Promise.all([create({ name: 'Corrida A', phones: [phone] }), create({ name: 'Corrida B', phones: [mobile(), phone] })]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    expect(names(await get(`/v1/company-contacts?phone=${phone}`))).toHaveLength(1);
  });

  it('refuses a viewer key (403) and ids of another tenant (404)', async () => {
    expect((await create({ name: 'Leitor', phones: [mobile()] }, tenant.viewerKey)).statusCode).toBe(403);
    const phone = mobile();
    const theirs = (await create({ name: 'Contato Alheio', phones: [phone], optOutWhatsapp: true }, other.supervisorKey)).json();
    for (const res of [
      await get(`/v1/company-contacts/${theirs.id}`),
      await patch(theirs.id, { name: 'Roubado' }),
      await api('DELETE', `/v1/company-contacts/${theirs.id}`),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('COMPANY_CONTACT_NOT_FOUND');
    }
    expect(names(await get('/v1/company-contacts?name=alheio'))).toEqual([]);
    expect(await optOuts(`phone=${phone}`)).toEqual([]);
    // The same phone is free in this tenant.
    expect((await create({ name: 'Nosso', phones: [phone] })).statusCode).toBe(201);
    expect((await get(`/v1/company-contacts/${theirs.id}`, other.viewerKey)).json().name).toBe('Contato Alheio');
  });
});

describe('search', () => {
  let t: TestTenant;
  const phones = { maria: '5548998200001', jose: '5521987600002', ana: '551133330003' };

  beforeAll(async () => {
    t = await stack.createTenant('Busca');
    for (const body of [
      { name: 'Maria Conceição', phones: [phones.maria], email: 'Maria@Exemplo.com', document: '111' },
      { name: 'José Conceicao Filho', phones: [phones.jose], document: '222', optOutVoice: true },
      { name: 'Ana 100%_certa', phones: [phones.ana], optOutWhatsapp: true },
    ]) {
      expect((await create(body, t.supervisorKey)).statusCode).toBe(201);
    }
  });
  const find = async (query: string) => {
    const res = await get(`/v1/company-contacts?${query}`, t.viewerKey);
    expect(res.statusCode).toBe(200);
    return names(res).sort();
  };

  it('finds by name containing the text, ignoring case and accents, with LIKE characters taken literally', async () => {
    expect(await find('name=CONCEIÇÃO')).toEqual(['José Conceicao Filho', 'Maria Conceição']);
    expect(await find('name=jose')).toEqual(['José Conceicao Filho']);
    expect(await find(`name=${encodeURIComponent('100%_')}`)).toEqual(['Ana 100%_certa']);
    expect(await find(`name=${encodeURIComponent('%')}`)).toEqual(['Ana 100%_certa']);
  });

  it('finds by the beginning of a phone, with or without 55 and formatting', async () => {
    expect(await find('phone=5548998')).toEqual(['Maria Conceição']);
    expect(await find(`phone=${encodeURIComponent('(48) 9982')}`)).toEqual(['Maria Conceição']);
    expect(await find('phone=2198')).toEqual(['José Conceicao Filho']);
    expect(await find('phone=55')).toEqual(['Ana 100%_certa', 'José Conceicao Filho', 'Maria Conceição']);
    expect(await find('phone=1199')).toEqual([]);
    expect((await get('/v1/company-contacts?phone=abc', t.viewerKey)).statusCode).toBe(400);
  });

  it('finds by exact e-mail (ignoring case) and exact document', async () => {
    expect(await find('email=maria@exemplo.com')).toEqual(['Maria Conceição']);
    expect(await find('email=maria@exemplo')).toEqual([]);
    expect(await find('document=222')).toEqual(['José Conceicao Filho']);
    expect(await find('document=22')).toEqual([]);
  });

  it('filters by opt-out per channel', async () => {
    expect(await find('optOutVoice=true')).toEqual(['José Conceicao Filho']);
    expect(await find('optOutWhatsapp=true')).toEqual(['Ana 100%_certa']);
    expect(await find('optOutVoice=false&optOutWhatsapp=false')).toEqual(['Maria Conceição']);
  });

  it('pages by name with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/company-contacts?sort=name&limit=2${cursor ? `&cursor=${cursor}` : ''}`, t.viewerKey);
      seen.push(...names(res));
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(seen).toEqual(['Ana 100%_certa', 'José Conceicao Filho', 'Maria Conceição']);
  });
});

describe('opt-outs follow the contact (phone_opt_outs, source company_contact)', () => {
  it('adds a row per phone and channel, moves them with the phones, clears them, and keeps them after the contact is deleted', async () => {
    const [a, b, c] = [mobile(), mobile(), mobile()];
    const contact = (await create({ name: 'Optante', phones: [a, b], optOutWhatsapp: true })).json();
    expect(await optOuts(`phone=${a}`)).toEqual([`whatsapp:${a}:company_contact`]);
    expect(await optOuts(`phone=${b.slice(2)}`)).toEqual([`whatsapp:${b}:company_contact`]);
    expect(await optOuts(`channel=voice&phone=${a}`)).toEqual([]);

    // A WhatsApp "SAIR" reply for the same phone is another source and must survive every change.
    await stack.database.db
      .insertInto('phone_opt_outs')
      .values({ tenant_id: tenant.tenantId, channel: 'whatsapp', phone: a, source: 'whatsapp_reply', reason: 'SAIR' })
      .execute();

    expect((await patch(contact.id, { phones: [b, c], optOutVoice: true })).statusCode).toBe(200);
    expect(await optOuts(`phone=${a}`)).toEqual([`whatsapp:${a}:whatsapp_reply`]);
    expect(await optOuts(`phone=${b}`)).toEqual([`voice:${b}:company_contact`, `whatsapp:${b}:company_contact`]);
    expect(await optOuts(`phone=${c}`)).toEqual([`voice:${c}:company_contact`, `whatsapp:${c}:company_contact`]);

    const cleared = await patch(contact.id, { optOutWhatsapp: false });
    expect(cleared.json()).toMatchObject({ optOutVoice: true, optOutWhatsapp: false });
    expect(await optOuts(`channel=whatsapp&phone=${b}`)).toEqual([]);
    expect(await optOuts(`channel=voice&phone=${b}`)).toEqual([`voice:${b}:company_contact`]);

    // A change that touches neither phones nor flags leaves the rows (and their dates) alone.
    const before = (await get(`/v1/opt-outs?phone=${c}`)).json().items;
    expect((await patch(contact.id, { name: 'Optante Silva' })).statusCode).toBe(200);
    expect((await get(`/v1/opt-outs?phone=${c}`)).json().items).toEqual(before);

    expect((await api('DELETE', `/v1/company-contacts/${contact.id}`)).statusCode).toBe(204);
    // A revoked consent outlives the contact record (LGPD).
    expect(await optOuts(`phone=${b}`)).toEqual([`voice:${b}:company_contact`]);
    expect(await optOuts(`phone=${c}`)).toEqual([`voice:${c}:company_contact`]);
    expect(await optOuts(`phone=${a}`)).toEqual([`whatsapp:${a}:whatsapp_reply`]);

    const audited = await stack.database.db.selectFrom('audit_log').select(['action', 'summary']).where('target_id', '=', contact.id).orderBy('id').execute();
    expect(audited[1].summary).toContain('opt-out: voz e WhatsApp');
  });

  it("lists the tenant's opt-outs newest first, by channel, paged", async () => {
    const t = await stack.createTenant('Lista Opt-out');
    await create({ name: 'V', phones: ['5548998201001', '5548998201002'], optOutVoice: true }, t.supervisorKey);
    await create({ name: 'W', phones: ['5548998201003'], optOutWhatsapp: true }, t.supervisorKey);
    const page1 = (await get('/v1/opt-outs?limit=2', t.viewerKey)).json();
    expect(page1.items[0]).toMatchObject({
      channel: 'whatsapp',
      phone: '5548998201003',
      source: 'company_contact',
      reason: expect.stringContaining('Contato Omni'),
    });
    const page2 = (await get(`/v1/opt-outs?limit=2&cursor=${page1.nextCursor}`, t.viewerKey)).json();
    expect([...page1.items, ...page2.items].map((o: Json) => o.phone).sort()).toEqual(['5548998201001', '5548998201002', '5548998201003']);
    expect(page2.nextCursor).toBeNull();
    expect(await optOuts('channel=voice', t.viewerKey)).toEqual(['voice:5548998201001:company_contact', 'voice:5548998201002:company_contact']);
    expect((await get('/v1/opt-outs?phone=12', t.viewerKey)).statusCode).toBe(400);
  });
});

describe('bulk import', () => {
  let t: TestTenant;
  let importId: string;
  const existing = '5548998300001';
  /** Windows-1252 with CRLF, as Excel writes it. */
  const file = iconv.encode(
    [
      'Nome;Telefone1;Telefone2;Email;Documento;Plano',
      'Ana;5548998300001;;;;', // 2: phone of an existing contact
      'Bia;5548998300002;5548998300001;;;', // 3: one phone in use is enough
      'Caio;5548998300003;;caio@x.com;999;Ouro', // 4: ok
      'Caio de novo;5548998300003;;;;', // 5: same phone as line 4
      'Duda;123;;;;', // 6: invalid phone
      ';5548998300006;;;;', // 7: no name
      'Édson Conceição;(48) 9983-0007;554734300007;;;Prata', // 8: telefone1 a mobile without its ninth digit: invalid
      'Fábio;5548998300008;554734300008;;;Prata', // 9: ok, two phones
    ].join('\r\n') + '\r\n',
    'win1252',
  );

  beforeAll(async () => {
    t = await stack.createTenant('Importa');
    expect((await create({ name: 'Já existe', phones: [existing] }, t.supervisorKey)).statusCode).toBe(201);
  });

  it('answers 202 with the import and writes exactly the valid, new rows', async () => {
    const res = await importFile(file, t.supervisorKey);
    expect(res.statusCode).toBe(202);
    importId = res.json().id;
    expect(res.json()).toMatchObject({ target: 'company_contacts', groupId: null, status: 'pending', fileName: 'contatos-omni.csv' });
    expect(res.headers.location).toBe(`/v1/imports/${importId}`);
    expect(await waitImport(importId)).toMatchObject({ state: 'completed', rowsRead: 8, rowsImported: 2, rowsRejected: 6 });

    const contacts = (await get('/v1/company-contacts?sort=name', t.viewerKey)).json().items;
    expect(contacts.map((c: Json) => c.name)).toEqual(['Caio', 'Fábio', 'Já existe']);
    expect(contacts[0]).toMatchObject({
      phones: ['5548998300003'],
      email: 'caio@x.com',
      document: '999',
      custom: { Plano: 'Ouro' },
      importId,
      line: 4,
      optOutVoice: false,
    });
  });

  it('keeps each rejected row with its reasons; DUPLICATE names the phones in use', async () => {
    const rejections = (await get(`/v1/imports/${importId}/rejections`, t.viewerKey)).json().items;
    expect(Object.fromEntries(rejections.map((r: Json) => [r.line, r.reasons.map((x: Json) => x.code)]))).toEqual({
      2: ['DUPLICATE'],
      3: ['DUPLICATE'],
      5: ['DUPLICATE'],
      6: ['PHONE_INVALID'],
      7: ['NAME_MISSING'],
      8: ['PHONE_INVALID'],
    });
    const byLine = new Map(rejections.map((r: Json) => [r.line, r]));
    expect((byLine.get(3) as Json).reasons[0]).toMatchObject({ phones: [existing], message: expect.stringContaining('contato Omni') });
    expect((byLine.get(5) as Json).reasons[0].phones).toEqual(['5548998300003']);
    expect((byLine.get(8) as Json).raw).toBe('Édson Conceição;(48) 9983-0007;554734300007;;;Prata');
  });

  it('with phonePolicy drop_invalid keeps a row with its valid phones; importing again only finds duplicates', async () => {
    const tolerant = await importFile(file, t.supervisorKey, { phonePolicy: 'drop_invalid' });
    expect(tolerant.statusCode).toBe(202);
    expect(await waitImport(tolerant.json().id)).toMatchObject({ rowsRead: 8, rowsImported: 1, rowsRejected: 7 });
    const edson = (await get('/v1/company-contacts?name=edson', t.viewerKey)).json().items;
    expect(edson).toEqual([expect.objectContaining({ name: 'Édson Conceição', phones: ['554734300007'], custom: { Plano: 'Prata' } })]);

    const again = await importFile(file, t.supervisorKey, { phonePolicy: 'drop_invalid' });
    expect(await waitImport(again.json().id)).toMatchObject({ rowsRead: 8, rowsImported: 0, rowsRejected: 8 });
  });

  it('an imported phone then counts for the API too (409), and the tenant next door is not affected', async () => {
    const clash = await create({ name: 'Outro Caio', phones: ['5548998300003'] }, t.supervisorKey);
    expect(clash.statusCode).toBe(409);
    expect(clash.json().code).toBe('PHONE_IN_USE');

    const theirs = await importFile(file, other.supervisorKey);
    // There line 2 is new, so line 3 (sharing its phone) is the duplicate.
    expect(await waitImport(theirs.json().id)).toMatchObject({ rowsImported: 3, rowsRejected: 5 });
  });

  it("lists the company contact import history, newest first, only this tenant's", async () => {
    const history = (await get('/v1/company-contacts/imports', t.viewerKey)).json().items;
    expect(history).toHaveLength(3);
    expect(history[2]).toMatchObject({
      id: importId,
      target: 'company_contacts',
      status: 'completed',
      rowsImported: 2,
      createdBy: expect.stringContaining('supervisor'),
    });
    expect(history.every((i: Json) => i.target === 'company_contacts')).toBe(true);
    const theirs = (await get('/v1/company-contacts/imports', other.viewerKey)).json().items;
    expect(theirs).toHaveLength(1);
  });

  it('answers file problems at once (422) and a missing file with 400, creating no import', async () => {
    const comma = await importFile('nome,telefone1\nJoão,5548998288774\n', t.supervisorKey);
    expect(comma.statusCode).toBe(422);
    expect(comma.json().code).toBe('WRONG_SEPARATOR');
    const form = multipart({ phonePolicy: 'drop_invalid' });
    const noFile = await stack.app.inject({
      method: 'POST',
      url: '/v1/company-contacts/imports',
      headers: { ...bearer(t.supervisorKey), ...form.headers },
      payload: form.payload,
    });
    expect(noFile.statusCode).toBe(400);
    expect(noFile.json().code).toBe('FILE_MISSING');
    const badPolicy = await importFile('nome;telefone1\nA;5548998288774\n', t.supervisorKey, { phonePolicy: 'whatever' });
    expect(badPolicy.statusCode).toBe(400);
    expect((await get('/v1/company-contacts/imports', t.viewerKey)).json().items).toHaveLength(3);
  });
});

describe('a broadcast group from the company contacts ("Utilizar contatos Omni")', () => {
  it('is a snapshot: later edits and deletions of company contacts do not change it', async () => {
    const t = await stack.createTenant('Snapshot');
    const ids: string[] = [];
    for (const [name, phone] of [
      ['Alice', '5548998400001'],
      ['Bruno', '5548998400002'],
      ['Carla', '5548998400003'],
    ]) {
      ids.push((await create({ name, phones: [phone], custom: { Plano: 'Ouro' } }, t.supervisorKey)).json().id);
    }
    const res = await api('POST', '/v1/contact-groups/from-company-contacts', { name: 'Todos os contatos' }, t.supervisorKey);
    expect(res.statusCode).toBe(201);
    const group = res.json();
    expect(group).toMatchObject({ kind: 'broadcast', source: 'company_contacts', contactCount: 3 });

    expect((await patch(ids[0], { name: 'Alice Nova', phones: ['5548998400009'] }, t.supervisorKey)).statusCode).toBe(200);
    expect((await api('DELETE', `/v1/company-contacts/${ids[1]}`, undefined, t.supervisorKey)).statusCode).toBe(204);
    expect((await create({ name: 'Depois', phones: ['5548998400004'] }, t.supervisorKey)).statusCode).toBe(201);

    const members = (await get(`/v1/contact-groups/${group.id}/contacts`, t.viewerKey)).json().items;
    expect(members.map((c: Json) => [c.name, c.phones, c.custom]).sort()).toEqual([
      ['Alice', ['5548998400001'], { Plano: 'Ouro' }],
      ['Bruno', ['5548998400002'], { Plano: 'Ouro' }],
      ['Carla', ['5548998400003'], { Plano: 'Ouro' }],
    ]);
    expect((await get(`/v1/contact-groups/${group.id}`, t.viewerKey)).json().contactCount).toBe(3);
  });
});

describe('OpenAPI', () => {
  it('documents the company contact and opt-out routes', async () => {
    const doc = await stack.app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    const openapi = doc.json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/company-contacts', '/v1/company-contacts/{id}', '/v1/company-contacts/imports', '/v1/opt-outs']),
    );
    expect(openapi.components.schemas.CompanyContact).toBeDefined();
    const search = openapi.paths['/v1/company-contacts'].get.parameters.map((p: { name: string }) => p.name);
    expect(search).toEqual(expect.arrayContaining(['name', 'phone', 'email', 'document', 'optOutVoice', 'optOutWhatsapp']));
  });
});
