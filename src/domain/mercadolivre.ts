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

/** 429 backoff for a whole account: doubles per level with jitter, capped at a minute. */
export function throttleDelayMs(level: number, random = Math.random()): number {
  const base = Math.min(60_000, 1000 * 2 ** Math.max(0, level));
  return Math.round(base / 2 + (base / 2) * random);
}
