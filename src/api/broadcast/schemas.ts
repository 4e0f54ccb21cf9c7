import { z } from 'zod';
import type { BroadcastCampaign, BroadcastSend } from '../../db/schema';
import { minutesOf } from '../../domain/broadcast';
import { sendWorkflowId } from '../../workflows/broadcast/messages';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM');

export const campaignCreateSchema = z.object({
  name: z.string().trim().min(1).max(120),
  channelId: z.uuid().describe('The WhatsApp channel (business number) that sends'),
  description: z.string().trim().max(1000).optional(),
});

export const variableSourceSchema = z.union([
  z.object({ column: z.string().trim().min(1).max(200).describe('A column of the group: nome, telefone, email, documento or a CSV column') }).strict(),
  z.object({ text: z.string().trim().min(1).max(1000).describe('A fixed text') }).strict(),
]);

export const missingVariablesSchema = z
  .discriminatedUnion('policy', [
    z.object({ policy: z.literal('skip') }).strict(),
    z
      .object({
        policy: z.literal('default'),
        defaults: z.record(z.string().min(1).max(100), z.string().trim().min(1).max(1000)).describe('Placeholder → the text sent when its column is empty'),
      })
      .strict(),
  ])
  .meta({ id: 'BroadcastMissingVariables' });

export const sendingWindowSchema = z
  .object({ days: z.array(z.number().int().min(0).max(6)).min(1).describe('0 = Sunday … 6 = Saturday'), from: hhmm, to: hhmm.describe('HH:MM, after `from`') })
  .refine((w) => minutesOf(w.from) < minutesOf(w.to), { message: 'from must be before to', path: ['to'] });

export const sendCreateSchema = z.object({
  groupId: z.uuid().describe('A broadcast contact group, active and not linked to a campaign'),
  template: z.object({ name: z.string().min(1).max(512), language: z.string().min(2).max(15).default('pt_BR') }),
  variables: z
    .record(z.string().min(1).max(100), variableSourceSchema)
    .default({})
    .describe('Every template placeholder ("1", "2"… or the names of a NAMED template) → a column or a fixed text'),
  missingVariables: missingVariablesSchema
    .default({ policy: 'skip' })
    .describe(
      'A contact whose mapped column is empty for a placeholder: `skip` it (reason missing_variable, the default) ' +
        'or send `default` texts (every placeholder mapped to a column needs one; 422 MISSING_VARIABLE_DEFAULT_REQUIRED / MISSING_VARIABLE_DEFAULT_UNKNOWN)',
    ),
  startAt: z.iso.datetime({ offset: true }).optional().describe('Scheduled start; absent: start now'),
  sendingHours: z.array(sendingWindowSchema).max(21).optional().describe('When messages may go out (America/Sao_Paulo); outside them the send waits'),
  paceMps: z.number().int().min(1).max(1000).optional().describe("Messages per second; default and maximum: the channel's limit"),
  gradual: z
    .object({ percent: z.number().int().min(1).max(100), everyMinutes: z.number().int().min(1).max(1440) })
    .optional()
    .describe('Release only this share of the group every N minutes'),
});

export const sendEditSchema = z
  .object({
    template: z.object({ name: z.string().min(1).max(512), language: z.string().min(2).max(15).default('pt_BR') }),
    variables: sendCreateSchema.shape.variables.unwrap().describe('The whole mapping, checked against the (new) template'),
    missingVariables: missingVariablesSchema.describe('What to do with a contact whose mapped column is empty (checked against the mapping)'),
    startAt: z.iso.datetime({ offset: true }).nullable().describe('New scheduled start; null: start now'),
    sendingHours: z.array(sendingWindowSchema).max(21).nullable().describe('New sending hours; null: any time'),
    paceMps: z.number().int().min(1).max(1000),
    gradual: sendCreateSchema.shape.gradual.unwrap().nullable().describe('New gradual release; null: all at once'),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'Give at least one setting to change' });

export const sendStatusSchema = z.enum(['scheduled', 'running', 'paused', 'waiting', 'completed', 'stopped']);

export const campaignSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    channelId: z.uuid(),
    description: z.string().nullable(),
    createdAt: z.string(),
    archivedAt: z.string().nullable().describe('Archived: out of the list (see `?archived=true`), its groups unlinked; its sends and reports stay'),
    links: z.object({ self: z.string(), sends: z.string(), monitor: z.string(), consolidatedReport: z.string() }),
  })
  .meta({ id: 'BroadcastCampaign' });

export const sendSchema = z
  .object({
    id: z.uuid(),
    campaignId: z.uuid(),
    groupId: z.uuid(),
    template: z.object({ name: z.string(), language: z.string() }),
    variables: z.record(z.string(), variableSourceSchema),
    missingVariables: missingVariablesSchema,
    startAt: z.string().nullable(),
    sendingHours: z.array(sendingWindowSchema).nullable(),
    paceMps: z.number().int(),
    gradual: z.object({ percent: z.number(), everyMinutes: z.number() }).nullable(),
    status: sendStatusSchema,
    statusReason: z
      .string()
      .nullable()
      .describe('Why it is paused, waiting or stopped (e.g. manual:…, access_token_invalid, template_paused, outside_sending_hours, waiting_messaging_limit)'),
    statusUntil: z.string().nullable().describe('While waiting: when it expects to go on (sending hours open, messaging-limit capacity frees)'),
    totalContacts: z.number().int(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    workflowId: z.string(),
    links: z.object({ self: z.string(), monitor: z.string(), stream: z.string(), detailedReport: z.string(), consolidatedReport: z.string() }),
  })
  .meta({ id: 'BroadcastSend' });

export const totalsSchema = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  sending: z.number().int(),
  accepted: z.number().int(),
  sent: z.number().int(),
  delivered: z.number().int(),
  read: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  unknown: z.number().int(),
  failedByCode: z.array(z.object({ code: z.number().int().nullable(), title: z.string().nullable(), count: z.number().int() })),
  skippedByReason: z.record(z.string(), z.number().int()),
  missingVariables: z
    .object({
      skipped: z.number().int().describe('Contacts skipped (reason missing_variable)'),
      defaulted: z.number().int().describe('Messages sent with a default text for at least one placeholder'),
      byPlaceholder: z.record(z.string(), z.number().int()).describe('How many messages had no value for each placeholder'),
    })
    .describe('Contacts whose mapped column was empty for a placeholder'),
});

export const monitorSchema = z
  .object({
    state: z.string(),
    reason: z.string().nullable(),
    until: z.string().nullable().describe('While waiting: when it expects to go on'),
    totals: totalsSchema,
    rates: z.object({ delivery: z.number(), read: z.number(), failure: z.number() }).describe('Shares of the messages handed to WhatsApp'),
    currentMps: z.number().describe('Messages accepted per second over the last 10 s'),
    etaSeconds: z.number().nullable(),
    sends: z.array(z.object({ id: z.uuid(), status: sendStatusSchema, reason: z.string().nullable() })).optional(),
    at: z.string(),
  })
  .meta({ id: 'BroadcastMonitor' });

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function campaignToApi(row: BroadcastCampaign) {
  return {
    id: row.id,
    name: row.name,
    channelId: row.channel_id,
    description: row.description,
    createdAt: new Date(row.created_at).toISOString(),
    archivedAt: row.archived_at ? new Date(row.archived_at).toISOString() : null,
    links: {
      self: `/v1/broadcast/campaigns/${row.id}`,
      sends: `/v1/broadcast/campaigns/${row.id}/sends`,
      monitor: `/v1/broadcast/campaigns/${row.id}/monitor`,
      consolidatedReport: `/v1/broadcast/campaigns/${row.id}/reports/consolidado.csv`,
    },
  };
}

export function sendToApi(row: BroadcastSend) {
  return {
    id: row.id,
    campaignId: row.campaign_id,
    groupId: row.group_id,
    template: { name: row.template_name, language: row.template_language },
    variables: row.variables,
    missingVariables: row.missing_variables,
    startAt: iso(row.start_at),
    sendingHours: (row.sending_hours as z.infer<typeof sendingWindowSchema>[] | null) ?? null,
    paceMps: row.pace_mps,
    gradual: row.gradual ?? null,
    status: row.status,
    statusReason: row.status_reason,
    statusUntil: row.status === 'waiting' ? iso(row.status_until) : null,
    totalContacts: row.total_contacts,
    createdAt: new Date(row.created_at).toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    workflowId: sendWorkflowId(row.id),
    links: {
      self: `/v1/broadcast/sends/${row.id}`,
      monitor: `/v1/broadcast/sends/${row.id}/monitor`,
      stream: `/v1/broadcast/sends/${row.id}/monitor/stream`,
      detailedReport: `/v1/broadcast/sends/${row.id}/reports/detalhado.csv`,
      consolidatedReport: `/v1/broadcast/sends/${row.id}/reports/consolidado.csv`,
    },
  };
}

export const idParams = z.object({ id: z.uuid() });
