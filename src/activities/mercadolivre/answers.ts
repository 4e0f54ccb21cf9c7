import { sql } from 'kysely';
import { recordAnswerInteraction } from '../../db/ml-interactions';
import type { MlQuestion as ApiQuestion } from '../../integrations/mercadolivre/types';
import { MercadoLivreApiError } from '../../integrations/mercadolivre/client';
import type { MlDeps } from './deps';
import { classifyFailure, deferFor, throttleAccount, type Outcome } from './failures';

const CLAIM_MS = 30_000;
const MAX_ATTEMPTS = 12;

interface DueAnswer {
  id: string;
  tenant_id: string;
  question_id: string;
  text: string;
  source: 'agent' | 'auto';
  rule_id: string | null;
  requested_by_user: string | null;
  attempts: number;
  account_id: string;
  seller_id: string;
  ml_question_id: string;
  buyer_id: string;
  sla_deadline: Date;
}

/**
 * Sends pending answers, each exactly once: the answer row (one per question, its business key)
 * exists before the call; a retry first asks Mercado Livre whether the question is already
 * answered (a previous try may have reached it without us hearing back), and Mercado Livre refuses
 * to answer a question twice, so no path posts a second answer.
 */
export function createAnswerSender(deps: MlDeps) {
  const { db } = deps;

  async function claim(limit: number): Promise<DueAnswer[]> {
    const { rows } = await sql<DueAnswer>`
      WITH due AS (
        SELECT a.id FROM ml_answers a
        WHERE a.state = 'pending' AND a.next_attempt_at <= now() AND (a.claimed_until IS NULL OR a.claimed_until < now())
        ORDER BY a.next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      UPDATE ml_answers a SET claimed_until = now() + ${`${CLAIM_MS} milliseconds`}::interval, attempts = a.attempts + 1
      FROM due, ml_questions q, ml_accounts acc
      WHERE a.id = due.id AND q.id = a.question_id AND acc.id = q.account_id
      RETURNING a.id, a.tenant_id, a.question_id, a.text, a.source, a.rule_id, a.requested_by_user, a.attempts,
        q.account_id, acc.seller_id, q.ml_question_id, q.buyer_id, q.sla_deadline`.execute(db);
    return rows;
  }

  async function recordSent(a: DueAnswer, q: ApiQuestion) {
    const answeredAt = q.answer?.date_created ? new Date(q.answer.date_created) : new Date();
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('ml_answers').set({ state: 'sent', sent_at: answeredAt, claimed_until: null, last_error: null }).where('id', '=', a.id).execute();
      await trx
        .updateTable('ml_questions')
        .set({
          status: 'ANSWERED',
          answer_text: q.answer?.text ?? a.text,
          answer_status: q.answer?.status ?? 'ACTIVE',
          answered_at: answeredAt,
          answered_via: a.source,
          sla_breached_at: sql`COALESCE(sla_breached_at, CASE WHEN ${answeredAt} > sla_deadline THEN sla_deadline END)`,
          updated_at: new Date(),
        })
        .where('id', '=', a.question_id)
        .execute();
      await recordAnswerInteraction(trx, {
        tenantId: a.tenant_id,
        accountId: a.account_id,
        questionId: a.question_id,
        mlQuestionId: a.ml_question_id,
        buyerId: a.buyer_id,
        answeredAt,
        via: a.source,
        by: a.source === 'auto' ? a.rule_id : a.requested_by_user,
      });
    });
  }

  async function fail(a: DueAnswer, reason: string) {
    await db.updateTable('ml_answers').set({ state: 'failed', last_error: reason, claimed_until: null }).where('id', '=', a.id).execute();
  }

  /** What Mercado Livre says now decides: answered with our text = sent; answered otherwise or closed = failed. */
  async function reconcile(a: DueAnswer, q: ApiQuestion): Promise<boolean> {
    if (q.status === 'UNANSWERED') return false;
    if (q.status === 'ANSWERED' && q.answer && q.answer.text.trim() === a.text.trim()) await recordSent(a, q);
    else {
      await fail(a, q.status === 'ANSWERED' ? 'QUESTION_ANSWERED_ELSEWHERE' : `QUESTION_${q.status}`);
      await db.updateTable('ml_questions').set({ status: q.status, updated_at: new Date() }).where('id', '=', a.question_id).execute();
    }
    return true;
  }

  async function sendOne(a: DueAnswer): Promise<Outcome> {
    const withToken = <T>(call: (token: string) => Promise<T>) => deps.withSellerToken(a.account_id, call);
    try {
      if (a.attempts > 1 && (await reconcile(a, await withToken((t) => deps.client.question(t, a.ml_question_id))))) return 'done';
      let answered: ApiQuestion;
      try {
        answered = await withToken((t) => deps.client.answer(t, a.ml_question_id, a.text));
      } catch (error) {
        // Refused as not unanswered: find out what is there.
        if (error instanceof MercadoLivreApiError && error.status === 400) {
          if (await reconcile(a, await withToken((t) => deps.client.question(t, a.ml_question_id)))) return 'done';
          await fail(a, `ML_REFUSED: ${error.message}`);
          return 'done';
        }
        throw error;
      }
      await recordSent(a, answered.answer ? answered : { ...answered, answer: { text: a.text, status: 'ACTIVE', date_created: new Date().toISOString() } });
      return 'done';
    } catch (error) {
      const failure = classifyFailure(error, a.attempts, MAX_ATTEMPTS);
      if (failure.kind === 'final') {
        await fail(a, failure.reason);
        return 'done';
      }
      await db
        .updateTable('ml_answers')
        .set({ next_attempt_at: deferFor(failure.delayMs), claimed_until: null, last_error: failure.reason })
        .where('id', '=', a.id)
        .execute();
      if (failure.kind === 'throttled') await throttleAccount(db, a.account_id);
      return failure.kind;
    }
  }

  return { claimAnswers: claim, sendAnswer: sendOne };
}
