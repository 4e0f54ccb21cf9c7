import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { sql } from 'kysely';
import { recordQuestionInteraction } from '../../db/ml-interactions';
import { messageIdOf, orderIdOf, questionIdOf } from '../../domain/mercadolivre';
import { createAnswerSender } from './answers';
import { createPackApplier } from './apply-pack';
import { createQuestionApplier, type AccountRef } from './apply-question';
import type { MlDeps } from './deps';
import { createMessageSettler } from './settle-messages';
import { classifyFailure, clearThrottle, deferFor, throttleAccount, type Outcome } from './failures';

const CLAIM_MS = 30_000;
const MAX_TRIES = 15;
const IDLE_POLL_MS = 100;
const SLA_SWEEP_EVERY_MS = 2_000;
const SETTLE_SWEEP_EVERY_MS = 2_000;

interface DueNotification {
  id: string;
  topic: string;
  resource: string;
  tries: number;
  account_id: string;
  tenant_id: string;
  seller_id: string;
  throttled_until: Date | null;
}

/**
 * The worker side of the notifications: claims due rows (a lease, so a dead worker's rows come
 * back), fetches each resource with the seller's token and applies it, sends pending answers,
 * records SLA breaches and settles post-sale messages whose send never heard back; a slice runs about `maxMs`, heartbeating.
 */
export function createProcessor(deps: MlDeps) {
  const { db } = deps;
  const applyQuestion = createQuestionApplier(deps);
  const applyPack = createPackApplier(deps);
  const answers = createAnswerSender(deps);
  const settleMessages = createMessageSettler(deps, applyPack, deps.messageSettle);

  async function claim(limit: number): Promise<DueNotification[]> {
    const { rows } = await sql<DueNotification>`
      WITH due AS (
        SELECT n.id FROM ml_notifications n
        WHERE n.state = 'pending' AND n.next_attempt_at <= now() AND (n.claimed_until IS NULL OR n.claimed_until < now())
        ORDER BY n.next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      UPDATE ml_notifications n SET claimed_until = now() + ${`${CLAIM_MS} milliseconds`}::interval, tries = n.tries + 1
      FROM due, ml_accounts a
      WHERE n.id = due.id AND a.id = n.account_id
      RETURNING n.id, n.topic, n.resource, n.tries, n.account_id, a.tenant_id, a.seller_id, a.throttled_until`.execute(db);
    return rows;
  }

  async function apply(n: DueNotification): Promise<void> {
    const account: AccountRef = { id: n.account_id, tenant_id: n.tenant_id, seller_id: String(n.seller_id) };
    if (n.topic === 'questions') {
      const id = questionIdOf(n.resource);
      if (id) await applyQuestion(account, id);
    } else if (n.topic === 'messages') {
      const id = messageIdOf(n.resource);
      if (!id) return;
      const found = await deps.withSellerToken(account.id, (t) => deps.client.message(t, id));
      const message = found.messages?.[0];
      const packId = message?.message_resources?.find((r) => r.name === 'packs')?.id;
      if (packId) await applyPack(account, packId);
    } else if (n.topic === 'orders_v2') {
      const id = orderIdOf(n.resource);
      if (!id) return;
      const order = await deps.withSellerToken(account.id, (t) => deps.client.order(t, id));
      // A sale is where a post-sale conversation begins; an order without a pack is its own pack.
      await applyPack(account, String(order.pack_id ?? order.id), String(order.buyer.id));
    }
  }

  async function processOne(n: DueNotification): Promise<Outcome> {
    if (n.throttled_until && n.throttled_until > new Date()) {
      await db
        .updateTable('ml_notifications')
        .set({ next_attempt_at: n.throttled_until, claimed_until: null, tries: sql`tries - 1` })
        .where('id', '=', n.id)
        .execute();
      return 'throttled';
    }
    try {
      await apply(n);
      await db
        .updateTable('ml_notifications')
        .set({ state: 'applied', applied_at: new Date(), claimed_until: null, last_error: null })
        .where('id', '=', n.id)
        .where('state', '=', 'pending')
        .execute();
      await clearThrottle(db, n.account_id);
      return 'done';
    } catch (error) {
      const failure = classifyFailure(error, n.tries, MAX_TRIES);
      if (failure.kind === 'final') {
        await db.updateTable('ml_notifications').set({ state: 'failed', claimed_until: null, last_error: failure.reason }).where('id', '=', n.id).execute();
        return 'done';
      }
      if (failure.kind === 'throttled') await throttleAccount(db, n.account_id);
      // A seller who authorized again while this call failed makes it due at once (the reconnection's
      // own reset may have run before this write).
      const nextAttempt =
        failure.kind === 'waiting_authorization'
          ? sql<Date>`CASE WHEN (SELECT status FROM ml_accounts WHERE id = ${n.account_id}) = 'connected' THEN now() ELSE ${deferFor(failure.delayMs)} END`
          : deferFor(failure.delayMs);
      await db
        .updateTable('ml_notifications')
        .set({ next_attempt_at: nextAttempt, claimed_until: null, last_error: failure.reason })
        .where('id', '=', n.id)
        .execute();
      return failure.kind;
    }
  }

  /** Deadlines passed while a question waited: recorded once (and on the buyer's interaction). */
  async function recordSlaBreaches(): Promise<number> {
    const breached = await db
      .updateTable('ml_questions')
      .set({ sla_breached_at: sql`sla_deadline` })
      .where('status', '=', 'UNANSWERED')
      .where('sla_breached_at', 'is', null)
      .where('sla_deadline', '<=', new Date())
      .returningAll()
      .execute();
    for (const q of breached) {
      await recordQuestionInteraction(db, {
        tenantId: q.tenant_id,
        accountId: q.account_id,
        questionId: q.id,
        mlQuestionId: q.ml_question_id,
        buyerId: q.buyer_id,
        itemId: q.item_id,
        status: q.status,
        askedAt: q.asked_at,
        slaBreachedAt: q.sla_breached_at,
      });
    }
    return breached.length;
  }

  async function runPool<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
    let next = 0;
    const lanes = Array.from({ length: Math.min(deps.concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    });
    await Promise.all(lanes);
  }

  async function mlProcessNotifications(input: { maxMs: number }): Promise<{ applied: number; answers: number; breaches: number; settled: number }> {
    const ctx = Context.current();
    const until = Date.now() + input.maxMs;
    const totals = { applied: 0, answers: 0, breaches: 0, settled: 0 };
    let lastSweep = 0;
    let lastSettle = 0;
    while (Date.now() < until && !ctx.cancellationSignal.aborted) {
      ctx.heartbeat(totals);
      if (Date.now() - lastSweep > SLA_SWEEP_EVERY_MS) {
        lastSweep = Date.now();
        totals.breaches += await recordSlaBreaches();
      }
      if (Date.now() - lastSettle > SETTLE_SWEEP_EVERY_MS) {
        lastSettle = Date.now();
        const settled = await settleMessages();
        totals.settled += settled.sent + settled.failed;
      }
      const due = await claim(deps.concurrency * 4);
      await runPool(due, async (n) => {
        if ((await processOne(n)) === 'done') totals.applied++;
        ctx.heartbeat(totals);
      });
      const pendingAnswers = await answers.claimAnswers(deps.concurrency);
      await runPool(pendingAnswers, async (a) => {
        if ((await answers.sendAnswer(a)) === 'done') totals.answers++;
      });
      if (due.length === 0 && pendingAnswers.length === 0) await sleep(IDLE_POLL_MS);
    }
    return totals;
  }

  return { mlProcessNotifications };
}
