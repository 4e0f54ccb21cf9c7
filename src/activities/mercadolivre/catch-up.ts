import { storeNotification } from '../../db/mercadolivre';
import { notificationKey, TOPICS } from '../../domain/mercadolivre';
import type { MlDeps } from './deps';

/**
 * What was missed while we were down or slow: the notifications Mercado Livre could not deliver
 * (`/missed_feeds`, about two days) and, as a second net, the seller's unanswered questions we do
 * not know as unanswered. Both become ordinary notification rows (deduplicated by key).
 */
export function createCatchUpActivity(deps: MlDeps) {
  const { db } = deps;
  async function mlCatchUp(input: { accountId: string }): Promise<{ missed: number; unanswered: number }> {
    const account = await db.selectFrom('ml_accounts').select(['id', 'tenant_id', 'seller_id', 'status']).where('id', '=', input.accountId).executeTakeFirst();
    if (!account || account.status !== 'connected') return { missed: 0, unanswered: 0 };
    const base = {
      tenantId: account.tenant_id,
      accountId: account.id,
      userId: String(account.seller_id),
      applicationId: deps.applicationId,
      source: 'catch-up' as const,
    };
    let missed = 0;
    for (const topic of TOPICS) {
      const page = await deps.withSellerToken(account.id, (t) => deps.client.missedFeeds(t, deps.applicationId, topic)).catch(() => ({ messages: [] }));
      for (const feed of page.messages ?? []) {
        if (String(feed.user_id) !== String(account.seller_id)) continue;
        await storeNotification(db, { ...base, dedupKey: notificationKey(feed), topic: feed.topic, resource: feed.resource, attempts: feed.attempts ?? 1 });
        missed++;
      }
    }
    const search = await deps.withSellerToken(account.id, (t) =>
      deps.client.searchQuestions(t, { sellerId: account.seller_id, status: 'UNANSWERED', limit: 50 }),
    );
    const ids = search.questions.map((q) => String(q.id));
    const known = ids.length
      ? await db
          .selectFrom('ml_questions')
          .select('ml_question_id')
          .where('account_id', '=', account.id)
          .where('ml_question_id', 'in', ids)
          .where('status', '=', 'UNANSWERED')
          .execute()
      : [];
    const knownSet = new Set(known.map((k) => String(k.ml_question_id)));
    let unanswered = 0;
    for (const id of ids) {
      if (knownSet.has(id)) continue;
      await storeNotification(db, { ...base, dedupKey: `catch-up|/questions/${id}|UNANSWERED`, topic: 'questions', resource: `/questions/${id}`, attempts: 1 });
      unanswered++;
    }
    return { missed, unanswered };
  }
  return { mlCatchUp };
}
