import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isOptOutReply } from '../../src/domain/whatsapp-error-policy';
import {
  createWhatsAppClient,
  templatePlaceholders,
  WhatsAppApiError,
  WhatsAppTransportError,
  type WhatsAppClient,
} from '../../src/integrations/whatsapp/client';
import type { SendTemplateRequest } from '../../src/integrations/whatsapp/types';
import { parseWebhook, SIGNATURE_HEADER, verifySignature, type InboundMessage, type StatusEvent } from '../../src/integrations/whatsapp/webhook';
import { startWhatsAppSimulator, type WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import type { TemplateInput } from '../../src/simulators/whatsapp/template-store';

const TOKEN = 'token-de-teste';
const SECRET = 'segredo-do-app';
const PHONE_ID = '106540352242922';
const WABA_ID = '102290129340398';

const templates: TemplateInput[] = [
  {
    name: 'lembrete_pagamento',
    language: 'pt_BR',
    status: 'APPROVED',
    category: 'UTILITY',
    components: [{ type: 'BODY', text: 'Olá, {{1}}! Sua fatura vence em {{2}}.' }],
  },
  {
    name: 'boas_vindas',
    language: 'pt_BR',
    status: 'APPROVED',
    category: 'MARKETING',
    parameter_format: 'NAMED',
    components: [{ type: 'BODY', text: 'Oi {{nome}}, bem-vindo à {{empresa}}! {{nome}}, conte conosco.' }],
  },
  { name: 'oferta', language: 'pt_BR', status: 'PENDING', components: [{ type: 'BODY', text: 'Oferta para {{1}}' }] },
  { name: 'pesquisa', language: 'pt_BR', status: 'PAUSED', components: [{ type: 'BODY', text: 'Nota?' }] },
  { name: 'antiga', language: 'pt_BR', status: 'DISABLED', components: [{ type: 'BODY', text: 'Antiga' }] },
];

/** A local webhook endpoint that records every POST and lets a test wait for a condition. */
class Receiver {
  readonly posts: { raw: Buffer; signature: string | undefined }[] = [];
  /** Status codes to answer, in order; 200 once exhausted. */
  answers: number[] = [];
  private readonly events = new EventEmitter();
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.posts.push({ raw: Buffer.concat(chunks), signature: request.headers[SIGNATURE_HEADER] as string | undefined });
        response.writeHead(this.answers.shift() ?? 200).end();
        this.events.emit('post');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/webhooks/whatsapp`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }

  clear(): void {
    this.posts.length = 0;
    this.answers = [];
  }

  statuses(): StatusEvent[] {
    return this.posts.flatMap((post) => parseWebhook(JSON.parse(post.raw.toString())).statuses);
  }

  inbound(): InboundMessage[] {
    return this.posts.flatMap((post) => parseWebhook(JSON.parse(post.raw.toString())).messages);
  }

  /** Resolves when `condition` holds after some POST; rejects at the deadline. */
  waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(deadline);
        this.events.off('post', check);
        resolve();
      };
      const deadline = setTimeout(() => {
        this.events.off('post', check);
        reject(new Error(`webhook condition not met within ${timeoutMs} ms (${this.posts.length} posts)`));
      }, timeoutMs);
      this.events.on('post', check);
    });
  }
}

let simulator: WhatsAppSimulator;
let client: WhatsAppClient;
const receiver = new Receiver();
/** The simulator's rate-limit clock: tests move it instead of waiting. */
let clock = 1_750_000_000_000;

function send(to: string, overrides: Partial<SendTemplateRequest> = {}) {
  return client.sendTemplate({
    phoneNumberId: PHONE_ID,
    to,
    templateName: 'lembrete_pagamento',
    language: 'pt_BR',
    bodyParameters: ['Maria', '10/08'],
    ...overrides,
  });
}

async function rawPost(path: string, body: unknown, token = TOKEN) {
  const response = await fetch(`${simulator.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function control(method: string, path: string, body?: unknown) {
  const response = await fetch(`${simulator.url}/_sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  await receiver.start();
  simulator = await startWhatsAppSimulator({
    port: 0,
    accessToken: TOKEN,
    appSecret: SECRET,
    webhookUrl: receiver.url,
    templates,
    config: { wabaId: WABA_ID },
    now: () => clock,
  });
  client = createWhatsAppClient({ baseUrl: simulator.url, accessToken: TOKEN, connections: 32 });
});

afterAll(async () => {
  await client?.close();
  await simulator?.stop();
  await receiver.stop();
});

beforeEach(() => {
  simulator.reset({ config: true, templates: true });
  receiver.clear();
});

afterEach(async () => {
  // Nothing of one test may arrive during the next.
  await simulator.webhooksIdle();
});

describe('messages endpoint', () => {
  it('answers the real success body, with wa_id and an accepted wamid', async () => {
    const { status, body } = await rawPost(`/v21.0/${PHONE_ID}/messages`, {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '5511987654321',
      type: 'template',
      template: {
        name: 'lembrete_pagamento',
        language: { code: 'pt_BR' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Ana' },
              { type: 'text', text: '05/09' },
            ],
          },
        ],
      },
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: '5511987654321', wa_id: '5511987654321' }],
      messages: [{ id: expect.stringMatching(/^wamid\./), message_status: 'accepted' }],
    });
  });

  it('is reached by the client, which returns the wamid and wa_id', async () => {
    const result = await send('5511987654321', { bizOpaqueCallbackData: 'send:1:contact:1' });
    expect(result).toEqual({ ok: true, wamid: expect.stringMatching(/^wamid\./), waId: '5511987654321', messageStatus: 'accepted' });
  });

  it('refuses a bad token with 401 and code 190', async () => {
    const other = createWhatsAppClient({ baseUrl: simulator.url, accessToken: 'expirado' });
    try {
      const result = await other.sendTemplate({ phoneNumberId: PHONE_ID, to: '5511987654321', templateName: 'lembrete_pagamento', language: 'pt_BR' });
      expect(result).toMatchObject({ ok: false, httpStatus: 401, code: 190, type: 'OAuthException' });
    } finally {
      await other.close();
    }
  });

  it('answers the real error body shape', async () => {
    const { status, body } = await rawPost(`/v21.0/${PHONE_ID}/messages`, {
      messaging_product: 'whatsapp',
      to: '5511987654321',
      type: 'template',
      template: { name: 'nao_existe', language: { code: 'pt_BR' } },
    });
    expect(status).toBe(404);
    expect(body).toEqual({
      error: {
        message: '(#132001) Template name does not exist in the translation',
        type: 'OAuthException',
        code: 132001,
        error_data: { messaging_product: 'whatsapp', details: expect.any(String) },
        fbtrace_id: expect.any(String),
      },
    });
  });

  it('checks the request shape', async () => {
    const base = {
      messaging_product: 'whatsapp',
      to: '5511987654321',
      type: 'template',
      template: { name: 'lembrete_pagamento', language: { code: 'pt_BR' } },
    };
    expect((await rawPost(`/v21.0/${PHONE_ID}/messages`, { ...base, messaging_product: undefined })).body.error.code).toBe(100);
    expect((await rawPost(`/v21.0/${PHONE_ID}/messages`, { ...base, to: 'abc' })).body.error.code).toBe(100);
    expect((await rawPost(`/v21.0/${PHONE_ID}/messages`, { ...base, type: 'text', text: { body: 'oi' } })).body.error.code).toBe(131047);
    expect((await rawPost(`/v21.0/${PHONE_ID}/messages`, { ...base, template: { name: 'x' } })).body.error.code).toBe(131008);
    expect((await rawPost(`/v21.0/${PHONE_ID}/messages`, { ...base, biz_opaque_callback_data: 'x'.repeat(513) })).body.error.code).toBe(100);
  });
});

describe('template checks', () => {
  it('132001 for a missing name, another language, or a template not approved', async () => {
    expect(await send('5511900000001', { templateName: 'nao_existe' })).toMatchObject({ ok: false, code: 132001, httpStatus: 404 });
    expect(await send('5511900000002', { language: 'en_US' })).toMatchObject({ ok: false, code: 132001 });
    expect(await send('5511900000003', { templateName: 'oferta', bodyParameters: ['x'] })).toMatchObject({ ok: false, code: 132001 });
  });

  it('132000 when the body parameter count differs', async () => {
    const result = await send('5511900000004', { bodyParameters: ['só um'] });
    expect(result).toMatchObject({ ok: false, code: 132000, title: 'Number of parameters does not match the expected number of params' });
    expect(await send('5511900000005', { bodyParameters: [] })).toMatchObject({ ok: false, code: 132000 });
  });

  it('checks named parameters by name', async () => {
    expect(await send('5511900000006', { templateName: 'boas_vindas', bodyParameters: { nome: 'Ana', empresa: 'Omni' } })).toMatchObject({ ok: true });
    expect(await send('5511900000007', { templateName: 'boas_vindas', bodyParameters: { nome: 'Ana', loja: 'Omni' } })).toMatchObject({
      ok: false,
      code: 132000,
    });
  });

  it('132015 for a paused template and 132016 for a disabled one', async () => {
    expect(await send('5511900000008', { templateName: 'pesquisa', bodyParameters: [] })).toMatchObject({ ok: false, code: 132015 });
    expect(await send('5511900000009', { templateName: 'antiga', bodyParameters: [] })).toMatchObject({ ok: false, code: 132016 });
  });

  it('follows a template paused or disabled mid-run through the control API', async () => {
    expect(await send('5511900000010')).toMatchObject({ ok: true });
    expect((await control('PATCH', '/templates/lembrete_pagamento/pt_BR', { status: 'PAUSED' })).status).toBe(200);
    expect(await send('5511900000011')).toMatchObject({ ok: false, code: 132015 });
    simulator.setTemplateStatus('lembrete_pagamento', 'pt_BR', 'DISABLED');
    expect(await send('5511900000012')).toMatchObject({ ok: false, code: 132016 });
    await control('PUT', '/templates', { templates: [{ ...templates[0], status: 'APPROVED' }], merge: true });
    expect(await send('5511900000013')).toMatchObject({ ok: true });
  });
});

describe('limits', () => {
  it('answers 130429 to a burst above the per-number limit, in a sliding second', async () => {
    simulator.configure({ mps: 20 });
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => send(`55119${String(10_000_000 + i)}`)));
    expect(burst.filter((result) => result.ok)).toHaveLength(20);
    const refused = burst.filter((result) => !result.ok);
    expect(refused).toHaveLength(10);
    expect(refused.every((result) => !result.ok && result.code === 130429 && result.httpStatus === 400)).toBe(true);

    clock += 999;
    expect(await send('5511977770001')).toMatchObject({ ok: false, code: 130429 });
    clock += 1;
    expect(await send('5511977770002')).toMatchObject({ ok: true });
    // The limit is per phone number id.
    expect(await send('5511977770003', { phoneNumberId: 'outro-numero' })).toMatchObject({ ok: true });
    expect(simulator.stats().refusedByCode).toEqual({ 130429: 11 });
  });

  it('takes a per-number limit and a higher tier', async () => {
    simulator.configure({ mps: 5, mpsByPhoneNumberId: { [PHONE_ID]: 1_000 } });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => send(`55219${String(10_000_000 + i)}`)));
    expect(results.every((result) => result.ok)).toBe(true);
  });

  it('answers 131056 to a second message to the same recipient within 6 s', async () => {
    expect(await send('5511955550001')).toMatchObject({ ok: true });
    clock += 5_999;
    expect(await send('5511955550001')).toMatchObject({ ok: false, code: 131056 });
    expect(await send('5511955550002')).toMatchObject({ ok: true });
    clock += 1;
    expect(await send('5511955550001')).toMatchObject({ ok: true });
  });

  it('can disable the pair limit', async () => {
    simulator.configure({ pairWindowMs: 0 });
    expect(await send('5511955550003')).toMatchObject({ ok: true });
    expect(await send('5511955550003')).toMatchObject({ ok: true });
  });
});

describe('fault injection', () => {
  it('answers an injected code for numbers matching a pattern', async () => {
    simulator.configure({
      injections: [
        { pattern: '^5521', code: 131026 },
        { pattern: '^5531', code: 131049 },
      ],
    });
    expect(await send('5521988880001')).toMatchObject({ ok: false, code: 131026, title: 'Message undeliverable' });
    expect(await send('5531988880001')).toMatchObject({ ok: false, code: 131049 });
    expect(await send('5511988880001')).toMatchObject({ ok: true });
    expect(simulator.stats().injectionHits).toEqual([1, 1]);
  });

  it('injects only `times` times', async () => {
    simulator.configure({ pairWindowMs: 0, injections: [{ pattern: '^5511988880002$', code: 131000, times: 2 }] });
    expect(await send('5511988880002')).toMatchObject({ ok: false, code: 131000, httpStatus: 500 });
    expect(await send('5511988880002')).toMatchObject({ ok: false, code: 131000 });
    expect(await send('5511988880002')).toMatchObject({ ok: true });
  });

  it('any code of the table, including account-level ones', async () => {
    const codes = [190, 131042, 131048, 131050, 132015, 368, 130497, 133010, 131057, 80007];
    simulator.configure({ injections: codes.map((code, i) => ({ pattern: `^55119000${String(i).padStart(5, '0')}$`, code })) });
    for (const [i, code] of codes.entries()) {
      expect(await send(`55119000${String(i).padStart(5, '0')}`)).toMatchObject({ ok: false, code });
    }
  });

  it('refuses a share of all requests with transient codes', async () => {
    simulator.configure({ transient: { fraction: 1, codes: [131000] } });
    expect(await send('5511944440001')).toMatchObject({ ok: false, code: 131000, httpStatus: 500 });
    simulator.configure({ transient: { fraction: 0 } });
    expect(await send('5511944440001')).toMatchObject({ ok: true });
  });

  it('can accept a message and lose the answer, which the client reports as maybe sent', async () => {
    simulator.configure({ lostAnswerFraction: 1 });
    const error = await send('5511944440002', { bizOpaqueCallbackData: 'send:9:contact:2' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WhatsAppTransportError);
    expect(error).toMatchObject({ maybeSent: true, retryable: true });
    expect(simulator.stats().acceptedByCallbackData).toEqual({ 'send:9:contact:2': 1 });
    // The status webhook settles it.
    await receiver.waitFor(() => receiver.statuses().some((status) => status.bizOpaqueCallbackData === 'send:9:contact:2'));
  });

  it('returns wa_id without the ninth digit for configured numbers, in the answer and the webhooks', async () => {
    simulator.configure({ waIdWithoutNinthDigit: ['^5548'] });
    expect(await send('5548998288774')).toMatchObject({ ok: true, waId: '554898288774' });
    expect(await send('5511998288774')).toMatchObject({ ok: true, waId: '5511998288774' });
    await receiver.waitFor(() => receiver.statuses().filter((status) => status.status === 'read').length === 2);
    expect(new Set(receiver.statuses().map((status) => status.recipientId))).toEqual(new Set(['554898288774', '5511998288774']));
  });
});

describe('status webhooks', () => {
  it('posts signed sent → delivered → read, echoing biz_opaque_callback_data', async () => {
    const result = await send('5511933330001', { bizOpaqueCallbackData: 'send:3:contact:77' });
    if (!result.ok) throw new Error('send refused');
    await receiver.waitFor(() => receiver.statuses().length === 3);
    for (const post of receiver.posts) expect(verifySignature(post.raw, post.signature, SECRET)).toBe(true);
    expect(verifySignature(receiver.posts[0].raw, receiver.posts[0].signature, 'outro')).toBe(false);

    const statuses = receiver.statuses();
    expect(statuses.map((status) => status.status)).toEqual(['sent', 'delivered', 'read']);
    for (const status of statuses) {
      expect(status).toMatchObject({ wamid: result.wamid, recipientId: '5511933330001', bizOpaqueCallbackData: 'send:3:contact:77', phoneNumberId: PHONE_ID });
    }
    expect(statuses[0].pricing).toMatchObject({ billable: true, category: 'utility' });
    const body = JSON.parse(receiver.posts[0].raw.toString());
    expect(body).toMatchObject({
      object: 'whatsapp_business_account',
      entry: [{ id: WABA_ID, changes: [{ field: 'messages', value: { metadata: { phone_number_id: PHONE_ID } } }] }],
    });
  });

  it('batches many statuses into few POSTs', async () => {
    simulator.configure({ pairWindowMs: 0, mps: 1_000, webhook: { batchSize: 50, readFraction: 0 } });
    await Promise.all(Array.from({ length: 100 }, (_, i) => send(`55119${String(20_000_000 + i)}`)));
    await receiver.waitFor(() => receiver.statuses().length === 200);
    await simulator.webhooksIdle();
    expect(receiver.posts.length).toBeLessThan(100);
    expect(simulator.stats().webhooks).toMatchObject({ statusesDelivered: 200, dropped: 0 });
  });

  it("posts a number's statuses to its override URL, the others' to the webhook URL", async () => {
    const other = new Receiver();
    await other.start();
    try {
      simulator.configure({ webhook: { readFraction: 0, skipDeliveredFraction: 1, urlByPhoneNumberId: { '106540352249999': other.url } } });
      await send('5511922220011');
      await send('5511922220012', { phoneNumberId: '106540352249999' });
      await other.waitFor(() => other.statuses().length === 1);
      await receiver.waitFor(() => receiver.statuses().length === 1);
      await simulator.webhooksIdle();
      expect(other.statuses()[0].recipientId).toBe('5511922220012');
      expect(receiver.statuses()[0].recipientId).toBe('5511922220011');
    } finally {
      await other.stop();
    }
  });

  it('can send duplicates, skip delivered and reverse the order (timestamps stay true)', async () => {
    simulator.configure({ webhook: { duplicateFraction: 1, outOfOrderFraction: 1, concurrency: 1, sentDelayMs: 0, deliveredDelayMs: 150, readDelayMs: 300 } });
    const result = await send('5511922220001');
    await receiver.waitFor(() => receiver.statuses().length === 6);
    const statuses = receiver.statuses();
    expect(statuses.map((status) => status.status)).toEqual(['read', 'read', 'delivered', 'delivered', 'sent', 'sent']);
    expect(new Set(statuses.map((status) => status.wamid))).toEqual(new Set([result.ok && result.wamid]));
    const at = (name: string) => statuses.find((status) => status.status === name)!.timestamp.getTime();
    expect(at('sent')).toBeLessThanOrEqual(at('delivered'));
    expect(at('delivered')).toBeLessThanOrEqual(at('read'));

    receiver.clear();
    simulator.configure({ webhook: { duplicateFraction: 0, outOfOrderFraction: 0, skipDeliveredFraction: 1, deliveredDelayMs: 10, readDelayMs: 20 } });
    await send('5511922220002');
    await receiver.waitFor(() => receiver.statuses().length === 2);
    await simulator.webhooksIdle();
    expect(receiver.statuses().map((status) => status.status)).toEqual(['sent', 'read']);
  });

  it('sends failed with errors[] for numbers injected at the status stage', async () => {
    simulator.configure({ injections: [{ pattern: '^5511911110001$', code: 131050, stage: 'status' }] });
    const result = await send('5511911110001', { bizOpaqueCallbackData: 'k1' });
    expect(result).toMatchObject({ ok: true });
    await receiver.waitFor(() => receiver.statuses().some((status) => status.status === 'failed'));
    await simulator.webhooksIdle();
    const statuses = receiver.statuses();
    expect(statuses.map((status) => status.status)).toEqual(['sent', 'failed']);
    expect(statuses[1]).toMatchObject({ bizOpaqueCallbackData: 'k1', errors: [{ code: 131050, title: expect.stringContaining('stop receiving marketing') }] });
  });

  it('retries a POST answered with anything but 200, the same signed body', async () => {
    simulator.configure({ webhook: { readFraction: 0, deliveredDelayMs: 0, retryBaseMs: 10 } });
    receiver.answers = [500, 204];
    await send('5511911110002');
    await receiver.waitFor(() => receiver.posts.length >= 3);
    await simulator.webhooksIdle();
    expect(receiver.posts[1].raw.equals(receiver.posts[0].raw)).toBe(true);
    expect(receiver.posts[1].signature).toBe(receiver.posts[0].signature);
    expect(simulator.stats().webhooks).toMatchObject({ retries: 2, postFailures: 2, statusesDelivered: 2, dropped: 0 });
  });

  it('gives up after maxAttempts', async () => {
    simulator.configure({ webhook: { readFraction: 0, skipDeliveredFraction: 1, retryBaseMs: 1, maxAttempts: 3 } });
    receiver.answers = [503, 503, 503];
    await send('5511911110003');
    await receiver.waitFor(() => receiver.posts.length === 3);
    await simulator.webhooksIdle();
    expect(simulator.stats().webhooks).toMatchObject({ dropped: 1, statusesDelivered: 0 });
  });

  it('posts a user reply (SAIR) as an inbound-message webhook', async () => {
    simulator.configure({ waIdWithoutNinthDigit: ['^5548'] });
    const { status, body } = await control('POST', '/inbound', { from: '5548998288774', text: 'Sair', phoneNumberId: PHONE_ID, name: 'Maria' });
    expect(status).toBe(202);
    await receiver.waitFor(() => receiver.inbound().length === 1);
    const [message] = receiver.inbound();
    expect(message).toMatchObject({ id: body.id, from: '554898288774', waId: '554898288774', text: 'Sair', profileName: 'Maria', phoneNumberId: PHONE_ID });
    expect(isOptOutReply(message.text)).toBe(true);
    expect(verifySignature(receiver.posts[0].raw, receiver.posts[0].signature, SECRET)).toBe(true);
  });
});

describe('templates endpoint', () => {
  beforeEach(() => {
    simulator.setTemplates(
      Array.from({ length: 7 }, (_, i) => ({
        name: `modelo_${i}`,
        language: 'pt_BR',
        status: i % 2 ? 'APPROVED' : 'PENDING',
        category: 'UTILITY',
        components: [{ type: 'BODY', text: `Olá {{1}}, item ${i}` }],
      })),
    );
  });

  it('pages with limit and after, cursors and next', async () => {
    const first = await fetch(`${simulator.url}/v21.0/${WABA_ID}/message_templates?limit=3&fields=name,status`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const page = (await first.json()) as { data: Record<string, unknown>[]; paging: { cursors: { before: string; after: string }; next?: string } };
    expect(page.data).toHaveLength(3);
    expect(Object.keys(page.data[0]).sort()).toEqual(['id', 'name', 'status']);
    expect(page.paging.cursors.before).toEqual(expect.any(String));
    expect(page.paging.next).toContain(`after=${page.paging.cursors.after}`);

    const pages = [page];
    while (pages.at(-1)!.paging.next) {
      const response = await fetch(pages.at(-1)!.paging.next!, { headers: { authorization: `Bearer ${TOKEN}` } });
      pages.push((await response.json()) as typeof page);
    }
    expect(pages.map((p) => p.data.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((p) => p.data.map((t) => t.name))).toEqual(Array.from({ length: 7 }, (_, i) => `modelo_${i}`));
  });

  it('is followed to the end by the client, with placeholders', async () => {
    const all = await client.listTemplates({ wabaId: WABA_ID, limit: 2 });
    expect(all).toHaveLength(7);
    expect(all[1]).toMatchObject({ name: 'modelo_1', language: 'pt_BR', status: 'APPROVED', category: 'UTILITY', id: expect.any(String) });
    expect(templatePlaceholders(all[1])).toEqual(['1']);
  });

  it('refuses another WABA and a bad token', async () => {
    const error = await client.listTemplates({ wabaId: '999' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error).toMatchObject({ code: 100, httpStatus: 400 });
    const response = await fetch(`${simulator.url}/v21.0/${WABA_ID}/message_templates`, { headers: { authorization: 'Bearer x' } });
    expect(response.status).toBe(401);
  });
});

describe('counts and control API', () => {
  it('counts accepted messages per recipient and per callback key', async () => {
    await send('5511966660001', { bizOpaqueCallbackData: 'a' });
    await send('5511966660002', { bizOpaqueCallbackData: 'b' });
    await send('5511966660001', { bizOpaqueCallbackData: 'a' }); // refused: pair limit
    clock += 6_000;
    await send('5511966660001', { bizOpaqueCallbackData: 'a' });
    const stats = simulator.stats();
    expect(stats).toMatchObject({
      requests: 4,
      accepted: 3,
      refused: 1,
      uniqueRecipients: 2,
      acceptedByRecipient: { '5511966660001': 2, '5511966660002': 1 },
      acceptedByCallbackData: { a: 2, b: 1 },
      duplicateRecipients: ['5511966660001'],
      duplicateCallbackData: ['a'],
    });
    const summary = await control('GET', '/stats?detail=false');
    expect(summary.body).toMatchObject({ accepted: 3 });
    expect(summary.body.acceptedByRecipient).toBeUndefined();
  });

  it('reads and changes the config over HTTP, refusing invalid values', async () => {
    expect((await control('PUT', '/config', { mps: 1_000, webhook: { duplicateFraction: 0.5 } })).body).toMatchObject({
      mps: 1_000,
      webhook: { duplicateFraction: 0.5, url: receiver.url },
    });
    expect((await control('GET', '/config')).body.mps).toBe(1_000);
    expect((await control('PUT', '/config', { mps: -1 })).status).toBe(400);
    expect((await control('PUT', '/config', { injections: [{ pattern: '(', code: 1 }] })).status).toBe(400);
    expect((await control('PUT', '/config', { nope: true })).status).toBe(400);
  });

  it('resets counts over HTTP', async () => {
    await send('5511966660003');
    expect((await control('POST', '/reset')).status).toBe(200);
    expect(simulator.stats()).toMatchObject({ requests: 0, accepted: 0, acceptedByRecipient: {} });
    expect(await send('5511966660003')).toMatchObject({ ok: true });
  });
});

describe('client transport errors', () => {
  it('throws a retryable error, not sent, when nothing listens', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const offline = createWhatsAppClient({ baseUrl: `http://127.0.0.1:${port}`, accessToken: TOKEN });
    try {
      const error = await offline
        .sendTemplate({ phoneNumberId: PHONE_ID, to: '5511987654321', templateName: 't', language: 'pt_BR' })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(WhatsAppTransportError);
      expect(error).toMatchObject({ retryable: true, maybeSent: false, failure: 'network', code: 'ECONNREFUSED' });
    } finally {
      await offline.close();
    }
  });
});
