import { sql } from 'kysely';
import { z } from 'zod';
import { normalizePhone } from '../../domain/phone';
import { keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';

const channelSchema = z.enum(['voice', 'whatsapp']);

const optOutSchema = z
  .object({
    channel: channelSchema,
    phone: z.string(),
    source: z.string().describe("company_contact (a company contact's flag), or where else the opt-out came from"),
    reason: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'PhoneOptOut' });

/** Phones that campaigns must not contact on a channel (LGPD): list, or check one phone. */
export const optOutRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/opt-outs',
    {
      schema: {
        tags: ['opt-outs'],
        summary: 'List opt-outs, newest first, or check a phone',
        querystring: pageQuerySchema.extend({
          channel: channelSchema.optional(),
          phone: z
            .string()
            .max(40)
            .transform(normalizePhone)
            .pipe(z.string().regex(/^\d{8,13}$/, 'must be a phone number'))
            .optional()
            .describe('Exactly this phone, with or without the DDI 55'),
          source: z.string().max(50).optional(),
        }),
        response: { 200: pageSchema(optOutSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, channel, phone, source } = request.query;
      // The key breaks ties between rows written in the same transaction (same created_at).
      let inner = db
        .selectFrom('phone_opt_outs')
        .select(['channel', 'phone', 'source', 'reason', 'created_at', sql<string>`channel || ':' || phone || ':' || source`.as('key')])
        .where('tenant_id', '=', request.auth.tenantId);
      if (channel) inner = inner.where('channel', '=', channel);
      if (phone) inner = inner.where('phone', 'in', [...new Set([phone, `55${phone}`])]);
      if (source) inner = inner.where('source', '=', source);
      const query = db.selectFrom(inner.as('o')).selectAll();
      const rows = await keysetPage(query, { sort: { column: 'created_at', direction: 'desc', timestamp: true }, idColumn: 'key', limit, cursor }).execute();
      return toPage(
        rows,
        limit,
        (r) => [new Date(r.created_at).toISOString(), r.key],
        (r) => ({ channel: r.channel, phone: r.phone, source: r.source, reason: r.reason, createdAt: new Date(r.created_at).toISOString() }),
      );
    },
  );
};
