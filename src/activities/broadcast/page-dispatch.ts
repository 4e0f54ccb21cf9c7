import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import { messageKey } from '../../domain/broadcast';
import { classifyWhatsAppError } from '../../domain/whatsapp-error-policy';
import type { WhatsAppClient } from '../../integrations/whatsapp/client';
import { WhatsAppTransportError } from '../../integrations/whatsapp/errors';
import type { SendTemplateResult } from '../../integrations/whatsapp/types';
import type { QueuedMessage } from './page-claim';
import { blockRecipients } from './recipient-blocks';
import type { Outcome } from './recorder';
import type { Halt, PageResult } from './send-activities';

const MAX_BACKOFF_MS = 5 * 60_000;
/** A retry due this soon (e.g. 130429, throughput) is tried again by the same page instead of the next pass. */
export const INLINE_RETRY_MS = 2_000;

type Tally = 'accepted' | 'failed' | 'retry' | 'unsettled';
type OutcomeOf<K extends Outcome['kind']> = Omit<Extract<Outcome, { kind: K }>, 'id'>;

/** What one call's answer means: the outcome to record, what to count, and what else to do. */
export interface Decision {
  outcome?: OutcomeOf<'accepted'> | OutcomeOf<'failed'> | OutcomeOf<'retry'> | OutcomeOf<'release'>;
  tally?: Tally;
  /** Tried again by this page after that long (a short retry). */
  inlineRetryMs?: number;
  halt?: Halt;
  /** No send of the channel may try this user again for that long (131049). */
  block?: { forMs: number; reason: string; code: number };
  /** The user asked Meta to stop (131050): the number joins the opt-out list. */
  optOut?: { reason: string };
}

/**
 * The meaning of an answer from the Cloud API for the `attempt`-th try of a message. Pure:
 * `jitter` (0…1) spreads the backoffs.
 */
export function decideAnswer(answer: SendTemplateResult, attempt: number, maxAttempts: number, jitter: number): Decision {
  if (answer.ok) return { tally: 'accepted', outcome: { kind: 'accepted', wamid: answer.wamid, waId: answer.waId, messageStatus: answer.messageStatus } };
  const decision = classifyWhatsAppError(answer.code);
  const error = { code: answer.code, title: answer.title, details: answer.details };
  switch (decision.action) {
    case 'retry':
    case 'retry_recipient_later': {
      if (attempt >= maxAttempts) return { tally: 'failed', outcome: { kind: 'failed', ...error } };
      const base = decision.retryAfterMs ?? 1000;
      const exponential = decision.action === 'retry' && !decision.flatBackoff;
      const backoff = exponential ? Math.min(MAX_BACKOFF_MS, base * 2 ** (attempt - 1)) : base;
      const delayMs = Math.round(backoff * (1 + jitter * 0.2));
      // Back to `pending` first (it was not sent); a short wait is then spent in this page.
      return { tally: 'retry', outcome: { kind: 'retry', ...error, delayMs }, inlineRetryMs: delayMs <= INLINE_RETRY_MS ? delayMs : undefined };
    }
    case 'permanent':
      return {
        tally: 'failed',
        outcome: { kind: 'failed', ...error },
        block: decision.retryAfterMs ? { forMs: decision.retryAfterMs, reason: decision.reason, code: answer.code } : undefined,
      };
    case 'permanent_opt_out':
      return { tally: 'failed', outcome: { kind: 'failed', ...error }, optOut: { reason: answer.title } };
    case 'pause_campaign':
    case 'stop_campaign':
      return { outcome: { kind: 'release', ...error }, halt: { action: decision.action === 'pause_campaign' ? 'pause' : 'stop', reason: decision.reason } };
  }
}

/** The meaning of a call that threw: certainly not sent (retry later), or maybe accepted (left `sending`). */
export function decideFailure(error: unknown): Decision {
  if (error instanceof WhatsAppTransportError && !error.maybeSent)
    return { tally: 'retry', outcome: { kind: 'retry', code: null, title: error.message, delayMs: 2000 } };
  // Maybe accepted: leave it `sending`; the status webhook (our key) or the timeout settles it.
  return { tally: 'unsettled' };
}

export interface DispatchDeps {
  db: Kysely<Database>;
  client: WhatsAppClient;
  channel: { phone_number_id: string };
  send: { id: string; tenant_id: string; template_name: string; template_language: string };
  maxAttempts: number;
  record: (outcome: Outcome) => void;
  /** The page's counters (accepted, failed, retry, unsettled, halt). */
  result: PageResult;
  setHalt: (sendId: string, halt: Halt) => Promise<void>;
  jitter?: () => number;
}

/**
 * Dispatch: one call per claimed message, with our key in biz_opaque_callback_data, its answer
 * decided, counted and recorded, and the side effects the answer asks for. Answers the delay of a
 * short retry the page should make itself, if any.
 */
export function createDispatcher(deps: DispatchDeps) {
  const { db, client, channel, send, result } = deps;
  const jitter = deps.jitter ?? Math.random;
  return async function dispatchMessage(message: QueuedMessage, attempt: number): Promise<number | undefined> {
    let d: Decision;
    try {
      const answer = await client.sendTemplate({
        phoneNumberId: channel.phone_number_id,
        to: message.phone,
        templateName: send.template_name,
        language: send.template_language,
        bodyParameters: message.parameters,
        bizOpaqueCallbackData: messageKey(send.id, message.contact_id),
      });
      d = decideAnswer(answer, attempt, deps.maxAttempts, jitter());
    } catch (error) {
      d = decideFailure(error);
    }
    if (d.tally) result[d.tally]++;
    if (d.halt && (!result.halt || d.halt.action === 'stop')) result.halt = d.halt;
    if (d.outcome) deps.record({ id: message.id, ...d.outcome } as Outcome);
    if (d.block) await blockRecipients(db, [{ messageId: message.id, forMs: d.block.forMs, reason: d.block.reason, code: d.block.code }]);
    if (d.optOut) {
      await db
        .insertInto('phone_opt_outs')
        .values({ tenant_id: send.tenant_id, channel: 'whatsapp', phone: message.phone, source: 'whatsapp_131050', reason: d.optOut.reason })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    if (d.halt) await deps.setHalt(send.id, d.halt);
    return d.inlineRetryMs;
  };
}
