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
}

/** The broadcast activities: the send workflow's and the webhook applier's. */
export function createBroadcastActivities(db: Kysely<Database>, deps: BroadcastActivityDeps = {}) {
  const clients = createChannelClients(db, deps);
  return {
    ...createBroadcastSendActivities({ db, clients, maxAttempts: deps.maxAttempts, concurrency: deps.concurrency, windowMarginMs: deps.windowMarginMs }),
    ...createWebhookActivities({ db }),
  };
}
