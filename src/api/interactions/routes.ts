import { sql } from 'kysely';
import { interactionsQuery, phoneSearchKey, type InteractionFilter } from '../../db/interaction-queries';
import { keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { badRequest, notFound } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';
import { companyContactIdParams } from '../company-contacts/schemas';
import { interactionIdParams, interactionListQuery, interactionSchema, interactionToApi } from './schemas';

/** Microsecond precision: a cursor must not skip rows that share a millisecond. */
const cursorAt = sql<string>`to_char(i.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at');
const newestFirst = { column: 'i.started_at', direction: 'desc', timestamp: false } as const;

/**
 * Rastreio de Interações: every touch with a person across channels (calls, WhatsApp messages and
 * replies, Mercado Livre questions and messages), newest first.
 */
export const interactionRoutes: RoutePlugin = (app, { db }) => {
  const page = async (filter: InteractionFilter, limit: number, cursor?: string) => {
    let phoneKey: string | undefined;
    if (filter.phone !== undefined) {
      phoneKey = phoneSearchKey(filter.phone);
      if (!phoneKey) throw badRequest('PHONE_INVALID', `"${filter.phone}" is not a phone number (8 to 15 digits, e.g. 5548998288774).`);
    }
    const query = interactionsQuery(db, filter, phoneKey).selectAll('i').select(cursorAt);
    const rows = await keysetPage(query, { sort: newestFirst, idColumn: 'i.id', limit, cursor }).execute();
    return toPage(rows, limit, (r) => [r.cursor_at, r.id], interactionToApi);
  };

  app.get(
    '/interactions',
    {
      schema: {
        tags: ['interactions'],
        summary: 'Interactions (Rastreio de Interações), newest first, filtered by phone, contact, channel, campaign, agent, period, outcome',
        querystring: interactionListQuery,
        response: { 200: pageSchema(interactionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return page({ ...filter, tenantId: request.auth.tenantId }, limit, cursor);
    },
  );

  app.get(
    '/interactions/:id',
    {
      schema: {
        tags: ['interactions'],
        summary: 'One interaction with its events in time order',
        params: interactionIdParams,
        response: { 200: interactionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await db
        .selectFrom('interactions')
        .selectAll()
        .where('id', '=', Number(request.params.id))
        .where('tenant_id', '=', request.auth.tenantId)
        .executeTakeFirst();
      if (!row) throw notFound('interaction', request.params.id);
      return interactionToApi(row);
    },
  );

  app.get(
    '/company-contacts/:id/timeline',
    {
      schema: {
        tags: ['interactions', 'company-contacts'],
        summary: "A company contact's interactions across channels (its own and those with one of its phones), newest first",
        params: companyContactIdParams,
        querystring: pageQuerySchema,
        response: { 200: pageSchema(interactionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.auth;
      const contact = await db
        .selectFrom('company_contacts')
        .select('id')
        .where('id', '=', request.params.id)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      if (!contact) throw notFound('company contact', request.params.id);
      return page({ tenantId, companyContactId: contact.id }, request.query.limit, request.query.cursor);
    },
  );
};
