import { z } from 'zod';
import { checkPassword, clearFailures, createSession, isThrottled, recordFailure, revokeSession, THROTTLE } from '../../db/sessions';
import { badRequest, ProblemError } from '../problem';
import { errorResponses, problemSchema } from '../problem-schema';
import type { RoutePlugin } from '../types';
import { clearSessionCookie, setSessionCookie } from './cookie';
import { emailSchema, sessionSchema } from './schemas';

/** Console sign-in: a person's e-mail and password open a cookie session (machines keep their API keys). */
export const authSessionRoutes: RoutePlugin = (app, { db, config }) => {
  const tenantName = async (id: string) => (await db.selectFrom('tenants').select('name').where('id', '=', id).executeTakeFirstOrThrow()).name;

  app.post(
    '/auth/session',
    {
      config: { auth: false },
      schema: {
        tags: ['account'],
        summary: 'Sign in to the console with e-mail and password',
        description: `Sets the httpOnly cookie \`omni_session\`. After ${THROTTLE.perEmail} failures for one e-mail (or ${THROTTLE.perIp} from one address) in ${THROTTLE.windowMs / 60_000} minutes, answers 429 SIGN_IN_THROTTLED.`,
        body: z.object({ email: emailSchema, password: z.string().min(1).max(200) }),
        response: { 200: sessionSchema, ...errorResponses, 429: problemSchema },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      if (await isThrottled(db, email, request.ip)) {
        reply.header('retry-after', String(THROTTLE.windowMs / 1000));
        throw new ProblemError(429, 'SIGN_IN_THROTTLED', 'Too many failed sign-ins; wait a few minutes and try again.');
      }
      const user = await checkPassword(db, email, password);
      if (!user) {
        await recordFailure(db, email, request.ip);
        throw new ProblemError(401, 'SIGN_IN_FAILED', 'E-mail or password is wrong.');
      }
      await clearFailures(db, email);
      const session = await createSession(db, user);
      setSessionCookie(reply, request, config, session.token, session.expiresAt);
      return {
        user: { id: user.userId, name: user.name, role: user.role },
        tenant: { id: user.tenantId, name: await tenantName(user.tenantId) },
        csrfToken: session.csrfToken,
        expiresAt: session.expiresAt.toISOString(),
      };
    },
  );

  app.get(
    '/auth/session',
    {
      schema: {
        tags: ['account'],
        summary: 'Who is signed in, and the CSRF token for changes',
        response: { 200: sessionSchema, ...errorResponses },
      },
    },
    async (request) => ({
      user: { id: request.auth.userId, name: request.auth.userName, role: request.auth.role },
      tenant: { id: request.auth.tenantId, name: await tenantName(request.auth.tenantId) },
      csrfToken: request.session?.csrfToken,
      expiresAt: request.session?.expiresAt.toISOString(),
    }),
  );

  app.delete(
    '/auth/session',
    {
      config: { minRole: 'viewer' },
      schema: {
        tags: ['account'],
        summary: 'Sign out (ends the cookie session)',
        response: { 204: z.null().describe('Signed out'), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!request.session)
        throw badRequest('NOT_SIGNED_IN', 'This request is made with an API key, not a console session; revoke keys with DELETE /v1/api-keys/{id}.');
      await revokeSession(db, request.session.sessionId);
      clearSessionCookie(reply, request, config);
      return reply.code(204).send(null);
    },
  );
};
