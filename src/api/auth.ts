import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { verifyApiKey, type KeyOwner } from '../db/accounts';
import { findSession, type SessionOwner } from '../db/sessions';
import type { Database, Role } from '../db/schema';
import { ProblemError } from './problem';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false for routes anyone may call: health, docs, provider webhooks. */
    auth?: boolean;
    /** The lowest role allowed; defaults to `viewer` for GET and `supervisor` otherwise. */
    minRole?: Role;
  }
  interface FastifyRequest {
    auth: KeyOwner;
    /** Set when the caller is a person signed in to the console (cookie), not a key. */
    session?: SessionOwner;
  }
}

/** An agent reads what a viewer reads and changes only their own agent state (routes with `minRole: 'agent'`). */
const rank: Record<Role, number> = { viewer: 0, agent: 1, supervisor: 2, admin: 3 };

export const hasRole = (owner: KeyOwner, needed: Role) => rank[owner.role] >= rank[needed];

/** For a role that depends on what the request touches (an export's data, a channel's credentials). */
export function requireRole(request: FastifyRequest, needed: Role, what?: string): void {
  if (hasRole(request.auth, needed)) return;
  throw new ProblemError(403, 'ROLE_TOO_LOW', `${what ?? 'This action'} needs the ${needed} role; your key has ${request.auth.role}.`, {
    requiredRole: needed,
    role: request.auth.role,
  });
}

/** The lowest role a route takes (the OpenAPI document states it too). */
export const requiredRole = (method: string, config: { minRole?: Role } | undefined): Role =>
  config?.minRole ?? (method === 'GET' || method === 'HEAD' ? 'viewer' : 'supervisor');

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.toLowerCase().startsWith('bearer ')) return header.slice(7).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

/** The console's session cookie: httpOnly, SameSite=Strict, Secure over https. */
export const SESSION_COOKIE = 'omni_session';
export const CSRF_HEADER = 'x-csrf-token';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A cookie rides along with any request the browser makes, so a change made with it must also
 * carry the session's CSRF token in a header (a synchronizer token a foreign page cannot read).
 */
async function sessionOwner(db: Kysely<Database>, request: FastifyRequest, token: string): Promise<SessionOwner> {
  const session = await findSession(db, token);
  if (!session) throw new ProblemError(401, 'SESSION_INVALID', 'Your session has ended or is unknown; sign in again.');
  if (!safeMethods.has(request.method)) {
    const presented = request.headers[CSRF_HEADER];
    if (typeof presented !== 'string' || !sameToken(presented, session.csrfToken)) {
      throw new ProblemError(
        403,
        'CSRF_TOKEN_INVALID',
        `A change made with the session cookie needs the header X-CSRF-Token with the session's token (GET /v1/auth/session).`,
      );
    }
  }
  return session;
}

/** Every route needs an API key or a console session unless its config says `auth: false`; either fixes the tenant. */
export function registerAuth(app: FastifyInstance, db: Kysely<Database>): void {
  app.decorateRequest('auth', undefined as unknown as KeyOwner);
  app.decorateRequest('session', undefined);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    const url = request.routeOptions.url;
    if (config?.auth === false || !url || url === '/docs' || url.startsWith('/docs/') || url.startsWith('/console')) return;
    const key = presentedKey(request);
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (!key && cookie) {
      request.session = await sessionOwner(db, request, cookie);
      request.auth = request.session;
      requireRole(request, requiredRole(request.method, config));
      return;
    }
    if (!key) {
      throw new ProblemError(401, 'API_KEY_MISSING', 'Send your API key as `Authorization: Bearer <key>` or `X-Api-Key`, or sign in to the console.');
    }
    const owner = await verifyApiKey(db, key);
    if (!owner) throw new ProblemError(401, 'API_KEY_INVALID', 'The API key is unknown, malformed or revoked.');
    request.auth = owner;
    requireRole(request, requiredRole(request.method, config));
  });
}
