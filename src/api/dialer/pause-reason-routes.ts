import { z } from 'zod';
import { textKey } from '../../domain/text-key';
import { pauseReasonSchema } from '../agents/schemas';
import { audit } from '../audit';
import { conflict } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';

const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';

/** The tenant's agent pause reasons ("Almoço", "Treinamento", "Feedback"): an agent pauses with one of them. */
export const pauseReasonRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/dialer/pause-reasons',
    {
      schema: {
        tags: ['dialer'],
        summary: "The tenant's agent pause reasons, by name",
        response: { 200: z.object({ items: z.array(pauseReasonSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const rows = await db
        .selectFrom('agent_pause_reasons')
        .selectAll()
        .where('tenant_id', '=', request.auth.tenantId)
        .orderBy('name_key')
        .orderBy('id')
        .execute();
      return { items: rows.map((r) => ({ id: r.id, name: r.name, createdAt: new Date(r.created_at).toISOString() })) };
    },
  );

  app.post(
    '/dialer/pause-reasons',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Add a pause reason (409 PAUSE_REASON_TAKEN when the name exists, ignoring case and accents)',
        body: z.object({ name: z.string().trim().min(1).max(120) }),
        response: { 201: pauseReasonSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { name } = request.body;
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const created = await trx
            .insertInto('agent_pause_reasons')
            .values({ tenant_id: request.auth.tenantId, name, name_key: textKey(name), created_by: request.auth.userId })
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(trx, request, {
            action: 'pause_reason.create',
            targetType: 'pause_reason',
            targetId: created.id,
            summary: `Motivo de pausa "${name}" criado`,
          });
          return created;
        })
        .catch((error) => {
          if (isUniqueViolation(error)) throw conflict('PAUSE_REASON_TAKEN', `A pause reason named "${name}" already exists.`);
          throw error;
        });
      return reply.code(201).send({ id: row.id, name: row.name, createdAt: new Date(row.created_at).toISOString() });
    },
  );
};
