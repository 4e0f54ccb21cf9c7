import { z } from 'zod';
import { reportLocaleSchema } from '../reports/schemas';
import { CALL_OUTCOMES } from '../../domain/call-outcome';
import { DIALER_CAMPAIGN_STATUSES } from '../../domain/dialer/campaign-state';
import { recurrenceSchema } from '../../domain/dialer/recurrence';
import { strategyConfigSchema } from '../../domain/dialer/strategy';
import { monitorAgentsSchema } from './monitor-agents';
import { monitorIvrSchema } from './monitor-ivr';

export { recurrenceSchema };

export const idParams = z.object({ id: z.uuid() });

export const strategyInputSchema = z.object({
  name: z.string().trim().min(1).max(120),
  /** Active telemarketing: Anatel requires a 0303 caller id. */
  telemarketing: z.boolean().default(false),
  config: strategyConfigSchema.default(() => strategyConfigSchema.parse({})),
});

export const strategySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    telemarketing: z.boolean(),
    version: z.number().int().describe('Bumped by every edit; every call attempt records the version that produced it'),
    config: z.record(z.string(), z.unknown()).describe('The full strategy, defaults filled in'),
    usedBy: z.array(z.object({ id: z.uuid(), name: z.string(), status: z.string() })),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'DialStrategy' });

export const campaignInputSchema = z.object({
  name: z.string().trim().min(1).max(120),
  groupId: z.uuid(),
  strategyId: z.uuid(),
  startAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'Starts by itself at this time (a one-action Temporal Schedule `dialer-start-<id>`; already past: at once); ' +
        'without it the campaign waits in draft for a manual start',
    ),
  endAt: z.iso.datetime({ offset: true }).optional().describe('Stops by itself at this time'),
  recurrence: recurrenceSchema.optional(),
  agentIds: z.array(z.uuid()).max(1000).default([]).describe('Agents (GET /v1/agents) who take the campaign’s answered calls'),
  wrapUpSeconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(10)
    .describe('After-call work of its agents, in seconds (0: straight back to available); an agent may end it sooner'),
});

export const headlineSchema = z.object({
  contacts: z.number().int(),
  finished: z.number().int(),
  attempts: z.number().int(),
  answered: z.number().int(),
  answerRate: z.number().nullable(),
  callsInProgress: z.number().int(),
});

export const campaignSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    groupId: z.uuid(),
    strategyId: z.uuid(),
    status: z.enum(DIALER_CAMPAIGN_STATUSES),
    waitingWindow: z.boolean().describe('Running, but outside its calling window'),
    nextWindowAt: z.string().nullable(),
    pauseReason: z.string().nullable(),
    pauseReasonText: z.string().nullable(),
    startAt: z.string().nullable(),
    endAt: z.string().nullable(),
    recurrence: recurrenceSchema.nullable(),
    cycle: z.number().int().describe('Current cycle: 0 before the first start; each recurrence occurrence begins the next'),
    nextRunAt: z.string().nullable().describe('While scheduled: when it starts (startAt) or, between cycles, when the next cycle starts'),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    archivedAt: z.string().nullable().describe('Archived: out of the list (see `?archived=true`), its group unlinked; its attempts and reports stay'),
    workflowId: z.string(),
    agentIds: z.array(z.uuid()),
    wrapUpSeconds: z.number().int(),
    headline: headlineSchema,
    links: z.object({ self: z.string(), monitor: z.string(), stream: z.string(), callsReport: z.string() }),
  })
  .meta({ id: 'DialerCampaign' });

export const monitorSchema = z
  .object({
    campaignId: z.uuid(),
    status: z.enum(DIALER_CAMPAIGN_STATUSES),
    why: z.string().nullable().describe('Why it is paused or waiting'),
    waitingWindow: z.boolean(),
    nextWindowAt: z.string().nullable(),
    cycle: z.number().int().describe('Current cycle (recurring campaigns run one per occurrence)'),
    nextRunAt: z.string().nullable().describe('Between cycles: when the next one starts'),
    contacts: z.object({
      total: z.number().int(),
      pending: z.number().int(),
      inProgress: z.number().int(),
      blocked: z.number().int(),
      exhausted: z.number().int(),
      finishedByOutcome: z.record(z.string(), z.number().int()),
    }),
    attempts: z.number().int(),
    callsInProgress: z.number().int(),
    channels: z.number().int(),
    callsPerMinute: z.number().int(),
    answerRate: z.number().nullable(),
    lineUtilisation: z.number().nullable().describe('Busy channel time ÷ channels over the last minute'),
    etaSeconds: z.number().nullable().describe('Estimated time to finish, from the last five minutes'),
    shortCalls: z
      .object({
        day: z.string().describe('Today in America/Sao_Paulo (YYYY-MM-DD)'),
        placed: z.number().int().describe('Calls the tenant placed today (all its campaigns)'),
        short: z.number().int().describe('Of them, calls of 6 s or less: answered and talked ≤ 6 s, or unanswered and over within 6 s'),
        share: z.number().nullable().describe('short ÷ placed (Anatel: at most 0.85 above 100,000 calls a day)'),
        guard: z.object({
          dailyCalls: z.number().int().describe('SHORT_CALL_GUARD_DAILY_CALLS'),
          maxShare: z.number().describe('SHORT_CALL_GUARD_MAX_SHARE'),
          over: z.boolean().describe('placed ≥ dailyCalls and share ≥ maxShare'),
        }),
      })
      .describe("The tenant's short calls today"),
    agents: monitorAgentsSchema,
    ivr: monitorIvrSchema,
    at: z.string(),
  })
  .meta({ id: 'DialerMonitor' });

export const blockListEntrySchema = z.object({ phone: z.string(), reason: z.string().nullable(), createdAt: z.string() }).meta({ id: 'BlockListEntry' });

export const outcomeSchema = z.enum(CALL_OUTCOMES);

export const reportQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  campaignId: z.uuid().optional(),
  locale: reportLocaleSchema,
});
