/**
 * What a broadcast sender does with each WhatsApp Cloud API answer (shared/whatsapp-errors.md),
 * how to read a user's opt-out reply, and how message statuses move. Pure: safe for workflows.
 *
 * Decisions rest on `error.code` only, never on the message text or the HTTP status, because the
 * same code arrives synchronously in the send answer and later in a `failed` status webhook.
 */

export type WhatsAppErrorAction =
  /** Transient: try the same message again after `retryAfterMs` (the first wait; back off from it). */
  | 'retry'
  /** Only this recipient must wait `retryAfterMs`; everyone else goes on. */
  | 'retry_recipient_later'
  /** This message fails for good; keep the code and title for the report. */
  | 'permanent'
  /** Fails for good and the contact goes on the opt-out list. */
  | 'permanent_opt_out'
  /** An account-level problem a person can fix (token, payment, quality): pause, resume later. */
  | 'pause_campaign'
  /** Sending more cannot succeed (template missing, disabled, wrong mapping): stop now. */
  | 'stop_campaign';

export interface WhatsAppErrorDecision {
  action: WhatsAppErrorAction;
  /**
   * For `retry`/`retry_recipient_later`: the least wait before the next try. For `permanent`
   * (131049 only): how long no new marketing message may be tried on this user.
   */
  retryAfterMs?: number;
  /**
   * For `retry`: every try waits `retryAfterMs` instead of doubling it. A throughput refusal
   * (130429) only says Meta's one-second window was full at that instant, and the pacer already
   * holds to the limit; doubling would push the message past the end of its page.
   */
  flatBackoff?: boolean;
  /** Stable snake_case key, stored with the message or shown as the campaign's pause reason. */
  reason: string;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

const decisions = new Map<number, WhatsAppErrorDecision>();
function rule(codes: number[], decision: WhatsAppErrorDecision): void {
  for (const code of codes) decisions.set(code, decision);
}

// Transient: the same request can succeed later.
rule([130429], { action: 'retry', retryAfterMs: SECOND, flatBackoff: true, reason: 'throughput_limit' });
rule([4, 80007], { action: 'retry', retryAfterMs: MINUTE, reason: 'api_call_rate_limit' });
rule([1, 2, 131000, 131016], { action: 'retry', retryAfterMs: 5 * SECOND, reason: 'service_unavailable' });
rule([131057], { action: 'retry', retryAfterMs: MINUTE, reason: 'account_in_maintenance' });
rule([131056], { action: 'retry_recipient_later', retryAfterMs: 6 * SECOND, reason: 'pair_rate_limit' });

// Permanent for this message or contact.
rule([131049], { action: 'permanent', retryAfterMs: DAY, reason: 'marketing_cap_per_user' });
rule([131050], { action: 'permanent_opt_out', reason: 'user_stopped_marketing' });
rule([130472], { action: 'permanent', reason: 'user_in_experiment' });
rule([131026], { action: 'permanent', reason: 'undeliverable' });
rule([131047], { action: 'permanent', reason: 'reengagement_window_closed' });
rule([131051], { action: 'permanent', reason: 'unsupported_message_type' });
rule([100, 131008, 131009], { action: 'permanent', reason: 'invalid_parameter' });
rule([132005, 132007, 132012], { action: 'permanent', reason: 'template_content_rejected' });

// The campaign itself cannot go on as configured.
rule([132000], { action: 'stop_campaign', reason: 'template_parameter_count_mismatch' });
rule([132001], { action: 'stop_campaign', reason: 'template_missing' });
rule([132016], { action: 'stop_campaign', reason: 'template_disabled' });

// Account-level problems a person can fix; pausing keeps the remaining contacts unspent.
rule([0, 190], { action: 'pause_campaign', reason: 'access_token_invalid' });
rule([3, 10], { action: 'pause_campaign', reason: 'permission_missing' });
rule([132015], { action: 'pause_campaign', reason: 'template_paused' });
rule([131042], { action: 'pause_campaign', reason: 'payment_problem' });
rule([133010], { action: 'pause_campaign', reason: 'phone_number_not_registered' });
rule([131048], { action: 'pause_campaign', reason: 'spam_rate_limit' });
// Policy block, locked account and country restriction: we pause rather than stop. Each can be
// lifted (appeal, unlock, Meta's review) and a paused campaign keeps its unsent contacts, while a
// supervisor can still stop it; stopping would throw away work for a condition that may pass.
rule([368], { action: 'pause_campaign', reason: 'policy_block' });
rule([131031], { action: 'pause_campaign', reason: 'account_locked' });
rule([130497], { action: 'pause_campaign', reason: 'country_restricted' });

const permissionRange: WhatsAppErrorDecision = { action: 'pause_campaign', reason: 'permission_missing' };

/**
 * An unknown code fails that one message, with the code kept for the report: retrying blindly
 * could repeat a send we cannot prove harmless (and hurt the number's quality), and pausing a whole
 * campaign for one unexplained answer would let a single odd contact halt everyone.
 */
const unknownCode: WhatsAppErrorDecision = { action: 'permanent', reason: 'unknown_error_code' };

export function classifyWhatsAppError(code: number): WhatsAppErrorDecision {
  const known = decisions.get(code);
  if (known) return { ...known };
  if (code >= 200 && code <= 299) return { ...permissionRange };
  return { ...unknownCode };
}

// ---------------------------------------------------------------------------------------------
// Opt-out replies

/** Whole-message replies that mean "stop sending me this" (compared without accents or case). */
const optOutReplies = new Set([
  'SAIR',
  'PARAR',
  'PARE',
  'STOP',
  'CANCELAR',
  'CANCELE',
  'DESCADASTRAR',
  'DESCADASTRE',
  'DESCADASTRO',
  'DESINSCREVER',
  'REMOVER',
  'UNSUBSCRIBE',
  'NAO QUERO',
  'NAO QUERO MAIS',
  'NAO ENVIE MAIS',
  'PARAR PROMOCOES',
  'PARAR DE RECEBER',
  'SAIR DA LISTA',
]);

/** Upper case, no accents, no punctuation or emoji, single spaces: "  Não quero mais!! " → "NAO QUERO MAIS". */
export function normalizeReply(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toUpperCase();
}

/** True only when the whole message is an opt-out: "sair" yes, "vou sair mais tarde" no. */
export function isOptOutReply(text: string | undefined | null): boolean {
  if (!text) return false;
  return optOutReplies.has(normalizeReply(text));
}

// ---------------------------------------------------------------------------------------------
// Message status ordering

/** `accepted` is the send answer; the rest come from status webhooks. */
export type WhatsAppMessageStatus = 'accepted' | 'sent' | 'delivered' | 'read' | 'failed';

const ranks: Record<WhatsAppMessageStatus, number> = { accepted: 0, sent: 1, delivered: 2, read: 3, failed: 4 };

/** Progress order: accepted < sent < delivered < read; `failed` ranks last because it is terminal. */
export function statusRank(status: WhatsAppMessageStatus): number {
  return ranks[status];
}

/**
 * The status after an incoming event, given the current one (undefined when none yet). Statuses
 * never move backwards, so duplicates and out-of-order events are harmless. `failed` applies only
 * to a message that was never delivered, and once failed a message stays failed.
 */
export function nextStatus(current: WhatsAppMessageStatus | undefined, incoming: WhatsAppMessageStatus): WhatsAppMessageStatus {
  if (current === undefined) return incoming;
  if (current === 'failed') return 'failed';
  if (incoming === 'failed') return ranks[current] < ranks.delivered ? 'failed' : current;
  return ranks[incoming] > ranks[current] ? incoming : current;
}

export function isFinalStatus(status: WhatsAppMessageStatus): boolean {
  return status === 'read' || status === 'failed';
}
