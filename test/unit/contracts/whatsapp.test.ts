import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWhatsAppClient, templatePlaceholders } from '../../../src/integrations/whatsapp/client';
import { parseWebhook, SIGNATURE_HEADER, verifySignature } from '../../../src/integrations/whatsapp/webhook';
import { startWhatsAppSimulator, type WhatsAppSimulator } from '../../../src/simulators/whatsapp/server';
import { waitFor } from '../../helpers/worker-process';
import { fixture, missing, undocumented } from './shape';

// The WhatsApp Cloud API as documented (test/fixtures/contracts/whatsapp/), held against our
// client and against our simulator's own answers and webhooks.

const accepted = fixture('whatsapp/send-accepted.json');
const refused = fixture('whatsapp/send-refused.json');
const templatesPage = fixture('whatsapp/message-templates.json');
const delivered = fixture('whatsapp/status-delivered.json');
const failed = fixture('whatsapp/status-failed.json');

const TOKEN = 'token-contrato';
const SECRET = 'segredo-contrato';
const PHONE_ID = '106540352242922';
const WABA_ID = '102290129340398';

/** A client whose Graph API answers with one documented body. */
const clientAnswering = (status: number, body: unknown) =>
  createWhatsAppClient({ baseUrl: 'https://graph.example', accessToken: TOKEN, fetch: async () => ({ status, text: async () => JSON.stringify(body) }) });
const sendRequest = { phoneNumberId: PHONE_ID, to: '5511987654321', templateName: 'lembrete_fatura', language: 'pt_BR', bodyParameters: ['Maria', '10/12'] };

describe('the client reads the documented Cloud API payloads', () => {
  it('an accepted send: the wamid, the wa_id (which may differ from the number sent to) and the status', async () => {
    const result = await clientAnswering(200, accepted).sendTemplate(sendRequest);
    expect(result).toEqual({ ok: true, wamid: accepted.messages[0].id, waId: accepted.contacts[0].wa_id, messageStatus: 'accepted' });
  });

  it('a Graph error body: code, title without the (#code) prefix, details, type and trace id', async () => {
    const result = await clientAnswering(400, refused).sendTemplate(sendRequest);
    expect(result).toMatchObject({
      ok: false,
      httpStatus: 400,
      code: 131049,
      message: refused.error.message,
      title: 'This message was not delivered to maintain healthy ecosystem engagement.',
      details: refused.error.error_data.details,
      type: 'OAuthException',
      fbtraceId: refused.error.fbtrace_id,
    });
  });

  it('a page of message_templates, and each body’s variables (positional and named)', async () => {
    const templates = await clientAnswering(200, { data: templatesPage.data }).listTemplates({ wabaId: WABA_ID });
    expect(templates.map((t) => [t.name, t.status, t.category, templatePlaceholders(t)])).toEqual([
      ['lembrete_fatura', 'APPROVED', 'UTILITY', ['1', '2']],
      ['boas_vindas_nomeado', 'PAUSED', 'MARKETING', ['nome', 'empresa']],
    ]);
  });

  it('status webhooks: delivered with our key and the pricing, failed with its error', () => {
    const [status] = parseWebhook(delivered).statuses;
    expect(status).toMatchObject({
      wamid: delivered.entry[0].changes[0].value.statuses[0].id,
      status: 'delivered',
      timestamp: new Date(1767268800 * 1000),
      recipientId: '551187654321',
      bizOpaqueCallbackData: 'bm:send-1:42',
      phoneNumberId: PHONE_ID,
    });
    const [failure] = parseWebhook(failed).statuses;
    expect(failure).toMatchObject({ status: 'failed', errors: [{ code: 131026, title: 'Message undeliverable' }] });
    expect(failure.errors?.[0].details).toContain('cannot receive');
  });

  it('a signature is sha256= and the hex HMAC-SHA256 of the exact bytes, keyed with the app secret', () => {
    const body = Buffer.from(JSON.stringify(delivered));
    const header = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    expect(verifySignature(body, header, SECRET)).toBe(true);
    expect(verifySignature(Buffer.concat([body, Buffer.from(' ')]), header, SECRET)).toBe(false);
  });
});

describe('the simulator answers and posts as documented', () => {
  let sim: WhatsAppSimulator;
  let receiver: Server;
  const posts: { raw: Buffer; signature?: string }[] = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        posts.push({ raw: Buffer.concat(chunks), signature: request.headers[SIGNATURE_HEADER] as string | undefined });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sim = await startWhatsAppSimulator({
      accessToken: TOKEN,
      appSecret: SECRET,
      webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
      templates: [
        {
          name: 'lembrete_fatura',
          language: 'pt_BR',
          status: 'APPROVED',
          category: 'UTILITY',
          components: [{ type: 'BODY', text: 'Olá {{1}}, sua fatura vence em {{2}}.' }],
        },
      ],
      config: { wabaId: WABA_ID, injections: [{ pattern: '2$', code: 131026, stage: 'status' }] },
    });
  });
  afterAll(async () => {
    await sim?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const graph = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}/v21.0${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const send = (to: string, key: string) =>
    graph('POST', `/${PHONE_ID}/messages`, {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'template',
      biz_opaque_callback_data: key,
      template: {
        name: 'lembrete_fatura',
        language: { code: 'pt_BR' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Maria' },
              { type: 'text', text: '10/12' },
            ],
          },
        ],
      },
    });
  const statuses = () => posts.flatMap((p) => JSON.parse(p.raw.toString()).entry.flatMap((e: any) => e.changes.flatMap((c: any) => c.value.statuses ?? [])));

  it('an accepted send answers the documented body', async () => {
    const { status, body } = await send('5511987654321', 'bm:contrato:1');
    expect(status).toBe(200);
    expect(undocumented(body, accepted)).toEqual([]);
    expect(missing(body, ['messaging_product', 'contacts.0.input', 'contacts.0.wa_id', 'messages.0.id'])).toEqual([]);
    expect(body.contacts[0].input).toBe('5511987654321');
  });

  it('a refusal answers the documented error body', async () => {
    const { status, body } = await graph('POST', `/${PHONE_ID}/messages`, {
      messaging_product: 'whatsapp',
      to: '5511987654321',
      type: 'template',
      template: { name: 'nao_existe', language: { code: 'pt_BR' } },
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(undocumented(body, refused)).toEqual([]);
    expect(missing(body, ['error.message', 'error.type', 'error.code', 'error.fbtrace_id'])).toEqual([]);
  });

  it('message_templates answers a documented page', async () => {
    const { status, body } = await graph(
      'GET',
      `/${WABA_ID}/message_templates?fields=id,name,language,status,category,quality_score,components,parameter_format`,
    );
    expect(status).toBe(200);
    expect(undocumented(body, templatesPage)).toEqual([]);
    expect(missing(body, ['data.0.id', 'data.0.name', 'data.0.language', 'data.0.status', 'data.0.category', 'data.0.components.0.type'])).toEqual([]);
  });

  it('status webhooks are shaped and signed as documented, and our client reads them back', async () => {
    await send('5511987654322', 'bm:contrato:2');
    await waitFor(
      async () => statuses().some((s) => s.status === 'delivered') && statuses().some((s) => s.status === 'failed'),
      'a delivered and a failed status',
      10_000,
      20,
    );
    for (const post of posts) {
      const payload = JSON.parse(post.raw.toString());
      expect(post.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(post.raw).digest('hex')}`);
      const documented = payload.entry[0].changes[0].value.statuses?.some((s: any) => s.status === 'failed') ? failed : delivered;
      // Each status against its documented kind (a failed one carries errors[], no pricing).
      for (const s of payload.entry[0].changes[0].value.statuses ?? []) {
        const example = s.status === 'failed' ? failed : delivered;
        expect(undocumented(s, example.entry[0].changes[0].value.statuses[0])).toEqual([]);
        expect(missing(s, ['id', 'status', 'timestamp', 'recipient_id'])).toEqual([]);
        expect(s.timestamp).toMatch(/^\d{10}$/);
      }
      // The envelope, statuses apart (checked above).
      const envelope = structuredClone(payload);
      for (const change of envelope.entry.flatMap((e: any) => e.changes)) delete change.value.statuses;
      expect(undocumented(envelope, documented)).toEqual([]);
      expect(
        missing(payload, [
          'object',
          'entry.0.id',
          'entry.0.changes.0.field',
          'entry.0.changes.0.value.metadata.phone_number_id',
          'entry.0.changes.0.value.metadata.display_phone_number',
        ]),
      ).toEqual([]);
      expect(parseWebhook(payload).statuses.length).toBeGreaterThan(0);
    }
    expect(statuses().find((s) => s.status === 'failed')).toMatchObject({ biz_opaque_callback_data: 'bm:contrato:2', errors: [{ code: 131026 }] });
  });
});
