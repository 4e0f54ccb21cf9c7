import { z } from 'zod';
import type { InteractionEvent, InteractionRow } from '../../db/schema';
import { pageQuerySchema } from '../pagination';

export const interactionChannelSchema = z.enum(['voice', 'whatsapp', 'mercadolivre']);

const eventSchema = z.object({
  at: z.string().describe('ISO 8601'),
  type: z.string().describe('e.g. dialing, answered, ended, accepted, sent, delivered, read, failed, received, opt_out, dtmf…'),
  key: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});

export const interactionSchema = z
  .object({
    id: z.string().describe('Stable id'),
    channel: interactionChannelSchema,
    direction: z.enum(['outbound', 'inbound']),
    kind: z.string().describe('call, template_message, reply, question, answer, message…'),
    sourceKey: z.string().describe("The event's own business key (attempt key, message key, wamid, Mercado Livre id)"),
    phone: z.string().nullable(),
    companyContactId: z.string().nullable(),
    contactId: z.number().int().nullable().describe('The campaign group contact it came from'),
    mlBuyerId: z.string().nullable(),
    campaignId: z.string().nullable(),
    sendId: z.string().nullable(),
    mlAccountId: z.string().nullable(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    durationSeconds: z.number().nullable(),
    outcome: z.string().nullable(),
    handledBy: z.object({ kind: z.enum(['agent', 'rule', 'system', 'user']), id: z.string().nullable() }).nullable(),
    details: z.record(z.string(), z.unknown()),
    events: z.array(eventSchema).describe('In time order'),
  })
  .meta({ id: 'Interaction' });

const isoDate = z.iso.datetime({ offset: true });

export const interactionFilterSchema = z.object({
  phone: z.string().max(40).optional().describe('Any form (with or without 55, the ninth digit, punctuation)'),
  companyContactId: z.uuid().optional(),
  channel: interactionChannelSchema.optional(),
  direction: z.enum(['outbound', 'inbound']).optional(),
  campaignId: z.uuid().optional(),
  sendId: z.uuid().optional(),
  agentId: z.string().max(100).optional(),
  mlBuyerId: z.string().max(100).optional(),
  outcome: z.string().max(60).optional(),
  from: isoDate.optional().describe('Started at or after (inclusive)'),
  to: isoDate.optional().describe('Started before (exclusive)'),
});

export const interactionListQuery = pageQuerySchema
  .extend(interactionFilterSchema.shape)
  .refine((v) => !v.from || !v.to || new Date(v.from) < new Date(v.to), { message: 'must be after from', path: ['to'] });

export const interactionIdParams = z.object({ id: z.string().regex(/^\d{1,18}$/, 'an interaction id (digits)') });

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/**
 * Where a step comes in its lifecycle. WhatsApp's status times are whole seconds while our own
 * (`accepted`) have milliseconds, so within one second the lifecycle decides.
 */
const LIFECYCLE: Record<string, number> = { dialing: 0, accepted: 0, received: 0, answered: 1, sent: 1, amd: 2, delivered: 2, read: 3, failed: 4, ended: 99 };

/** Events in time order (see LIFECYCLE); equal times keep the order they were written in. */
export const eventsInOrder = (events: InteractionEvent[]) =>
  events
    .map((e, i) => ({ e, i, t: Date.parse(e.at), rank: LIFECYCLE[e.type] ?? 50 }))
    .sort((a, b) => Math.floor(a.t / 1000) - Math.floor(b.t / 1000) || a.rank - b.rank || a.t - b.t || a.i - b.i)
    .map(({ e }) => e);

export function interactionToApi(row: InteractionRow): z.infer<typeof interactionSchema> {
  const started = new Date(row.started_at);
  return {
    id: String(row.id),
    channel: row.channel,
    direction: row.direction,
    kind: row.kind,
    sourceKey: row.source_key,
    phone: row.phone,
    companyContactId: row.company_contact_id,
    contactId: row.contact_id === null ? null : Number(row.contact_id),
    mlBuyerId: row.ml_buyer_id,
    campaignId: row.campaign_id,
    sendId: row.send_id,
    mlAccountId: row.ml_account_id,
    startedAt: started.toISOString(),
    endedAt: iso(row.ended_at),
    durationSeconds: row.ended_at ? Math.max(0, (new Date(row.ended_at).getTime() - started.getTime()) / 1000) : null,
    outcome: row.outcome,
    handledBy: row.handled_by_kind ? { kind: row.handled_by_kind, id: row.handled_by_id } : null,
    details: row.details,
    events: eventsInOrder(row.events),
  };
}
