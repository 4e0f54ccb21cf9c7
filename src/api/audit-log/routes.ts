import { z } from 'zod';
import { keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';

const auditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actorUserId: z.string().nullable(),
    actorKeyId: z.string().nullable(),
    actorKind: z
      .enum(['user', 'operations', 'system'])
      .describe('A person (through the API), operations (a Temporal CLI/UI signal) or the system (automatic pauses, scheduled starts, recurrence cycles)'),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().nullable(),
    summary: z.string(),
    details: z.record(z.string(), z.unknown()),
    requestId: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

/** The audit log: every state-changing call, newest first. */
export const auditLogRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/audit-log',
    {
      config: { minRole: 'supervisor' },
      schema: {
        tags: ['account'],
        summary: 'List audit log entries, newest first',
        querystring: pageQuerySchema.extend({
          action: z.string().optional(),
          targetType: z.string().optional(),
          targetId: z.string().optional(),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
        }),
        response: { 200: pageSchema(auditEntrySchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, action, targetType, targetId, from, to } = request.query;
      let query = db.selectFrom('audit_log').selectAll().where('tenant_id', '=', request.auth.tenantId);
      if (action) query = query.where('action', '=', action);
      if (targetType) query = query.where('target_type', '=', targetType);
      if (targetId) query = query.where('target_id', '=', targetId);
      if (from) query = query.where('created_at', '>=', new Date(from));
      if (to) query = query.where('created_at', '<', new Date(to));
      // Ids grow with time, so "newest first" is id descending.
      const rows = await keysetPage(query, { sort: { column: 'id', direction: 'desc', timestamp: false }, idColumn: 'id', limit, cursor }).execute();
      return toPage(
        rows,
        limit,
        (r) => [r.id, r.id],
        (r) => ({
          id: String(r.id),
          at: new Date(r.created_at).toISOString(),
          actorUserId: r.actor_user_id,
          actorKeyId: r.actor_key_id,
          actorKind: r.actor_kind,
          action: r.action,
          targetType: r.target_type,
          targetId: r.target_id,
          summary: r.summary,
          details: r.details,
          requestId: r.request_id,
        }),
      );
    },
  );
};
