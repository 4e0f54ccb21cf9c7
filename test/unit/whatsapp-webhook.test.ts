import { describe, expect, it } from 'vitest';
import { parseWebhook, signBody, verifySignature, verifySubscription, WebhookPayloadError } from '../../src/integrations/whatsapp/webhook';

const secret = 'app-secret-de-teste';

function statusPayload(statuses: unknown[]) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '551140040000', phone_number_id: '106540352242922' },
              statuses,
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

describe('X-Hub-Signature-256', () => {
  const raw = Buffer.from(JSON.stringify(statusPayload([])));

  it('accepts the signature of the exact bytes', () => {
    expect(signBody(raw, secret)).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(raw, signBody(raw, secret), secret)).toBe(true);
  });

  it('accepts an upper-case hex digest', () => {
    const header = signBody(raw, secret).replace(/[0-9a-f]{64}$/, (hex) => hex.toUpperCase());
    expect(verifySignature(raw, header, secret)).toBe(true);
  });

  it('refuses a missing or empty header', () => {
    expect(verifySignature(raw, undefined, secret)).toBe(false);
    expect(verifySignature(raw, '', secret)).toBe(false);
  });

  it('refuses a signature made with another secret', () => {
    expect(verifySignature(raw, signBody(raw, 'outro-segredo'), secret)).toBe(false);
  });

  it('refuses a tampered body, even one that parses to the same JSON', () => {
    const header = signBody(raw, secret);
    const tampered = Buffer.from(raw.toString().replace('102290129340398', '102290129340399'));
    expect(verifySignature(tampered, header, secret)).toBe(false);
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(raw.toString()), null, 2));
    expect(verifySignature(reformatted, header, secret)).toBe(false);
  });

  it('refuses malformed headers without throwing', () => {
    const hex = signBody(raw, secret).slice('sha256='.length);
    for (const header of [hex, `sha1=${hex}`, `sha256=${hex.slice(2)}`, 'sha256=zz', `sha256=${hex}00`]) {
      expect(verifySignature(raw, header, secret)).toBe(false);
    }
  });

  it('refuses everything when no app secret is configured', () => {
    expect(verifySignature(raw, signBody(raw, ''), '')).toBe(false);
  });
});

describe('subscription check (GET)', () => {
  it('echoes the challenge when mode and token match', () => {
    expect(verifySubscription({ 'hub.mode': 'subscribe', 'hub.verify_token': 'tok', 'hub.challenge': '1158201444' }, 'tok')).toBe('1158201444');
  });

  it('refuses a wrong token or mode', () => {
    expect(verifySubscription({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': 'x' }, 'tok')).toBeUndefined();
    expect(verifySubscription({ 'hub.mode': 'unsubscribe', 'hub.verify_token': 'tok', 'hub.challenge': 'x' }, 'tok')).toBeUndefined();
    expect(verifySubscription({}, 'tok')).toBeUndefined();
  });
});

describe('parseWebhook', () => {
  it('flattens statuses with their key, pricing and errors', () => {
    const parsed = parseWebhook(
      statusPayload([
        {
          id: 'wamid.A',
          status: 'delivered',
          timestamp: '1750857384',
          recipient_id: '554898288774',
          biz_opaque_callback_data: 'send:7:contact:42',
          pricing: { billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' },
        },
        {
          id: 'wamid.B',
          status: 'failed',
          timestamp: '1750857390',
          recipient_id: '5511987654321',
          errors: [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details: 'not on WhatsApp' } }],
        },
      ]),
    );
    expect(parsed.statuses).toEqual([
      {
        wamid: 'wamid.A',
        status: 'delivered',
        timestamp: new Date(1750857384 * 1000),
        recipientId: '554898288774',
        bizOpaqueCallbackData: 'send:7:contact:42',
        errors: undefined,
        pricing: { billable: true, pricingModel: 'PMP', category: 'marketing', type: 'regular' },
        phoneNumberId: '106540352242922',
      },
      expect.objectContaining({
        wamid: 'wamid.B',
        status: 'failed',
        errors: [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', details: 'not on WhatsApp' }],
      }),
    ]);
    expect(parsed.messages).toEqual([]);
  });

  it('reads inbound text and button replies with the contact wa_id', () => {
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '551140040000', phone_number_id: '106540352242922' },
                contacts: [{ profile: { name: 'Maria' }, wa_id: '554898288774' }],
                messages: [
                  { from: '554898288774', id: 'wamid.IN1', timestamp: '1749416383', type: 'text', text: { body: 'SAIR' } },
                  {
                    from: '554898288774',
                    id: 'wamid.IN2',
                    timestamp: '1749416390',
                    type: 'button',
                    button: { text: 'Parar promoções', payload: 'stop' },
                    context: { id: 'wamid.OUR' },
                  },
                ],
              },
            },
          ],
        },
      ],
    };
    const { messages } = parseWebhook(payload);
    expect(messages[0]).toEqual({
      id: 'wamid.IN1',
      from: '554898288774',
      waId: '554898288774',
      profileName: 'Maria',
      type: 'text',
      text: 'SAIR',
      timestamp: new Date(1749416383 * 1000),
      contextWamid: undefined,
      phoneNumberId: '106540352242922',
    });
    expect(messages[1]).toMatchObject({ type: 'button', text: 'Parar promoções', contextWamid: 'wamid.OUR' });
  });

  it('takes several statuses, changes and entries in one POST', () => {
    const one = statusPayload([
      { id: 'wamid.1', status: 'sent', timestamp: '1', recipient_id: '5511999990001' },
      { id: 'wamid.2', status: 'read', timestamp: '2', recipient_id: '5511999990002' },
    ]);
    const payload = { ...one, entry: [...one.entry, ...one.entry] };
    expect(parseWebhook(payload).statuses.map((status) => status.wamid)).toEqual(['wamid.1', 'wamid.2', 'wamid.1', 'wamid.2']);
  });

  it('counts and skips other fields and unknown statuses instead of failing the batch', () => {
    const payload = statusPayload([{ id: 'wamid.1', status: 'deleted', timestamp: '1', recipient_id: '5511999990001' }]);
    payload.entry[0].changes.push({ field: 'message_template_status_update', value: { event: 'PAUSED' } } as never);
    const parsed = parseWebhook(payload);
    expect(parsed.statuses).toEqual([]);
    expect(parsed.ignored).toBe(2);
  });

  it('refuses what is not a WhatsApp webhook', () => {
    expect(() => parseWebhook({ object: 'page', entry: [] })).toThrow(WebhookPayloadError);
    expect(() => parseWebhook('nope')).toThrow(WebhookPayloadError);
    expect(() => parseWebhook(statusPayload([{ id: 'wamid.1', status: 'sent', timestamp: 'ontem', recipient_id: '1' }]))).toThrow(WebhookPayloadError);
  });
});
