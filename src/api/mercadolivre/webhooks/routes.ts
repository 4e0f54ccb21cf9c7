import { z } from 'zod';
import { createNotificationJournal } from '../../../db/notification-journal';
import { notificationKey } from '../../../domain/mercadolivre';
import { ProblemError } from '../../problem';
import { errorResponses, unavailableResponses } from '../../problem-schema';
import type { RoutePlugin } from '../../types';
import { mercadoLivreContext } from '../shared';

/** The body is a pointer, parsed leniently: `user_id` and `application_id` come as numbers or strings. */
const notificationSchema = z.looseObject({
  _id: z.string().max(200).optional(),
  resource: z.string().min(1).max(500),
  user_id: z.union([z.string().max(40), z.number()]),
  topic: z.string().min(1).max(100),
  application_id: z.union([z.string().max(40), z.number()]),
  attempts: z.coerce.number().int().min(0).max(100_000).optional(),
  sent: z.string().max(60).optional(),
  received: z.string().max(60).optional(),
});

const CACHE_MS = 5_000;

/**
 * Mercado Livre's notifications: stored (one row per notification, however often it is retried;
 * written in batches shared by the requests in flight) and answered 200 once the row is durable; the worker fetches the resource with the seller's token and applies
 * it. Nothing in the body is trusted: an unknown application or seller is kept as ignored.
 */
export const mercadoLivreWebhookRoutes: RoutePlugin = (app, { db, config, temporal }) => {
  const ml = mercadoLivreContext(db, config, temporal);
  const journal = createNotificationJournal(db, { onCounterError: (error) => app.log.warn({ err: error }, 'Mercado Livre duplicate counters not bumped') });
  app.addHook('onClose', () => journal.drain());
  // One lookup per seller every few seconds, shared by the requests that arrive meanwhile.
  const sellers = new Map<string, { at: number; account: Promise<{ id: string; tenant_id: string; status: string } | undefined> }>();
  const touched = new Map<string, number>();
  const accountOf = (sellerId: string) => {
    const hit = sellers.get(sellerId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.account;
    const account = /^\d{1,20}$/.test(sellerId)
      ? db.selectFrom('ml_accounts').select(['id', 'tenant_id', 'status']).where('seller_id', '=', sellerId).executeTakeFirst()
      : Promise.resolve(undefined);
    if (sellers.size >= 10_000) sellers.clear();
    sellers.set(sellerId, { at: Date.now(), account });
    account.catch(() => sellers.delete(sellerId));
    return account;
  };

  app.post(
    '/webhooks/mercadolivre',
    {
      config: { auth: false },
      schema: {
        tags: ['webhooks'],
        summary:
          'Mercado Livre notifications (topics questions, messages, orders_v2, …): answered 200 once stored (in well under 500 ms), applied asynchronously',
        security: [],
        body: notificationSchema,
        response: { 200: z.object({ received: z.literal(true) }), ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const n = request.body;
      const userId = String(n.user_id).trim();
      const applicationId = String(n.application_id).trim();
      const account = await accountOf(userId).catch((error) => {
        request.log.error({ err: error }, 'Mercado Livre seller lookup failed');
        throw new ProblemError(503, 'NOTIFICATION_NOT_STORED', 'The notification could not be stored; send it again.');
      });
      const ignoreReason =
        applicationId !== ml.applicationId
          ? 'unknown_application'
          : !account
            ? 'unknown_seller'
            : account.status !== 'connected'
              ? `account_${account.status}`
              : null;
      const stored = journal.append({
        dedupKey: notificationKey({ ...n, user_id: userId }),
        tenantId: account?.tenant_id ?? null,
        accountId: account?.id ?? null,
        topic: n.topic,
        resource: n.resource,
        userId,
        applicationId,
        attempts: n.attempts ?? 1,
        source: 'webhook',
        ignoreReason,
      });
      // Answered only once the row is committed; a failed batch answers 503, and Mercado Livre retries.
      await stored.catch((error) => {
        request.log.error({ err: error }, 'Mercado Livre notification not stored');
        throw new ProblemError(503, 'NOTIFICATION_NOT_STORED', 'The notification could not be stored; send it again.');
      });
      if (account && !ignoreReason && Date.now() - (touched.get(account.id) ?? 0) > 1000) {
        touched.set(account.id, Date.now());
        void db
          .updateTable('ml_accounts')
          .set({ last_notification_at: new Date() })
          .where('id', '=', account.id)
          .execute()
          .catch(() => undefined);
      }
      if (!ignoreReason) void ml.ensureProcessor();
      return { received: true as const };
    },
  );
};
