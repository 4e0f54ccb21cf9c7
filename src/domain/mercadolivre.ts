import { isOpen, ruleOfWindow } from './dialer/windows';
import type { CallingWindow } from './dialer/strategy';

/**
 * Mercado Livre channel rules shared by the API, the activities and the account workflow
 * (pure: safe to import from workflows).
 */

export const QUESTION_STATUSES = ['UNANSWERED', 'ANSWERED', 'CLOSED_UNANSWERED', 'UNDER_REVIEW', 'BANNED', 'DELETED'] as const;
export type QuestionStatus = (typeof QUESTION_STATUSES)[number];
export const ACCOUNT_STATUSES = ['connected', 'needs_reauthorization', 'disconnected'] as const;
export const TOPICS = ['questions', 'messages', 'orders_v2'] as const;

export const accountWorkflowId = (accountId: string) => `ml-account-${accountId}`;
export const notificationsWorkflowId = (taskQueue: string) => `ml-notifications-${taskQueue}`;

/** When the account workflow refreshes: `marginMs` before expiry, but never sooner than now. */
export function refreshDueAt(expiresAtMs: number, nowMs: number, marginMs: number): number {
  return Math.max(nowMs, expiresAtMs - marginMs);
}

/**
 * Mercado Livre retries a notification with the same `_id` (or, without one, the same topic,
 * resource, seller and `received`), counting `attempts` up: one row per notification.
 */
export function notificationKey(n: { _id?: unknown; topic: string; resource: string; user_id: unknown; received?: unknown; sent?: unknown }): string {
  if (typeof n._id === 'string' && n._id) return `id:${n._id}`;
  return `${n.topic}|${n.resource}|${String(n.user_id)}|${String(n.received ?? n.sent ?? '')}`;
}

/** `/questions/123` → 123; anything else → undefined. */
export function questionIdOf(resource: string): string | undefined {
  return /^\/?questions\/(\d+)$/.exec(resource.trim())?.[1];
}

/** For topic `messages` the resource is the bare message id (sometimes `/messages/<id>`). */
export function messageIdOf(resource: string): string | undefined {
  return /^(?:\/?messages\/)?([0-9a-zA-Z]+)$/.exec(resource.trim())?.[1];
}

export function orderIdOf(resource: string): string | undefined {
  return /^\/?orders\/(\d+)$/.exec(resource.trim())?.[1];
}

/** The answering deadline of a question asked at `askedAt`. */
export const slaDeadline = (askedAt: Date, slaMinutes: number) => new Date(askedAt.getTime() + slaMinutes * 60_000);

// ---- automatic answers

export interface AutoRule {
  id: string;
  accountId: string | null;
  keywords: string[];
  itemId: string | null;
  answerText: string;
  priority: number;
}

export interface QuestionForRules {
  accountId: string;
  itemId: string;
  itemTitle: string | null;
  text: string;
  askedAt: Date;
}

export interface AutoAnswerSettings {
  businessHours: CallingWindow | null;
  outOfHoursAnswer: string | null;
}

/** Lower case without accents, so "frete grátis" matches "FRETE GRATIS". */
export const foldText = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase();

/** `{item_title}`, `{item_id}`: the placeholders an answer text may carry. */
export const ANSWER_PLACEHOLDERS = ['item_title', 'item_id'] as const;

export function fillPlaceholders(text: string, q: QuestionForRules): string {
  return text.replace(/\{(item_title|item_id)\}/g, (_, name: string) => (name === 'item_title' ? (q.itemTitle ?? q.itemId) : q.itemId));
}

export function unknownPlaceholders(text: string): string[] {
  return [...text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).filter((n) => !(ANSWER_PLACEHOLDERS as readonly string[]).includes(n));
}

/**
 * The automatic answer for a new question, if any: the first matching rule by priority (an item
 * rule matches its listing, a keyword rule any of its words, both when it has both); else, outside
 * business hours, the out-of-hours answer.
 */
export function chooseAutoAnswer(q: QuestionForRules, rules: AutoRule[], settings: AutoAnswerSettings): { ruleId: string | null; text: string } | undefined {
  const folded = foldText(q.text);
  const sorted = [...rules].sort((a, b) => a.priority - b.priority);
  for (const rule of sorted) {
    if (rule.accountId && rule.accountId !== q.accountId) continue;
    if (rule.itemId && rule.itemId !== q.itemId) continue;
    if (rule.keywords.length > 0 && !rule.keywords.some((k) => folded.includes(foldText(k)))) continue;
    if (!rule.itemId && rule.keywords.length === 0) continue;
    return { ruleId: rule.id, text: fillPlaceholders(rule.answerText, q) };
  }
  if (settings.businessHours && settings.outOfHoursAnswer && !isOpen(ruleOfWindow(settings.businessHours), q.askedAt)) {
    return { ruleId: null, text: fillPlaceholders(settings.outOfHoursAnswer, q) };
  }
  return undefined;
}

/** 429 backoff for a whole account: doubles per level with jitter, capped at a minute. */
export function throttleDelayMs(level: number, random = Math.random()): number {
  const base = Math.min(60_000, 1000 * 2 ** Math.max(0, level));
  return Math.round(base / 2 + (base / 2) * random);
}
