import { z } from 'zod';
import { acceptInvite, createInvite, createSession, inviteUrl } from '../../db/sessions';
import { audit } from '../audit';
import { conflict, notFound, ProblemError } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';
import { setSessionCookie } from './cookie';
import { newPasswordSchema, sessionSchema } from './schemas';

/** An admin invites a user of the tenant; the user opens the link, chooses a password and is signed in. */
export const inviteRoutes: RoutePlugin = (app, { db, config }) => {
  app.post(
    '/users/:id/invites',
    {
      config: { minRole: 'admin' },
      schema: {
        tags: ['account'],
        summary: 'Invite a user to the console (a single-use link to choose a password)',
        params: z.object({ id: z.uuid() }),
        response: { 201: z.object({ inviteUrl: z.string(), expiresAt: z.string() }).meta({ id: 'UserInvite' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await db
        .selectFrom('users')
        .select(['id', 'name'])
        .where('id', '=', request.params.id)
        .where('tenant_id', '=', request.auth.tenantId)
        .executeTakeFirst();
      if (!user) throw notFound('user', request.params.id);
      const invite = await createInvite(db, { tenantId: request.auth.tenantId, userId: user.id, createdBy: request.auth.userId });
      await audit(db, request, { action: 'user.invite', targetType: 'user', targetId: user.id, summary: `Convite enviado a ${user.name}` });
      const base = config.PUBLIC_BASE_URL ?? `${request.protocol}://${request.host}`;
      return reply.code(201).send({ inviteUrl: inviteUrl(base, invite.token), expiresAt: invite.expiresAt.toISOString() });
    },
  );

  app.post(
    '/auth/invites/accept',
    {
      config: { auth: false },
      schema: {
        tags: ['account'],
        summary: 'Accept an invite: choose a password and sign in',
        body: z.object({ token: z.string().min(20).max(100), password: newPasswordSchema }),
        response: { 200: sessionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const result = await acceptInvite(db, request.body.token, request.body.password);
      if (!result.ok && result.reason === 'EMAIL_TAKEN') {
        throw conflict('USER_EMAIL_TAKEN', 'Another user already signs in with this e-mail; ask your admin to change it.');
      }
      if (!result.ok) throw new ProblemError(404, 'INVITE_INVALID', 'This invite is unknown, used or expired; ask your admin for a new one.');
      const session = await createSession(db, result.user);
      setSessionCookie(reply, request, config, session.token, session.expiresAt);
      const tenant = await db.selectFrom('tenants').select(['id', 'name']).where('id', '=', result.user.tenantId).executeTakeFirstOrThrow();
      return {
        user: { id: result.user.userId, name: result.user.name, role: result.user.role },
        tenant,
        csrfToken: session.csrfToken,
        expiresAt: session.expiresAt.toISOString(),
      };
    },
  );
};
