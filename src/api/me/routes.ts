import { z } from 'zod';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';

/** Who the presented key belongs to. */
export const meRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/me',
    {
      schema: {
        tags: ['account'],
        summary: 'The tenant, user and role of the API key in use',
        response: {
          200: z.object({
            tenant: z.object({ id: z.uuid(), name: z.string() }),
            user: z.object({ id: z.uuid(), name: z.string(), role: z.enum(['admin', 'supervisor', 'agent', 'viewer']) }),
            keyId: z.string(),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const tenant = await db.selectFrom('tenants').select(['id', 'name']).where('id', '=', request.auth.tenantId).executeTakeFirstOrThrow();
      return {
        tenant,
        user: { id: request.auth.userId, name: request.auth.userName, role: request.auth.role },
        keyId: request.auth.keyId,
      };
    },
  );
};
