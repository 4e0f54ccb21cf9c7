import { z } from 'zod';
import { CALL_OUTCOMES, type CallOutcome } from '../call-outcome';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_CALLING_WINDOW,
  DEFAULT_OUTCOME_ACTIONS,
  DEFAULT_PACING,
  DEFAULT_PHONE_ORDER,
  DEFAULT_RING_TIMEOUT_SEC,
} from './strategy-defaults';

export { DEFAULT_OUTCOME_ACTIONS } from './strategy-defaults';

/**
 * A dialing strategy (Estratégia de Discagem): attempts, what each outcome does ("Tentativa x
 * Status"), phone order, calling windows, pacing and call settings. Pure: the API validates with
 * it, activities apply it.
 */

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'time as HH:MM (00:00–24:00)')
  .describe('Local time, HH:MM');

export const timeRangeSchema = z
  .object({ from: hhmm, to: hhmm })
  .refine((r) => r.from !== r.to, 'from and to must differ')
  .describe('A time range; when `to` is earlier than `from` it ends the next day (across midnight)');
export type TimeRange = z.infer<typeof timeRangeSchema>;

/** 0 = Sunday … 6 = Saturday (JavaScript's getDay). */
const weekday = z.number().int().min(0).max(6);

export const callingWindowSchema = z.object({
  timeZone: z.string().default(DEFAULT_CALLING_WINDOW.timeZone).refine(isTimeZone, 'not an IANA time zone (e.g. America/Sao_Paulo)'),
  days: z.array(weekday).min(1).default(DEFAULT_CALLING_WINDOW.days).describe('Days of week a range may start on: 0 = Sunday … 6 = Saturday'),
  ranges: z.array(timeRangeSchema).min(1).default(DEFAULT_CALLING_WINDOW.ranges),
  excludeHolidays: z.boolean().default(DEFAULT_CALLING_WINDOW.excludeHolidays).describe('No calls on national holidays (date-holidays, Brazil)'),
  stateTelemarketingHours: z
    .boolean()
    .default(DEFAULT_CALLING_WINDOW.stateTelemarketingHours)
    .describe('Also apply the stricter state telemarketing hours by the phone\'s DDD ("Perfil de DDD")'),
});
export type CallingWindow = z.infer<typeof callingWindowSchema>;

export const outcomeActionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('finish') }),
  z.object({
    action: z.literal('retry'),
    afterMinutes: z
      .number()
      .min(0)
      .max(60 * 24 * 30),
  }),
]);
export type OutcomeAction = z.infer<typeof outcomeActionSchema>;

/** Outcomes a strategy decides on; `blocked` never reaches a call. */
export const STRATEGY_OUTCOMES = CALL_OUTCOMES.filter((o) => o !== 'blocked') as Exclude<CallOutcome, 'blocked'>[];

/** An abandoned customer is never called again within the same hour. */
export const ABANDONED_MIN_RETRY_MINUTES = 60;

const outcomesSchema = z
  .object(
    Object.fromEntries(STRATEGY_OUTCOMES.map((o) => [o, outcomeActionSchema.optional()])) as Record<
      Exclude<CallOutcome, 'blocked'>,
      z.ZodOptional<typeof outcomeActionSchema>
    >,
  )
  .default({})
  .transform(
    (given) =>
      ({ ...DEFAULT_OUTCOME_ACTIONS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v)) }) as Record<
        Exclude<CallOutcome, 'blocked'>,
        OutcomeAction
      >,
  )
  .refine((o) => o.abandoned.action !== 'retry' || o.abandoned.afterMinutes >= ABANDONED_MIN_RETRY_MINUTES, {
    message: `an abandoned call is retried after ${ABANDONED_MIN_RETRY_MINUTES} minutes or more (never within the same hour)`,
    path: ['abandoned', 'afterMinutes'],
  });

/**
 * What an answered call does: `hangup` (the call is counted and ended, as before IVR flows), `agent`
 * (connected to a free agent of the campaign, see `agentConnect`) or run an IVR flow of the tenant's
 * (URA ativa). Answering-machine detection, when on, runs first: machines are never connected.
 */
export const answeredCallSchema = z
  .union([z.literal('hangup'), z.literal('agent'), z.object({ ivrFlowId: z.uuid().describe('An IVR flow of the tenant (`/v1/dialer/ivr-flows`)') })])
  .describe(
    '`"hangup"` (default), `"agent"` (the customer is bridged to a free agent of the campaign, or hears `agentConnect.abandonMessage`) or `{ "ivrFlowId": … }`: the answered call runs that IVR flow',
  );
export type AnsweredCall = z.infer<typeof answeredCallSchema>;

/** A `sound:` media URI (Asterisk's sounds, e.g. `sound:custom/sem-agente`). */
const soundUri = z
  .string()
  .regex(/^sound:[A-Za-z0-9_\-/.]{1,200}$/, 'a sound: media URI, e.g. sound:custom/sem-agente')
  .refine((s) => !s.includes('..'), 'a sound: media URI without ..');

/** How an answered call is handed to an agent (`answeredCall: "agent"`, and an IVR's `transfer_agent`). */
export const agentConnectSchema = z
  .object({
    abandonAfterSeconds: z
      .number()
      .min(0.5)
      .max(30)
      .default(2)
      .describe('How long an answered customer may wait for a free agent before hearing `abandonMessage` and being hung up (outcome `abandoned`)'),
    abandonMessage: soundUri
      .default('sound:custom/omni-sem-agente')
      .describe('What a customer who found no agent hears before the call ends (`sound:` URI): nobody waits in silence'),
  })
  .default({ abandonAfterSeconds: 2, abandonMessage: 'sound:custom/omni-sem-agente' })
  .describe('Connecting answered calls to agents: the abandon timer and message');
export type AgentConnectSettings = z.infer<typeof agentConnectSchema>;

/** The IVR flow an answered call runs, if any. */
export const ivrFlowOf = (config: Pick<StrategyConfig, 'answeredCall'>): string | undefined =>
  typeof config.answeredCall === 'object' ? config.answeredCall.ivrFlowId : undefined;

/** Whether an answered call goes straight to an agent. */
export const connectsToAgent = (config: Pick<StrategyConfig, 'answeredCall'>): boolean => config.answeredCall === 'agent';

/** How a campaign paces its calls (README, "Dialing modes"). */
export const PACING_MODES = ['power', 'progressive', 'predictive'] as const;
export type PacingMode = (typeof PACING_MODES)[number];

export const strategyConfigSchema = z.object({
  maxAttemptsPerContact: z.number().int().min(1).max(50).default(DEFAULT_ATTEMPTS.maxAttemptsPerContact),
  maxAttemptsPerPhone: z.number().int().min(1).max(50).default(DEFAULT_ATTEMPTS.maxAttemptsPerPhone),
  outcomes: outcomesSchema,
  phoneOrder: z
    .object({
      /** Positions in the contact's phone list (0 = first phone column), in dialling order. */
      columns: z.array(z.number().int().min(0).max(9)).min(1).default(DEFAULT_PHONE_ORDER.columns),
      nextPhoneAfterFailure: z.boolean().default(DEFAULT_PHONE_ORDER.nextPhoneAfterFailure),
    })
    .default(DEFAULT_PHONE_ORDER),
  callingWindow: callingWindowSchema.default(() => callingWindowSchema.parse({})),
  pacing: z
    .object({
      mode: z
        .enum(PACING_MODES)
        .default(DEFAULT_PACING.mode)
        .describe(
          '`power`: fixed channels and calls per second; `progressive`: available agents × ratio; `predictive`: adaptive dial level under an abandon target',
        ),
      channels: z.number().int().min(1).max(1000).default(DEFAULT_PACING.channels).describe('Maximum simultaneous calls (every mode)'),
      callsPerSecond: z.number().min(0.1).max(200).default(DEFAULT_PACING.callsPerSecond).describe('Maximum new calls per second (every mode)'),
      ratio: z.number().min(1).max(3).default(DEFAULT_PACING.ratio).describe('`progressive`: calls not yet connected per available agent'),
      abandonTargetPercent: z
        .number()
        .min(0)
        .max(100)
        .default(DEFAULT_PACING.abandonTargetPercent)
        .describe('`predictive`: abandoned ÷ answered calls to stay under, in percent'),
      maxDialLevel: z.number().min(1).max(3).default(DEFAULT_PACING.maxDialLevel).describe('`predictive`: most calls ringing per agent expected free'),
      serviceLevel: z
        .object({
          waitMs: z.number().int().min(50).max(10_000),
          maxSharePercent: z.number().min(0).max(100),
        })
        .optional()
        .describe(
          '`predictive`, optional (off when absent): the dial level also falls while more than `maxSharePercent` of the bridged calls of the last minute waited longer than `waitMs` for an agent',
        ),
    })
    .default(() => ({ ...DEFAULT_PACING })),
  ringTimeoutSec: z.number().int().min(5).max(120).default(DEFAULT_RING_TIMEOUT_SEC),
  callerId: z
    .string()
    .regex(/^\d{4,16}$/, 'digits only')
    .optional(),
  answeringMachineDetection: z.boolean().default(false),
  answeredCall: answeredCallSchema.default('hangup'),
  agentConnect: agentConnectSchema,
  /** Auto-pause: when more than `ratio` of the last `window` attempts are network failures. */
  failurePause: z
    .object({ window: z.number().int().min(5).max(1000).default(20), ratio: z.number().min(0.1).max(1).default(0.5) })
    .default({ window: 20, ratio: 0.5 }),
});
export type StrategyConfig = z.infer<typeof strategyConfigSchema>;
export type StrategyConfigInput = z.input<typeof strategyConfigSchema>;

export const defaultStrategyConfig = (): StrategyConfig => strategyConfigSchema.parse({});

/** Why a strategy cannot be saved (422), beyond its shape. */
export interface StrategyProblem {
  code: 'CALLER_ID_0303_REQUIRED';
  message: string;
}

/**
 * Anatel (Ato 10.413/2021): active telemarketing must show a 0303 caller id.
 * Returns the problem, or undefined when the strategy may be saved.
 */
export function checkStrategy(config: StrategyConfig, telemarketing: boolean): StrategyProblem | undefined {
  if (telemarketing && !(config.callerId ?? '').startsWith('0303')) {
    return {
      code: 'CALLER_ID_0303_REQUIRED',
      message: 'A telemarketing strategy must use a caller id starting with 0303 (Anatel, Ato 10.413/2021).',
    };
  }
  return undefined;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
