import { z } from 'zod';
import { createUser } from '../../db/accounts';
import type { User } from '../../db/schema';
import { audit } from '../audit';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, parseSort, sortQuerySchema, toPage } from '../pagination';
import { conflict } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';

const roleSchema = z.enum(['admin', 'supervisor', 'agent', 'viewer']);
const userSchema = z.object({ id: z.uuid(), name: z.string(), email: z.string(), role: roleSchema, createdAt: z.string() }).meta({ id: 'User' });
const toApi = (u: User) => ({ id: u.id, name: u.name, email: u.email, role: u.role, createdAt: new Date(u.created_at).toISOString() });

/** The tenant's users. Only admins manage them. */
export const userRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/users',
    {
      config: { minRole: 'admin' },
      schema: {
        tags: ['account'],
        summary: "List the tenant's users",
        querystring: pageQuerySchema.extend({ sort: sortQuerySchema(['createdAt', 'name'], 'name'), role: roleSchema.optional() }),
        response: { 200: pageSchema(userSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, sort, role } = request.query;
      let query = db.selectFrom('users').selectAll().where('tenant_id', '=', request.auth.tenantId);
      if (role) query = query.where('role', '=', role);
      const spec = parseSort(sort, { createdAt: 'created_at:ts', name: 'name' });
      const rows = await keysetPage(query, { sort: spec, idColumn: 'id', limit, cursor }).execute();
      return toPage(rows, limit, (r) => [spec.column === 'name' ? r.name : dateCursor(r.created_at), r.id], toApi);
    },
  );

  app.post(
    '/users',
    {
      config: { minRole: 'admin' },
      schema: {
        tags: ['account'],
        summary: 'Create a user',
        body: z.object({ name: z.string().trim().min(1).max(200), email: z.email(), role: roleSchema }),
        response: { 201: userSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { name, email, role } = request.body;
      const exists = await db
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', request.auth.tenantId)
        .where('email', '=', email.toLowerCase())
        .executeTakeFirst();
      if (exists) throw conflict('USER_EMAIL_TAKEN', `A user with e-mail ${email} already exists.`);
      const user = await db.transaction().execute(async (trx) => {
        const created = await createUser(trx, { tenantId: request.auth.tenantId, name, email, role });
        await audit(trx, request, { action: 'user.create', targetType: 'user', targetId: created.id, summary: `Usuário ${name} (${role}) criado` });
        return created;
      });
      return reply.code(201).send(toApi(user));
    },
  );
};
