import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { MlQuestion } from '../../../db/mercadolivre-schema';
import { QUESTION_STATUSES } from '../../../domain/mercadolivre';
import { ANSWER_MAX_CHARS } from '../../../integrations/mercadolivre/client';
import { audit } from '../../audit';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, parseSort, sortQuerySchema, toPage } from '../../pagination';
import { conflict, notFound, unprocessable } from '../../problem';
import { errorResponses, unavailableResponses } from '../../problem-schema';
import type { RoutePlugin } from '../../types';
import { mercadoLivreContext } from '../shared';

const tags = ['mercadolivre'];
const ANSWER_WAIT_MS = 5_000;

const answerSchema = z.object({
  text: z.string(),
  source: z.enum(['agent', 'auto']),
  state: z.enum(['pending', 'sent', 'failed']),
  error: z.string().nullable(),
  sentAt: z.string().nullable(),
});
export const questionSchema = z.object({
  id: z.uuid(),
  accountId: z.uuid(),
  mlQuestionId: z.string(),
  itemId: z.string(),
  itemTitle: z.string().nullable(),
  buyerId: z.string(),
  text: z.string(),
  status: z.enum(QUESTION_STATUSES),
  askedAt: z.string(),
  slaDeadline: z.string(),
  slaBreached: z.boolean(),
  slaBreachedAt: z.string().nullable(),
  answerText: z.string().nullable(),
  answeredAt: z.string().nullable(),
  answeredVia: z.enum(['agent', 'auto', 'mercadolivre']).nullable(),
  answer: answerSchema.nullable(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
type AnswerRow = { text: string; source: 'agent' | 'auto'; state: 'pending' | 'sent' | 'failed'; last_error: string | null; sent_at: Date | null };
const toApi = (q: MlQuestion, a?: AnswerRow): z.infer<typeof questionSchema> => ({
  id: q.id,
  accountId: q.account_id,
  mlQuestionId: String(q.ml_question_id),
  itemId: q.item_id,
  itemTitle: q.item_title,
  buyerId: String(q.buyer_id),
  text: q.text,
  status: q.status,
  askedAt: q.asked_at.toISOString(),
  slaDeadline: q.sla_deadline.toISOString(),
  slaBreached: q.sla_breached_at !== null,
  slaBreachedAt: iso(q.sla_breached_at),
  answerText: q.answer_text,
  answeredAt: iso(q.answered_at),
  answeredVia: q.answered_via,
  answer: a ? { text: a.text, source: a.source, state: a.state, error: a.last_error, sentAt: iso(a.sent_at) } : null,
});

const listQuery = pageQuerySchema.extend({
  sort: sortQuerySchema(['askedAt'], '-askedAt'),
  accountId: z.uuid().optional(),
  status: z.enum(QUESTION_STATUSES).optional(),
  itemId: z.string().max(40).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('Asked at or after'),
  to: z.iso.datetime({ offset: true }).optional().describe('Asked before'),
  slaBreached: z.enum(['true', 'false']).optional(),
});

/** Pre-sale questions, and answering one (sent exactly once, however often the call is repeated). */
export const mercadoLivreQuestionRoutes: RoutePlugin = (app, { db, config, temporal }) => {
  const ml = mercadoLivreContext(db, config, temporal);
  const load = async (tenantId: string, id: string) => {
    const q = await db.selectFrom('ml_questions').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!q) throw notFound('Mercado Livre question', id);
    const a = await db.selectFrom('ml_answers').select(['text', 'source', 'state', 'last_error', 'sent_at']).where('question_id', '=', id).executeTakeFirst();
    return { q, a };
  };

  app.get(
    '/mercadolivre/questions',
    {
      schema: {
        tags,
        summary: "Questions on the sellers' listings (filters: account, status, item, period, SLA breached)",
        querystring: listQuery,
        response: { 200: pageSchema(questionSchema), ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const { limit, cursor, sort, accountId, status, itemId, from, to, slaBreached } = request.query;
      let query = db.selectFrom('ml_questions').selectAll().where('tenant_id', '=', request.auth.tenantId);
      if (accountId) query = query.where('account_id', '=', accountId);
      if (status) query = query.where('status', '=', status);
      if (itemId) query = query.where('item_id', '=', itemId);
      if (from) query = query.where('asked_at', '>=', new Date(from));
      if (to) query = query.where('asked_at', '<', new Date(to));
      if (slaBreached) query = query.where('sla_breached_at', slaBreached === 'true' ? 'is not' : 'is', null);
      const rows = await keysetPage(query, { sort: parseSort(sort, { askedAt: 'asked_at:ts' }), idColumn: 'id', limit, cursor }).execute();
      return toPage(
        rows,
        limit,
        (r) => [dateCursor(r.asked_at), r.id],
        (r) => toApi(r),
      );
    },
  );

  app.get(
    '/mercadolivre/questions/:id',
    {
      schema: {
        tags,
        summary: 'A question with its answer',
        params: z.object({ id: z.uuid() }),
        response: { 200: questionSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const { q, a } = await load(request.auth.tenantId, request.params.id);
      return toApi(q, a);
    },
  );

  app.post(
    '/mercadolivre/questions/:id/answer',
    {
      schema: {
        tags,
        summary:
          `Answers a question (text 1–${ANSWER_MAX_CHARS} characters). ` +
          `Repeating the call with the same text answers the same result; 202 while it is being sent`,
        params: z.object({ id: z.uuid() }),
        body: z.object({ text: z.string().max(100_000) }),
        response: { 200: questionSchema, 202: questionSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request, reply) => {
      const text = request.body.text.trim();
      if (!text) throw unprocessable('ANSWER_TEXT_EMPTY', 'The answer text is empty.');
      if (text.length > ANSWER_MAX_CHARS)
        throw unprocessable('ANSWER_TEXT_TOO_LONG', `The answer has ${text.length} characters; Mercado Livre takes at most ${ANSWER_MAX_CHARS}.`, {
          maxLength: ANSWER_MAX_CHARS,
        });
      const { q, a } = await load(request.auth.tenantId, request.params.id);
      if (a) {
        if (a.text.trim() !== text)
          throw conflict('QUESTION_ALREADY_ANSWERED', `The question already has an answer (${a.source}, ${a.state}); an answer cannot be edited.`, {
            answerState: a.state,
          });
      } else {
        if (q.status !== 'UNANSWERED')
          throw conflict('QUESTION_NOT_UNANSWERED', `The question is ${q.status}; only an UNANSWERED question can be answered.`, { questionStatus: q.status });
        await db.transaction().execute(async (trx) => {
          const inserted = await trx
            .insertInto('ml_answers')
            .values({
              tenant_id: q.tenant_id,
              question_id: q.id,
              text,
              source: 'agent',
              requested_by_user: request.auth.userId,
              requested_by_key: request.auth.keyId,
              state: 'pending',
              next_attempt_at: new Date(),
            })
            .onConflict((oc) => oc.constraint('ml_answers_question_key').doNothing())
            .returning('id')
            .executeTakeFirst();
          if (!inserted) return;
          await audit(trx, request, {
            action: 'mercadolivre_question.answer',
            targetType: 'mercadolivre_question',
            targetId: q.id,
            summary: `Pergunta ${q.ml_question_id} respondida`,
            details: { source: 'agent', text },
          });
        });
        const again = await db.selectFrom('ml_answers').select('text').where('question_id', '=', q.id).executeTakeFirstOrThrow();
        if (again.text.trim() !== text) throw conflict('QUESTION_ALREADY_ANSWERED', 'The question got another answer meanwhile.');
        void ml.ensureProcessor();
      }
      // The processor sends it; wait a little so the usual case answers with the outcome.
      const until = Date.now() + ANSWER_WAIT_MS;
      for (;;) {
        const now = await load(request.auth.tenantId, q.id);
        if (now.a?.state !== 'pending' || Date.now() > until) return reply.code(now.a?.state === 'pending' ? 202 : 200).send(toApi(now.q, now.a));
        await sleep(100);
      }
    },
  );
};
