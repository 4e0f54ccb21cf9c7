import { z } from 'zod';

/** The outcomes the simulator can play; `answered` goes Up and talks, the rest never answer. */
export const SIM_OUTCOMES = ['answered', 'busy', 'no_answer', 'rejected', 'invalid_number', 'network_failure'] as const;
export type SimOutcome = (typeof SIM_OUTCOMES)[number];

/** The cause each outcome ends with unless a mix entry names another. */
export const defaultCauseOf: Record<SimOutcome, number> = {
  answered: 16,
  busy: 17,
  no_answer: 19,
  rejected: 21,
  invalid_number: 1,
  network_failure: 34,
};

const range = z.tuple([z.number().int().min(0), z.number().int().min(0)]).refine(([min, max]) => min <= max, 'range must be [min, max] with min <= max');

/** One weighted possibility: an outcome, a raw Q.850 cause (16 = answered), or both. */
const mixEntry = z
  .object({
    outcome: z.enum(SIM_OUTCOMES).optional(),
    cause: z.number().int().min(0).max(127).optional(),
    weight: z.number().min(0),
  })
  .refine((e) => e.outcome !== undefined || e.cause !== undefined, 'give an outcome or a cause');
export type MixEntry = z.infer<typeof mixEntry>;

const rule = z.object({
  /** Regular expression tested against the dialled number (e.g. `^55119`, `0000$`). */
  match: z.string().refine((source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression'),
  mix: z.array(mixEntry).min(1),
  /** Share (0–1) of this pattern's answered calls picked up by an answering machine. */
  machineShare: z.number().min(0).max(1).optional(),
  /** This pattern's talk time instead of the global one (e.g. a call held until hung up). */
  talkMs: range.optional(),
});
export type OutcomeRule = z.infer<typeof rule>;

/** How long each media takes to play (Asterisk plays them in order within one playback). */
const mediaTimes = z.object({
  soundMs: z.number().int().min(0),
  recordingMs: z.number().int().min(0),
  /** `digits:` per digit said. */
  digitMs: z.number().int().min(0),
  numberMs: z.number().int().min(0),
  /** Exact media URI → its duration (e.g. a long legal notice). */
  overrides: z.record(z.string(), z.number().int().min(0)),
});
export type MediaTimes = z.infer<typeof mediaTimes>;

/**
 * How the person on a number reacts to prompts (an IVR's customer). Prompts are the playbacks whose
 * media (joined by `,`) match `promptMatch`; at each prompt the person presses the next entry of
 * `keys` ('' = stays silent), `keyDelayMs` after the prompt ends (or after it starts, `bargeIn`).
 */
const keypadRule = z.object({
  /** Regular expression tested against the dialled number. */
  match: z.string().refine(isRegExp, 'not a valid regular expression'),
  keys: z.array(z.string().regex(/^[0-9A-D*#]*$/, 'keys 0-9, A-D, * and #')).default([]),
  promptMatch: z.string().refine(isRegExp, 'not a valid regular expression').default('.'),
  bargeIn: z.boolean().default(false),
  /** Hangs up halfway through the n-th playback (1 = the first). */
  hangupDuringPlayback: z.number().int().min(1).optional(),
});
export type KeypadRule = z.infer<typeof keypadRule>;

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/**
 * Agents' phones (endpoints like `PJSIP/agent-1001`): they always ring and answer after `answerMs`,
 * then hang up after `talkMs` (the agent ends the call). `endpoints` sets one agent's own times
 * (keyed by the resource, e.g. `agent-1001`); `answers: false` leaves that phone ringing until the
 * originate's timeout (an agent who walked away).
 */
const agentPhone = z.object({ answerMs: range.optional(), talkMs: range.optional(), answers: z.boolean().optional() });
const agentsConfig = z.object({
  /** Regular expression tested against the endpoint's resource: matching calls are agents' phones. */
  match: z.string().refine(isRegExp, 'not a valid regular expression'),
  answerMs: range,
  talkMs: range,
  endpoints: z.record(z.string(), agentPhone),
});
export type AgentsConfig = z.infer<typeof agentsConfig>;

const faults = z.object({
  /** Fraction of originates answered 500 without placing the call. */
  originateErrorRate: z.number().min(0).max(1),
  /** Fraction of originates that place the call and still answer 500 (the lost-response case). */
  originateLostResponseRate: z.number().min(0).max(1),
  /** Slow answers: every ARI response waits this long (the work itself is done first). */
  responseDelayMs: z.number().int().min(0),
  /** Drop every events WebSocket this often; 0 never. */
  dropWebSocketsEveryMs: z.number().int().min(0),
});
export type SimFaults = z.infer<typeof faults>;

export const simConfigSchema = z.object({
  seed: z.number().int(),
  /** Checked in order; the first rule matching the number picks the mix. */
  rules: z.array(rule),
  defaultMix: z.array(mixEntry).min(1),
  ringMs: range,
  talkMs: range,
  /** Share of answered calls that are machines, for numbers no rule matches (or rules without one). */
  machineShare: z.number().min(0).max(1),
  /** The dialplan context whose `AMD()` the simulator plays; it then re-enters `Stasis(${OMNI_APP},amd-done)`. */
  amdContext: z.string().min(1),
  /** How long AMD() listens before deciding. */
  amdMs: range,
  media: mediaTimes,
  /** Checked in order; the first rule matching the number plays that person. No rule: nobody presses anything. */
  keypad: z.array(keypadRule),
  /** After a prompt (or its start, with bargeIn), before the first key. */
  keyDelayMs: range,
  /** Between the keys of one entry. */
  interDigitMs: z.number().int().min(0),
  agents: agentsConfig,
  faults,
});
export type SimConfig = z.infer<typeof simConfigSchema>;

/** What `PUT /_sim/config` and `configure()` accept: any top-level part, faults and media field by field. */
export const simConfigPatchSchema = simConfigSchema
  .omit({ faults: true, media: true, agents: true })
  .partial()
  .extend({ faults: faults.partial().optional(), media: mediaTimes.partial().optional(), agents: agentsConfig.partial().optional() })
  .strict();
export type SimConfigPatch = z.input<typeof simConfigPatchSchema>;

export const noFaults: SimFaults = {
  originateErrorRate: 0,
  originateLostResponseRate: 0,
  responseDelayMs: 0,
  dropWebSocketsEveryMs: 0,
};

/** A plausible Brazilian outbound list, at human speed (the embedded run's default). */
export const defaultSimConfig: SimConfig = {
  seed: 1,
  rules: [],
  defaultMix: [
    { outcome: 'answered', weight: 40 },
    { outcome: 'no_answer', weight: 30 },
    { outcome: 'busy', weight: 10 },
    { outcome: 'rejected', weight: 5 },
    { outcome: 'invalid_number', weight: 10 },
    { outcome: 'network_failure', weight: 5 },
  ],
  ringMs: [3_000, 15_000],
  talkMs: [5_000, 60_000],
  machineShare: 0.15,
  amdContext: 'omni-amd',
  amdMs: [1_500, 3_500],
  media: { soundMs: 2_500, recordingMs: 5_000, digitMs: 400, numberMs: 1_200, overrides: {} },
  keypad: [],
  keyDelayMs: [800, 2_500],
  interDigitMs: 300,
  agents: { match: '^agent-', answerMs: [300, 1_500], talkMs: [30_000, 240_000], endpoints: {} },
  faults: noFaults,
};

export function mergeConfig(current: SimConfig, patch: SimConfigPatch): SimConfig {
  const checked = simConfigPatchSchema.parse(patch);
  const { faults: faultPatch, media: mediaPatch, agents: agentsPatch, ...rest } = checked;
  return {
    ...current,
    ...rest,
    faults: { ...current.faults, ...faultPatch },
    media: { ...current.media, ...mediaPatch },
    agents: { ...current.agents, ...agentsPatch },
  };
}
