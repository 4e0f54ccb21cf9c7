import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Signature (X-Hub-Signature-256) and subscription check

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** `sha256=<hex HMAC-SHA256 of the raw body keyed with the app secret>`. */
export function signBody(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/**
 * True when the header is the body's signature. Computed over the raw bytes as received (a
 * re-serialised JSON would differ) and compared in constant time.
 */
export function verifySignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (!header || !appSecret) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}

/**
 * The GET Meta sends when the webhook is configured: the challenge to echo back when mode and
 * token match (answer 200 with it), else undefined (answer 403).
 */
export function verifySubscription(query: Record<string, unknown>, verifyToken: string): string | undefined {
  const mode = query['hub.mode'];
  const token = query['hub.verify_token'];
  const challenge = query['hub.challenge'];
  if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string') return undefined;
  const given = Buffer.from(token);
  const wanted = Buffer.from(verifyToken);
  return given.length === wanted.length && timingSafeEqual(given, wanted) ? challenge : undefined;
}

// ---------------------------------------------------------------------------------------------
// Payload

const epochSeconds = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const seconds = Number(value);
  if (!Number.isFinite(seconds)) {
    ctx.addIssue({ code: 'custom', message: 'timestamp is not a number of seconds' });
    return z.NEVER;
  }
  return new Date(seconds * 1000);
});

const errorSchema = z.object({
  code: z.number(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.object({ details: z.string().optional() }).optional(),
});

const statusSchema = z.object({
  id: z.string(),
  // Kept as text: an unknown status (Meta adds some) is skipped, not a reason to refuse the batch.
  status: z.string(),
  timestamp: epochSeconds,
  recipient_id: z.string(),
  biz_opaque_callback_data: z.string().optional(),
  pricing: z
    .object({ billable: z.boolean().optional(), pricing_model: z.string().optional(), category: z.string().optional(), type: z.string().optional() })
    .optional(),
  errors: z.array(errorSchema).optional(),
});

const messageSchema = z.object({
  from: z.string(),
  id: z.string(),
  timestamp: epochSeconds,
  type: z.string(),
  text: z.object({ body: z.string() }).optional(),
  button: z.object({ text: z.string().optional(), payload: z.string().optional() }).optional(),
  interactive: z
    .object({
      button_reply: z.object({ id: z.string().optional(), title: z.string().optional() }).optional(),
      list_reply: z.object({ id: z.string().optional(), title: z.string().optional() }).optional(),
    })
    .optional(),
  context: z.object({ id: z.string().optional() }).optional(),
});

const valueSchema = z.object({
  messaging_product: z.literal('whatsapp'),
  metadata: z.object({ display_phone_number: z.string(), phone_number_id: z.string() }),
  contacts: z.array(z.object({ wa_id: z.string(), profile: z.object({ name: z.string().optional() }).optional() })).optional(),
  statuses: z.array(statusSchema).optional(),
  messages: z.array(messageSchema).optional(),
});

export const webhookPayloadSchema = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.object({
      id: z.string(),
      changes: z.array(z.object({ field: z.string().optional(), value: z.unknown() })),
    }),
  ),
});

export type WebhookPayload = z.input<typeof webhookPayloadSchema>;

export type StatusEventStatus = 'sent' | 'delivered' | 'read' | 'failed';
const knownStatuses = new Set<string>(['sent', 'delivered', 'read', 'failed']);

export interface StatusError {
  code: number;
  title?: string;
  message?: string;
  details?: string;
}

export interface StatusEvent {
  wamid: string;
  status: StatusEventStatus;
  timestamp: Date;
  /** The user's wa_id (Brazil: maybe without the ninth digit). */
  recipientId: string;
  bizOpaqueCallbackData?: string;
  errors?: StatusError[];
  pricing?: { billable?: boolean; pricingModel?: string; category?: string; type?: string };
  phoneNumberId: string;
}

export interface InboundMessage {
  id: string;
  from: string;
  /** From `contacts[]` when present, else `from` (they are the same user id). */
  waId: string;
  profileName?: string;
  type: string;
  /** Text body, or the title of the button / list row the user tapped. */
  text?: string;
  timestamp: Date;
  /** The wamid of our message the user replied to, when they used "reply". */
  contextWamid?: string;
  phoneNumberId: string;
}

export interface ParsedWebhook {
  statuses: StatusEvent[];
  messages: InboundMessage[];
  /** Changes of other fields (template status, account alerts…) or unknown statuses, counted. */
  ignored: number;
}

export class WebhookPayloadError extends Error {
  override readonly name = 'WebhookPayloadError';
}

/**
 * Flattens a `whatsapp_business_account` webhook into status events and inbound messages. Throws
 * WebhookPayloadError when it is not such a payload; changes of other fields are counted in
 * `ignored`, so a template or account notification never fails the batch.
 */
export function parseWebhook(payload: unknown): ParsedWebhook {
  const outer = webhookPayloadSchema.safeParse(payload);
  if (!outer.success) throw new WebhookPayloadError(`not a WhatsApp webhook: ${outer.error.message}`);
  const result: ParsedWebhook = { statuses: [], messages: [], ignored: 0 };
  for (const entry of outer.data.entry) {
    for (const change of entry.changes) {
      if (change.field !== undefined && change.field !== 'messages') {
        result.ignored++;
        continue;
      }
      const value = valueSchema.safeParse(change.value);
      if (!value.success) throw new WebhookPayloadError(`unreadable messages change: ${value.error.message}`);
      collect(value.data, result);
    }
  }
  return result;
}

function collect(value: z.output<typeof valueSchema>, into: ParsedWebhook): void {
  const phoneNumberId = value.metadata.phone_number_id;
  for (const status of value.statuses ?? []) {
    if (!knownStatuses.has(status.status)) {
      into.ignored++;
      continue;
    }
    into.statuses.push({
      wamid: status.id,
      status: status.status as StatusEventStatus,
      timestamp: status.timestamp,
      recipientId: status.recipient_id,
      bizOpaqueCallbackData: status.biz_opaque_callback_data,
      errors: status.errors?.map((error) => ({
        code: error.code,
        title: error.title,
        message: error.message,
        details: error.error_data?.details,
      })),
      pricing: status.pricing && {
        billable: status.pricing.billable,
        pricingModel: status.pricing.pricing_model,
        category: status.pricing.category,
        type: status.pricing.type,
      },
      phoneNumberId,
    });
  }
  for (const message of value.messages ?? []) {
    const contacts = value.contacts ?? [];
    const contact = contacts.find((candidate) => candidate.wa_id === message.from) ?? (contacts.length === 1 ? contacts[0] : undefined);
    into.messages.push({
      id: message.id,
      from: message.from,
      waId: contact?.wa_id ?? message.from,
      profileName: contact?.profile?.name,
      type: message.type,
      text: message.text?.body ?? message.button?.text ?? message.interactive?.button_reply?.title ?? message.interactive?.list_reply?.title,
      timestamp: message.timestamp,
      contextWamid: message.context?.id,
      phoneNumberId,
    });
  }
}
