import { sql, type Transaction } from 'kysely';
import { auditSystem, mlSettingsOf } from '../../db/mercadolivre';
import { recordAnswerInteraction, recordQuestionInteraction } from '../../db/ml-interactions';
import type { MlQuestion } from '../../db/mercadolivre-schema';
import type { Database } from '../../db/schema';
import { slaDeadline } from '../../domain/mercadolivre';
import { chooseAutoAnswer } from '../../domain/mercadolivre-auto-answer';
import { MercadoLivreApiError } from '../../integrations/mercadolivre/client';
import type { MlQuestion as ApiQuestion } from '../../integrations/mercadolivre/types';
import type { MlDeps } from './deps';

export interface AccountRef {
  id: string;
  tenant_id: string;
  seller_id: string;
}

type Trx = Transaction<Database>;

/**
 * Fetches a question with the seller's token and applies it: stored or updated, its SLA deadline
 * set when first seen, an answer given on Mercado Livre's own site recorded, the buyer's
 * interactions written in the same transaction, and an automatic answer queued when a rule fits.
 */
export function createQuestionApplier(deps: MlDeps) {
  const titles = new Map<string, string | null>();
  const itemTitle = async (account: AccountRef, itemId: string) => {
    if (titles.has(itemId)) return titles.get(itemId)!;
    const title = await deps
      .withSellerToken(account.id, (t) => deps.client.item(t, itemId))
      .then(
        (i) => i.title ?? null,
        () => null,
      );
    if (titles.size > 10_000) titles.clear();
    titles.set(itemId, title);
    return title;
  };

  return async function applyQuestion(account: AccountRef, mlQuestionId: string): Promise<void> {
    let q: ApiQuestion;
    try {
      q = await deps.withSellerToken(account.id, (t) => deps.client.question(t, mlQuestionId));
    } catch (error) {
      // Gone from Mercado Livre: what we have of it is DELETED.
      if (error instanceof MercadoLivreApiError && error.status === 404) {
        await deps.db
          .updateTable('ml_questions')
          .set({ status: 'DELETED', updated_at: new Date() })
          .where('account_id', '=', account.id)
          .where('ml_question_id', '=', mlQuestionId)
          .execute();
        return;
      }
      throw error;
    }
    if (String(q.seller_id) !== String(account.seller_id)) return;
    const known = await deps.db
      .selectFrom('ml_questions')
      .select('item_title')
      .where('account_id', '=', account.id)
      .where('ml_question_id', '=', String(q.id))
      .executeTakeFirst();
    const title = known?.item_title ?? (await itemTitle(account, q.item_id));
    await deps.db.transaction().execute((trx) => applyFetched(trx, account, q, title));
  };
}

export async function applyFetched(trx: Trx, account: AccountRef, q: ApiQuestion, title: string | null): Promise<MlQuestion> {
  const settings = await mlSettingsOf(trx, account.tenant_id);
  const askedAt = new Date(q.date_created);
  const answeredAt = q.answer?.date_created ? new Date(q.answer.date_created) : null;
  const { rows } = await sql<MlQuestion & { inserted: boolean }>`
    INSERT INTO ml_questions AS m (tenant_id, account_id, ml_question_id, item_id, item_title, buyer_id, text, status, asked_at, sla_deadline,
      answer_text, answer_status, answered_at, answered_via, hold, suspected_spam)
    VALUES (${account.tenant_id}, ${account.id}, ${String(q.id)}, ${q.item_id}, ${title}, ${String(q.from?.id ?? 0)}, ${q.text}, ${q.status}, ${askedAt},
      ${slaDeadline(askedAt, settings.answerSlaMinutes)}, ${q.answer?.text ?? null}, ${q.answer?.status ?? null}, ${answeredAt},
      ${q.status === 'ANSWERED' ? 'mercadolivre' : null}, ${q.hold ?? false}, ${q.suspected_spam ?? false})
    ON CONFLICT ON CONSTRAINT ml_questions_ml_key DO UPDATE SET
      status = EXCLUDED.status, text = EXCLUDED.text, hold = EXCLUDED.hold, suspected_spam = EXCLUDED.suspected_spam,
      answer_text = COALESCE(EXCLUDED.answer_text, m.answer_text), answer_status = COALESCE(EXCLUDED.answer_status, m.answer_status),
      answered_at = COALESCE(m.answered_at, EXCLUDED.answered_at),
      answered_via = COALESCE(m.answered_via, EXCLUDED.answered_via),
      item_title = COALESCE(m.item_title, EXCLUDED.item_title),
      updated_at = now()
    RETURNING *, (xmax = 0) AS inserted`.execute(trx);
  let row = rows[0];
  if (row.status !== 'UNANSWERED' && !row.sla_breached_at && row.answered_at && row.answered_at > row.sla_deadline) {
    row = await trx
      .updateTable('ml_questions')
      .set({ sla_breached_at: row.sla_deadline })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow()
      .then((r) => ({ ...r, inserted: row.inserted }));
  }
  await recordQuestionInteraction(trx, {
    tenantId: row.tenant_id,
    accountId: account.id,
    questionId: row.id,
    mlQuestionId: row.ml_question_id,
    buyerId: row.buyer_id,
    itemId: row.item_id,
    status: row.status,
    askedAt,
    slaBreachedAt: row.sla_breached_at,
  });
  if (row.status === 'ANSWERED' && row.answered_at) {
    // Ours, reported back (the sender may not have recorded it yet), or one given on the site.
    const ours = await trx.selectFrom('ml_answers').selectAll().where('question_id', '=', row.id).forUpdate().executeTakeFirst();
    const isOurs = ours && ours.text.trim() === (row.answer_text ?? '').trim();
    if (ours && ours.state === 'pending') {
      await trx
        .updateTable('ml_answers')
        .set(isOurs ? { state: 'sent', sent_at: row.answered_at } : { state: 'failed', last_error: 'answered on Mercado Livre with another text' })
        .where('id', '=', ours.id)
        .execute();
    }
    const via = isOurs ? ours!.source : 'mercadolivre';
    if (isOurs && row.answered_via !== via) await trx.updateTable('ml_questions').set({ answered_via: via }).where('id', '=', row.id).execute();
    await recordAnswerInteraction(trx, {
      tenantId: row.tenant_id,
      accountId: account.id,
      questionId: row.id,
      mlQuestionId: row.ml_question_id,
      buyerId: row.buyer_id,
      answeredAt: row.answered_at,
      via,
      by: isOurs ? (ours!.source === 'auto' ? ours!.rule_id : ours!.requested_by_user) : null,
    });
  }
  if (row.inserted && row.status === 'UNANSWERED') await queueAutoAnswer(trx, account, row);
  return row;
}

/** The first fitting rule (or the out-of-hours answer) becomes this question's one answer, audited as the system's. */
async function queueAutoAnswer(trx: Trx, account: AccountRef, row: MlQuestion): Promise<void> {
  const rules = await trx.selectFrom('ml_auto_rules').selectAll().where('tenant_id', '=', account.tenant_id).where('enabled', '=', true).execute();
  const settings = await mlSettingsOf(trx, account.tenant_id);
  const choice = chooseAutoAnswer(
    { accountId: account.id, itemId: row.item_id, itemTitle: row.item_title, text: row.text, askedAt: row.asked_at },
    rules.map((r) => ({ id: r.id, accountId: r.account_id, keywords: r.keywords, itemId: r.item_id, answerText: r.answer_text, priority: r.priority })),
    settings,
  );
  if (!choice) return;
  const inserted = await trx
    .insertInto('ml_answers')
    .values({
      tenant_id: account.tenant_id,
      question_id: row.id,
      text: choice.text,
      source: 'auto',
      rule_id: choice.ruleId,
      state: 'pending',
      next_attempt_at: new Date(),
    })
    .onConflict((oc) => oc.constraint('ml_answers_question_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return;
  await auditSystem(trx, {
    tenantId: account.tenant_id,
    action: 'mercadolivre_question.answer',
    targetType: 'mercadolivre_question',
    targetId: row.id,
    summary: choice.ruleId
      ? `Pergunta ${row.ml_question_id} respondida automaticamente (regra)`
      : `Pergunta ${row.ml_question_id} respondida automaticamente (fora do horário)`,
    details: { source: 'auto', ruleId: choice.ruleId, text: choice.text },
  });
}
