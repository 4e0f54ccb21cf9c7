import { randomSlice } from './random-pool';
import { bodyVariables, isNamed, type WhatsAppTemplate } from './contract';
import type { ErrorInjection, SimulatorConfig } from './config';
import { graphErrorBody } from './graph-errors';
import { recipientDigits, waIdFor } from './numbers';
import type { PairLimiter, ThroughputLimiter } from './rate-limits';
import type { SendStats } from './stats';
import { planStatuses, type AcceptedMessage } from './status-plan';
import type { TemplateStore } from './template-store';
import type { WebhookDispatcher } from './webhook-dispatcher';

export interface SendOutcome {
  httpStatus: number;
  body: unknown;
  /** Accepted, but the connection is to be dropped instead of answered (a lost answer). */
  dropAnswer?: boolean;
}

/** Config with its regular expressions compiled once per change, not per request. */
export interface CompiledConfig {
  config: SimulatorConfig;
  injections: { pattern: RegExp; injection: ErrorInjection }[];
  waIdWithoutNinthDigit: RegExp[];
}

export function compileConfig(config: SimulatorConfig): CompiledConfig {
  return {
    config,
    injections: config.injections.map((injection) => ({ pattern: new RegExp(injection.pattern), injection })),
    waIdWithoutNinthDigit: config.waIdWithoutNinthDigit.map((source) => new RegExp(source)),
  };
}

export interface SendDependencies {
  compiled: () => CompiledConfig;
  templates: TemplateStore;
  throughput: ThroughputLimiter;
  pairs: PairLimiter;
  stats: SendStats;
  webhooks: WebhookDispatcher;
  now: () => number;
  random: () => number;
}

interface SendRequest {
  messaging_product?: unknown;
  to?: unknown;
  type?: unknown;
  biz_opaque_callback_data?: unknown;
  template?: { name?: unknown; language?: { code?: unknown }; components?: unknown };
}

class Refusal {
  constructor(
    readonly code: number,
    readonly details?: string,
  ) {}
}

let sequence = 0;

/**
 * `POST /{version}/{phone-number-id}/messages` for template messages, checked in the order the
 * contract implies: request shape, throughput, transient faults, template, parameters, injected
 * errors, pair limit. Synchronous from check to record, so concurrent requests cannot overshoot
 * a limit.
 */
export function createSendHandler(deps: SendDependencies) {
  return function handleSend(phoneNumberId: string, request: SendRequest | undefined): SendOutcome {
    deps.stats.requests++;
    try {
      return accept(phoneNumberId, request ?? {});
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      deps.stats.refused(error.code);
      return graphErrorBody(error.code, error.details);
    }
  };

  function accept(phoneNumberId: string, request: SendRequest): SendOutcome {
    const compiled = deps.compiled();
    const { config } = compiled;
    const now = deps.now();

    if (request.messaging_product !== 'whatsapp') throw new Refusal(100, 'The parameter messaging_product is required.');
    const to = recipientDigits(request.to);
    if (!to) throw new Refusal(100, 'The parameter to must be a phone number with country code.');
    if (request.type === 'text') throw new Refusal(131047, 'Free-form messages need a reply in the last 24 hours; use a template.');
    if (request.type !== 'template') throw new Refusal(131051, `Message type ${String(request.type)} is not supported here.`);
    const name = request.template?.name;
    const language = request.template?.language?.code;
    if (typeof name !== 'string' || typeof language !== 'string') {
      throw new Refusal(131008, 'template.name and template.language.code are required.');
    }
    const callbackData = request.biz_opaque_callback_data;
    if (callbackData !== undefined && (typeof callbackData !== 'string' || callbackData.length > 512)) {
      throw new Refusal(100, 'biz_opaque_callback_data must be a string of at most 512 characters.');
    }

    const limit = config.mpsByPhoneNumberId[phoneNumberId] ?? config.mps;
    if (!deps.throughput.hasRoom(phoneNumberId, now, limit)) throw new Refusal(130429);
    if (config.transient.fraction > 0 && deps.random() < config.transient.fraction) {
      const codes = config.transient.codes;
      throw new Refusal(codes[Math.floor(deps.random() * codes.length)] ?? 131000);
    }

    const template = deps.templates.find(name, language);
    checkTemplate(template, name, language);
    checkParameters(template!, request.template?.components);

    const injected = injectionFor(compiled, to);
    if (injected && (injected.stage ?? 'send') === 'send') throw new Refusal(injected.code);
    if (!deps.pairs.allows(phoneNumberId, to, now, config.pairWindowMs)) throw new Refusal(131056);

    deps.throughput.record(phoneNumberId, now);
    deps.pairs.record(phoneNumberId, to, now, config.pairWindowMs);
    deps.stats.recordAccepted(to, callbackData);

    const waId = waIdFor(to, compiled.waIdWithoutNinthDigit);
    const message: AcceptedMessage = {
      wamid: newWamid(waId),
      phoneNumberId,
      waId,
      category: template!.category,
      callbackData,
      acceptedAt: Date.now(),
      failureCode: injected?.stage === 'status' ? injected.code : undefined,
    };
    for (const planned of planStatuses(message, config.webhook, deps.random)) {
      deps.webhooks.schedule(planned.at, phoneNumberId, planned.status);
    }

    const held = config.heldForQualityFraction > 0 && deps.random() < config.heldForQualityFraction;
    const dropAnswer = config.lostAnswerFraction > 0 && deps.random() < config.lostAnswerFraction;
    if (dropAnswer) deps.stats.lostAnswers++;
    return {
      httpStatus: 200,
      dropAnswer,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: String(request.to), wa_id: waId }],
        messages: [{ id: message.wamid, message_status: held ? 'held_for_quality_assessment' : 'accepted' }],
      },
    };
  }

  /** The first matching injection that fires (fraction, remaining `times`), counting its hit. */
  function injectionFor(compiled: CompiledConfig, to: string): ErrorInjection | undefined {
    for (const [index, { pattern, injection }] of compiled.injections.entries()) {
      if (!pattern.test(to)) continue;
      const hits = deps.stats.injectionHits[index] ?? 0;
      if (injection.times !== undefined && hits >= injection.times) continue;
      if (injection.fraction !== undefined && deps.random() >= injection.fraction) continue;
      deps.stats.injectionHits[index] = hits + 1;
      return injection;
    }
    return undefined;
  }
}

function checkTemplate(template: WhatsAppTemplate | undefined, name: string, language: string): void {
  // Meta answers 132001 for any template that is not an approved translation (missing, pending, rejected).
  const missing = `template name (${name}) does not exist in ${language}`;
  if (!template) throw new Refusal(132001, missing);
  if (template.status === 'PAUSED') throw new Refusal(132015, `Template ${name} is paused because of low quality.`);
  if (template.status === 'DISABLED') throw new Refusal(132016, `Template ${name} has been disabled because of low quality.`);
  if (template.status !== 'APPROVED') throw new Refusal(132001, missing);
}

/** A template's placeholders, worked out once per template version (templates are replaced, not mutated). */
const placeholdersOf = new WeakMap<WhatsAppTemplate, string[]>();

function checkParameters(template: WhatsAppTemplate, components: unknown): void {
  let expected = placeholdersOf.get(template);
  if (!expected) placeholdersOf.set(template, (expected = bodyVariables(template)));
  const body = Array.isArray(components)
    ? (components as { type?: unknown; parameters?: unknown }[]).find((component) => String(component?.type).toLowerCase() === 'body')
    : undefined;
  const given = Array.isArray(body?.parameters) ? (body.parameters as { parameter_name?: unknown }[]) : [];
  const mismatch = `body: number of localizable_params (${given.length}) does not match the expected number of params (${expected.length})`;
  if (given.length !== expected.length) throw new Refusal(132000, mismatch);
  if (isNamed(template)) {
    const names = new Set(given.map((parameter) => parameter?.parameter_name));
    if (!expected.every((name) => names.has(name))) throw new Refusal(132000, `body: named parameters must be ${expected.join(', ')}`);
  }
}

function newWamid(waId: string): string {
  sequence = (sequence + 1) % 0x7fffffff;
  const tail = randomSlice(9).toString('hex').toUpperCase();
  // Real wamids are base64 of a binary blob that starts with the user id; unique is what matters.
  return `wamid.${Buffer.from(`${waId}:${tail}:${sequence.toString(16)}`).toString('base64')}`;
}
