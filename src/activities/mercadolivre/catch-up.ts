import { storeNotification } from '../../db/mercadolivre';
import { notificationKey, TOPICS } from '../../domain/mercadolivre';
import type { MlNotification } from '../../integrations/mercadolivre/types';
import type { MlDeps } from './deps';

/** Mercado Livre pages its question search 50 at a time. */
const QUESTIONS_PAGE = 50;
/** Bounds on one catch-up: far more than a seller misses in the two days /missed_feeds keeps; the next run goes on. */
const MAX_MISSED_PER_TOPIC = 10_000;
const MAX_UNANSWERED = 5_000;

/**
 * What was missed while we were down or slow: the notifications Mercado Livre could not deliver
 * (`/missed_feeds`, about two days) and, as a second net, the seller's unanswered questions we do
 * not know as unanswered. Both read every page; both become ordinary notification rows
 * (deduplicated by key).
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
      for (const feed of await missedFeeds(account.id, topic)) {
        if (String(feed.user_id) !== String(account.seller_id)) continue;
        await storeNotification(db, { ...base, dedupKey: notificationKey(feed), topic: feed.topic, resource: feed.resource, attempts: feed.attempts ?? 1 });
        missed++;
      }
    }
    const ids = await unansweredQuestionIds(account.id, account.seller_id);
    const knownSet = new Set<string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const known = await db
        .selectFrom('ml_questions')
        .select('ml_question_id')
        .where('account_id', '=', account.id)
        .where('ml_question_id', 'in', ids.slice(i, i + 1000))
        .where('status', '=', 'UNANSWERED')
        .execute();
      for (const k of known) knownSet.add(String(k.ml_question_id));
    }
    let unanswered = 0;
    for (const id of ids) {
      if (knownSet.has(id)) continue;
      await storeNotification(db, { ...base, dedupKey: `catch-up|/questions/${id}|UNANSWERED`, topic: 'questions', resource: `/questions/${id}`, attempts: 1 });
      unanswered++;
    }
    return { missed, unanswered };
  }

  /** Every page of a topic's missed notifications; a page that fails ends the topic for this run (the feed is a secondary source). */
  async function missedFeeds(accountId: string, topic: string): Promise<MlNotification[]> {
    const feeds: MlNotification[] = [];
    while (feeds.length < MAX_MISSED_PER_TOPIC) {
      const page = await deps.withSellerToken(accountId, (t) => deps.client.missedFeeds(t, deps.applicationId, topic, feeds.length)).catch(() => undefined);
      const messages = page?.messages ?? [];
      feeds.push(...messages);
      if (messages.length === 0 || (page?.paging && feeds.length >= page.paging.total)) break;
    }
    return feeds;
  }

  /** Every page of the seller's unanswered questions, newest first (a question seen twice across pages counts once). */
  async function unansweredQuestionIds(accountId: string, sellerId: string | number): Promise<string[]> {
    const ids = new Set<string>();
    for (let offset = 0; offset < MAX_UNANSWERED; ) {
      const page = await deps.withSellerToken(accountId, (t) =>
        deps.client.searchQuestions(t, { sellerId, status: 'UNANSWERED', offset, limit: QUESTIONS_PAGE }),
      );
      for (const q of page.questions) ids.add(String(q.id));
      offset += page.questions.length;
      if (page.questions.length === 0 || offset >= page.total) break;
    }
    return [...ids];
  }

  return { mlCatchUp };
}
