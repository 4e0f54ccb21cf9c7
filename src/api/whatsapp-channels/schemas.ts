import { z } from 'zod';
import type { Config } from '../../config';
import type { Role, WhatsAppChannel, WhatsAppTemplateRow } from '../../db/schema';
import { DEFAULT_MESSAGING_LIMIT_TIER, MESSAGING_LIMIT_TIERS, messagingLimitOf } from '../../domain/messaging-limits';

const tierSchema = z
  .enum(MESSAGING_LIMIT_TIERS)
  .describe(
    "Meta's messaging limit of the business portfolio: unique users a send may start conversations with in a rolling 24 h (TIER_250 = 250 … TIER_UNLIMITED)",
  );

const digits = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d{5,20}$/, `${what} is the numeric id Meta shows`);

export const channelCreateSchema = z.object({
  name: z.string().trim().min(1).max(120),
  phoneNumberId: digits('phoneNumberId').describe('The business phone number id (Meta: WhatsApp Manager → API setup)'),
  wabaId: digits('wabaId').describe('The WhatsApp Business Account id'),
  displayNumber: z
    .string()
    .trim()
    .regex(/^\d{10,15}$/, 'digits with country code, e.g. 5548998288774'),
  accessToken: z.string().min(10).max(4096).describe('System-user access token; stored encrypted, never returned'),
  appSecret: z.string().min(8).max(512).describe('App secret that signs the webhooks; stored encrypted, never returned'),
  verifyToken: z.string().min(8).max(200).optional().describe('Webhook verify token; generated when absent'),
  mpsLimit: z.number().int().min(1).max(1000).default(80).describe('Messages per second this number may send (Meta: 80 by default, up to 1,000)'),
  messagingLimitTier: tierSchema.default(DEFAULT_MESSAGING_LIMIT_TIER),
});

export const channelUpdateSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    displayNumber: z
      .string()
      .trim()
      .regex(/^\d{10,15}$/),
    accessToken: z.string().min(10).max(4096),
    appSecret: z.string().min(8).max(512),
    verifyToken: z.string().min(8).max(200),
    mpsLimit: z.number().int().min(1).max(1000),
    messagingLimitTier: tierSchema,
  })
  .partial()
  .strict();

export const channelSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    phoneNumberId: z.string(),
    wabaId: z.string(),
    displayNumber: z.string(),
    mpsLimit: z.number().int(),
    messagingLimitTier: tierSchema,
    messagingLimit: z.number().int().nullable().describe('Unique users per rolling 24 h; null: unlimited'),
    verifyToken: z.string().nullable().describe('Give Meta this token with the webhook URL (null for viewers: it is a credential)'),
    webhookUrl: z.string().describe('Configure this URL as the webhook callback in Meta'),
    secrets: z.object({ accessToken: z.literal('stored'), appSecret: z.literal('stored') }).describe('Secrets are write-only'),
    templatesSyncedAt: z.string().nullable(),
    createdAt: z.string(),
    links: z.object({ self: z.string(), templates: z.string(), sync: z.string() }),
  })
  .meta({ id: 'WhatsAppChannel' });

export const templateSchema = z
  .object({
    name: z.string(),
    language: z.string(),
    category: z.string(),
    status: z.string().describe('APPROVED, PENDING, REJECTED, PAUSED, DISABLED…; only APPROVED can be sent'),
    quality: z.string().nullable(),
    parameterFormat: z.string(),
    placeholders: z.array(z.string()).describe('Body placeholders a send must map, in order'),
    body: z.string().nullable(),
    usable: z.boolean(),
    syncedAt: z.string(),
  })
  .meta({ id: 'WhatsAppTemplate' });

export const channelIdParams = z.object({ id: z.uuid() });

export const webhookUrlOf = (config: Config, channelId: string) =>
  `${(config.PUBLIC_BASE_URL ?? `http://localhost:${config.API_PORT}`).replace(/\/+$/, '')}/v1/webhooks/whatsapp/${channelId}`;

export function channelToApi(row: WhatsAppChannel, config: Config, role: Role) {
  return {
    id: row.id,
    name: row.name,
    phoneNumberId: row.phone_number_id,
    wabaId: row.waba_id,
    displayNumber: row.display_number,
    mpsLimit: row.mps_limit,
    messagingLimitTier: row.messaging_limit_tier,
    messagingLimit: messagingLimitOf(row.messaging_limit_tier),
    verifyToken: role === 'viewer' ? null : row.verify_token,
    webhookUrl: webhookUrlOf(config, row.id),
    secrets: { accessToken: 'stored' as const, appSecret: 'stored' as const },
    templatesSyncedAt: row.templates_synced_at ? new Date(row.templates_synced_at).toISOString() : null,
    createdAt: new Date(row.created_at).toISOString(),
    links: {
      self: `/v1/whatsapp/channels/${row.id}`,
      templates: `/v1/whatsapp/channels/${row.id}/templates`,
      sync: `/v1/whatsapp/channels/${row.id}/templates/sync`,
    },
  };
}

export function templateToApi(row: WhatsAppTemplateRow) {
  const body = (row.components as { type?: string; text?: string }[]).find((c) => String(c.type).toUpperCase() === 'BODY');
  return {
    name: row.name,
    language: row.language,
    category: row.category,
    status: row.status,
    quality: row.quality,
    parameterFormat: row.parameter_format,
    placeholders: row.placeholders,
    body: body?.text ?? null,
    usable: row.status === 'APPROVED',
    syncedAt: new Date(row.synced_at).toISOString(),
  };
}
