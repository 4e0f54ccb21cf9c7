import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import { createChannelClients, type WhatsAppAccess } from '../../db/whatsapp-channels';
import { createBroadcastSendActivities } from './send-activities';
import { createWebhookActivities } from './webhook-apply';

export interface BroadcastActivityDeps extends WhatsAppAccess {
  /** Tries per message for retryable errors. */
  maxAttempts?: number;
  /** API calls in flight at once per page activity. */
  concurrency?: number;
  /** How much longer our pace window is than Meta's second (see paceWindow). */
  windowMarginMs?: number;
  /**
   * Aborted when the worker begins an orderly stop (SIGTERM): pages stop taking new messages, wait
   * for the answers of those in flight, record them and return; the webhook applier returns too.
   * Everything completes within the grace time, so nothing fails and the next worker goes on.
   */
  draining?: AbortSignal;
}

/** The broadcast activities: the send workflow's and the webhook applier's. */
export function createBroadcastActivities(db: Kysely<Database>, deps: BroadcastActivityDeps = {}) {
  const clients = createChannelClients(db, deps);
  return {
    ...createBroadcastSendActivities({
      db,
      clients,
      maxAttempts: deps.maxAttempts,
      concurrency: deps.concurrency,
      windowMarginMs: deps.windowMarginMs,
      draining: deps.draining,
    }),
    ...createWebhookActivities({ db, draining: deps.draining }),
  };
}
