import { z } from 'zod';
import { issueApiKey } from '../../db/accounts';
import { audit } from '../audit';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, parseSort, sortQuerySchema, toPage } from '../pagination';
import { notFound } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';

const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    userId: z.uuid(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

/** API keys: created for a user, shown once, stored hashed, revocable. Admins only. */
export const apiKeyRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/api-keys',
    {
      config: { minRole: 'admin' },
      schema: {
        tags: ['account'],
        summary: "List the tenant's API keys (never the secret)",
        querystring: pageQuerySchema.extend({ sort: sortQuerySchema(['createdAt'], '-createdAt') }),
        response: { 200: pageSchema(apiKeySchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, sort } = request.query;
      const query = db.selectFrom('api_keys').selectAll().where('tenant_id', '=', request.auth.tenantId);
      const rows = await keysetPage(query, { sort: parseSort(sort, { createdAt: 'created_at:ts' }), idColumn: 'id', limit, cursor }).execute();
      return toPage(
        rows,
        limit,
        (r) => [dateCursor(r.created_at), r.id],
        (r) => ({
          id: r.id,
          name: r.name,
          userId: r.user_id,
          createdAt: new Date(r.created_at).toISOString(),
          lastUsedAt: iso(r.last_used_at),
          revokedAt: iso(r.revoked_at),
        }),
      );
    },
  );

  app.post(
    '/api-keys',
    {
      config: { minRole: 'admin' },
      schema: {
        tags: ['account'],
        summary: 'Create an API key for a user; the key is in this answer only',
        body: z.object({ userId: z.uuid(), name: z.string().trim().min(1).max(200) }),
        response: { 201: z.object({ id: z.string(), key: z.string().describe('Shown once; store it now') }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await db
        .selectFrom('users')
        .select(['id', 'name'])
        .where('id', '=', request.body.userId)
        .where('tenant_id', '=', request.auth.tenantId)
        .executeTakeFirst();
      if (!user) throw notFound('user', request.body.userId);
      const issued = await db.transaction().execute(async (trx) => {
        const key = await issueApiKey(trx, { tenantId: request.auth.tenantId, userId: user.id, name: request.body.name });
        await audit(trx, request, {
          action: 'api_key.create',
          targetType: 'api_key',
          targetId: key.id,
          summary: `Chave ${request.body.name} criada para ${user.name}`,
        });
        return key;
      });
      return reply.code(201).send(issued);
    },
  );

  app.delete(
    '/api-keys/:id',
    {
      config: { minRole: 'admin' },
      schema: {
        tags: ['account'],
        summary: 'Revoke an API key',
        params: z.object({ id: z.string().max(40) }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const revoked = await db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('api_keys')
          .set({ revoked_at: new Date() })
          .where('id', '=', request.params.id)
          .where('tenant_id', '=', request.auth.tenantId)
          .where('revoked_at', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (row) await audit(trx, request, { action: 'api_key.revoke', targetType: 'api_key', targetId: row.id, summary: 'Chave revogada' });
        return row;
      });
      if (!revoked) throw notFound('API key', request.params.id);
      return reply.code(204).send(null);
    },
  );
};
