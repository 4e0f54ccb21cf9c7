import { z } from 'zod';

/** Where an injected error surfaces: in the send answer, or later as a `failed` status webhook. */
export type InjectionStage = 'send' | 'status';

export interface ErrorInjection {
  /** Regular expression (source) tested against the recipient's digits. */
  pattern: string;
  /** Any code of shared/whatsapp-errors.md. */
  code: number;
  /** Share of matching messages hit, 0..1 (default 1). */
  fraction?: number;
  /** Hit at most this many times (counted since the injections were last set), then let through. */
  times?: number;
  /** Default `send`. With `status` the message is accepted, then `sent`, then `failed` with errors[]. */
  stage?: InjectionStage;
}

export interface WebhookBehaviour {
  /** Where statuses and inbound messages are POSTed; none means they are counted and dropped. */
  url?: string;
  /**
   * Meta's per-number override of the callback URL (`webhook_configuration.override_callback_uri`
   * of a business phone number): that number's webhooks go there instead of `url`.
   */
  urlByPhoneNumberId: Record<string, string>;
  /** Delays after acceptance, in ms, of each status (their timestamps follow the same order). */
  sentDelayMs: number;
  deliveredDelayMs: number;
  readDelayMs: number;
  /** Share of delivered messages that are also read. */
  readFraction: number;
  /** Share of messages whose `delivered` is never sent (Meta may skip it). */
  skipDeliveredFraction: number;
  /** Share of status events sent twice. */
  duplicateFraction: number;
  /** Share of messages whose statuses are dispatched in reverse order (timestamps stay true). */
  outOfOrderFraction: number;
  /** Most status events in one POST. */
  batchSize: number;
  /** How long a partial batch may wait before it is posted. */
  flushIntervalMs: number;
  /** POSTs in flight at once. 1 keeps arrival order equal to dispatch order. */
  concurrency: number;
  /** Tries per POST (non-200 or network error), with exponential backoff, then dropped. */
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
}

export interface SimulatorConfig {
  /** Bearer token the Graph endpoints accept. */
  accessToken: string;
  /** Key of the X-Hub-Signature-256 HMAC on outgoing webhooks. */
  appSecret: string;
  /** The business account: the webhook entry id; `message_templates` of another id answer 100. */
  wabaId: string;
  /** Default messages per second per phone number id (Meta: 80, up to 1,000). */
  mps: number;
  mpsByPhoneNumberId: Record<string, number>;
  /** Least time between two accepted messages to the same recipient; 0 disables (131056). */
  pairWindowMs: number;
  injections: ErrorInjection[];
  /** Share of all sends refused with one of `codes`, picked at random. */
  transient: { fraction: number; codes: number[] };
  /** Share of accepted sends whose answer is lost (connection dropped): accepted, webhooks follow. */
  lostAnswerFraction: number;
  /** Share of accepted sends answered `held_for_quality_assessment` instead of `accepted`. */
  heldForQualityFraction: number;
  /** Regular expressions: recipients matching get a wa_id without the ninth digit (Brazil). */
  waIdWithoutNinthDigit: string[];
  /** `metadata.display_phone_number` per phone number id (a default otherwise). */
  displayPhoneNumbers: Record<string, string>;
  /**
   * The business numbers registered to the WABA (id → verified name): what `GET /{waba-id}/phone_numbers`
   * lists and `GET /{phone-number-id}` reads. Sends from any id are still accepted (load tests).
   */
  phoneNumbers: Record<string, string>;
  webhook: WebhookBehaviour;
}

/** The number every simulator starts with (the embedded stack's channel uses it). */
export const SEEDED_PHONE_NUMBER_ID = '106540352242922';

export function defaultConfig(): SimulatorConfig {
  return {
    accessToken: 'sim-access-token',
    appSecret: 'sim-app-secret',
    wabaId: '102290129340398',
    mps: 80,
    mpsByPhoneNumberId: {},
    pairWindowMs: 6_000,
    injections: [],
    transient: { fraction: 0, codes: [131000, 130429] },
    lostAnswerFraction: 0,
    heldForQualityFraction: 0,
    waIdWithoutNinthDigit: [],
    displayPhoneNumbers: {},
    phoneNumbers: { [SEEDED_PHONE_NUMBER_ID]: 'Omni Simulador' },
    webhook: {
      urlByPhoneNumberId: {},
      sentDelayMs: 0,
      deliveredDelayMs: 50,
      readDelayMs: 100,
      readFraction: 1,
      skipDeliveredFraction: 0,
      duplicateFraction: 0,
      outOfOrderFraction: 0,
      batchSize: 200,
      flushIntervalMs: 10,
      concurrency: 4,
      maxAttempts: 5,
      retryBaseMs: 200,
      timeoutMs: 5_000,
    },
  };
}

const share = z.number().min(0).max(1);
const regex = z.string().refine(isRegex, 'not a valid regular expression');

const injectionSchema = z.object({
  pattern: regex,
  code: z.number().int().min(0),
  fraction: share.optional(),
  times: z.number().int().min(0).optional(),
  stage: z.enum(['send', 'status']).optional(),
});

/** What `PUT /_sim/config` and `configure()` accept: any subset, `webhook` and `transient` merged. */
export const configUpdateSchema = z.strictObject({
  accessToken: z.string().min(1).optional(),
  appSecret: z.string().min(1).optional(),
  wabaId: z.string().min(1).optional(),
  mps: z.number().positive().optional(),
  mpsByPhoneNumberId: z.record(z.string(), z.number().positive()).optional(),
  pairWindowMs: z.number().int().min(0).optional(),
  injections: z.array(injectionSchema).optional(),
  transient: z.object({ fraction: share.optional(), codes: z.array(z.number().int()).min(1).optional() }).optional(),
  lostAnswerFraction: share.optional(),
  heldForQualityFraction: share.optional(),
  waIdWithoutNinthDigit: z.array(regex).optional(),
  displayPhoneNumbers: z.record(z.string(), z.string()).optional(),
  /** Merged into the WABA's numbers; a name of null removes the number. */
  phoneNumbers: z.record(z.string(), z.string().nullable()).optional(),
  webhook: z
    .strictObject({
      url: z.url().nullable().optional(),
      /** Replaces the overrides as a whole; `{}` removes them. */
      urlByPhoneNumberId: z.record(z.string(), z.url()).optional(),
      sentDelayMs: z.number().min(0).optional(),
      deliveredDelayMs: z.number().min(0).optional(),
      readDelayMs: z.number().min(0).optional(),
      readFraction: share.optional(),
      skipDeliveredFraction: share.optional(),
      duplicateFraction: share.optional(),
      outOfOrderFraction: share.optional(),
      batchSize: z.number().int().min(1).max(10_000).optional(),
      flushIntervalMs: z.number().min(0).optional(),
      concurrency: z.number().int().min(1).max(256).optional(),
      maxAttempts: z.number().int().min(1).max(100).optional(),
      retryBaseMs: z.number().min(0).optional(),
      timeoutMs: z.number().min(1).optional(),
    })
    .optional(),
});

export type ConfigUpdate = z.input<typeof configUpdateSchema>;

/** Validates an update (throws a ZodError) and returns the merged configuration. */
export function mergeConfig(current: SimulatorConfig, update: unknown): SimulatorConfig {
  const parsed = configUpdateSchema.parse(update);
  const { webhook, transient, phoneNumbers, ...flat } = parsed;
  const defined = Object.fromEntries(Object.entries(flat).filter(([, value]) => value !== undefined));
  const numbers = { ...current.phoneNumbers };
  for (const [id, name] of Object.entries(phoneNumbers ?? {})) {
    if (name === null) delete numbers[id];
    else numbers[id] = name;
  }
  const merged: SimulatorConfig = {
    ...current,
    ...defined,
    phoneNumbers: numbers,
    transient: { ...current.transient, ...withoutUndefined(transient ?? {}) },
    webhook: { ...current.webhook, ...withoutUndefined({ ...webhook, url: undefined }) },
  };
  // `url: null` removes the webhook URL; absent keeps it.
  if (webhook && 'url' in webhook) merged.webhook.url = webhook.url ?? undefined;
  return merged;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}

function isRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
