import { z } from 'zod';
import { callingWindowSchema } from '../../../domain/dialer/strategy';
import { unknownPlaceholders } from '../../../domain/mercadolivre-auto-answer';
import { ANSWER_MAX_CHARS } from '../../../integrations/mercadolivre/client';
import { audit } from '../../audit';
import { notFound, unprocessable } from '../../problem';
import { errorResponses, unavailableResponses } from '../../problem-schema';
import type { RoutePlugin } from '../../types';

const tags = ['mercadolivre'];
const answerText = z.string().trim().min(1).max(ANSWER_MAX_CHARS).describe('Placeholders: {item_title}, {item_id}');
const ruleBody = z.object({
  name: z.string().trim().min(1).max(120),
  accountId: z.uuid().nullable().default(null),
  keywords: z.array(z.string().trim().min(1).max(80)).max(50).default([]),
  itemId: z
    .string()
    .regex(/^[A-Z]{3}\d{1,15}$/)
    .nullable()
    .default(null),
  answerText,
  priority: z.number().int().min(0).max(10_000).default(100),
  enabled: z.boolean().default(true),
});
const ruleSchema = ruleBody.extend({ id: z.uuid(), createdAt: z.string() });
const settingsSchema = z.object({
  answerSlaMinutes: z.number().int().min(1).max(10_080).describe('How long a question may wait for its answer'),
  businessHours: callingWindowSchema.nullable().describe("Outside these hours the out-of-hours answer is sent (same type as the dialer's calling windows)"),
  outOfHoursAnswer: answerText.nullable(),
});

const checkPlaceholders = (text: string | null) => {
  const unknown = text ? unknownPlaceholders(text) : [];
  if (unknown.length)
    throw unprocessable('ANSWER_PLACEHOLDER_UNKNOWN', `Unknown placeholders: ${unknown.join(', ')} (known: item_title, item_id).`, { unknown });
};

/** The tenant's answering settings (SLA, business hours, out-of-hours answer) and automatic-answer rules. */
export const mercadoLivreAutoAnswerRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/mercadolivre/settings',
    {
      schema: {
        tags,
        summary: 'Answering SLA, business hours and the out-of-hours answer',
        response: { 200: settingsSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const row = await db.selectFrom('ml_settings').selectAll().where('tenant_id', '=', request.auth.tenantId).executeTakeFirst();
      return {
        answerSlaMinutes: row?.answer_sla_minutes ?? 60,
        businessHours: (row?.business_hours as never) ?? null,
        outOfHoursAnswer: row?.out_of_hours_answer ?? null,
      };
    },
  );

  app.put(
    '/mercadolivre/settings',
    {
      schema: {
        tags,
        summary: 'Sets the answering settings (new questions get the new SLA)',
        body: settingsSchema,
        response: { 200: settingsSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const b = request.body;
      checkPlaceholders(b.outOfHoursAnswer);
      const values = {
        answer_sla_minutes: b.answerSlaMinutes,
        business_hours: b.businessHours ? JSON.stringify(b.businessHours) : null,
        out_of_hours_answer: b.outOfHoursAnswer,
        updated_at: new Date(),
      };
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('ml_settings')
          .values({ tenant_id: request.auth.tenantId, ...values })
          .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values))
          .execute();
        await audit(trx, request, {
          action: 'mercadolivre_settings.update',
          targetType: 'mercadolivre_settings',
          targetId: request.auth.tenantId,
          summary: `SLA de resposta Mercado Livre: ${b.answerSlaMinutes} min`,
          details: b,
        });
      });
      return b;
    },
  );

  app.get(
    '/mercadolivre/auto-answers',
    {
      schema: {
        tags,
        summary: 'Automatic-answer rules',
        response: { 200: z.object({ items: z.array(ruleSchema) }), ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const rows = await db
        .selectFrom('ml_auto_rules')
        .selectAll()
        .where('tenant_id', '=', request.auth.tenantId)
        .orderBy('priority')
        .orderBy('created_at')
        .execute();
      return {
        items: rows.map((r) => ({
          id: r.id,
          name: r.name,
          accountId: r.account_id,
          keywords: r.keywords,
          itemId: r.item_id,
          answerText: r.answer_text,
          priority: r.priority,
          enabled: r.enabled,
          createdAt: r.created_at.toISOString(),
        })),
      };
    },
  );

  app.post(
    '/mercadolivre/auto-answers',
    {
      schema: {
        tags,
        summary: 'Adds a rule: keywords and/or an item → an answer text',
        body: ruleBody,
        response: { 201: ruleSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (b.keywords.length === 0 && !b.itemId) throw unprocessable('RULE_MATCHES_NOTHING', 'A rule needs keywords, an item, or both.');
      checkPlaceholders(b.answerText);
      if (b.accountId) {
        const own = await db
          .selectFrom('ml_accounts')
          .select('id')
          .where('id', '=', b.accountId)
          .where('tenant_id', '=', request.auth.tenantId)
          .executeTakeFirst();
        if (!own) throw notFound('Mercado Livre account', b.accountId);
      }
      const row = await db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('ml_auto_rules')
          .values({
            tenant_id: request.auth.tenantId,
            account_id: b.accountId,
            name: b.name,
            keywords: b.keywords,
            item_id: b.itemId,
            answer_text: b.answerText,
            priority: b.priority,
            enabled: b.enabled,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(trx, request, {
          action: 'mercadolivre_auto_answer.create',
          targetType: 'mercadolivre_auto_answer',
          targetId: created.id,
          summary: `Regra de resposta automática "${b.name}" criada`,
        });
        return created;
      });
      return reply.code(201).send({ ...b, id: row.id, createdAt: row.created_at.toISOString() });
    },
  );

  app.delete(
    '/mercadolivre/auto-answers/:id',
    {
      schema: { tags, summary: 'Removes a rule', params: z.object({ id: z.uuid() }), response: { 204: z.null(), ...errorResponses, ...unavailableResponses } },
    },
    async (request, reply) => {
      const deleted = await db.transaction().execute(async (trx) => {
        const row = await trx
          .deleteFrom('ml_auto_rules')
          .where('id', '=', request.params.id)
          .where('tenant_id', '=', request.auth.tenantId)
          .returning(['id', 'name'])
          .executeTakeFirst();
        if (row)
          await audit(trx, request, {
            action: 'mercadolivre_auto_answer.delete',
            targetType: 'mercadolivre_auto_answer',
            targetId: row.id,
            summary: `Regra "${row.name}" removida`,
          });
        return row;
      });
      if (!deleted) throw notFound('automatic-answer rule', request.params.id);
      return reply.code(204).send(null);
    },
  );
};
