import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { verifyApiKey, type KeyOwner } from '../db/accounts';
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

/** Every route needs an API key unless its config says `auth: false`; the key fixes the tenant. */
export function registerAuth(app: FastifyInstance, db: Kysely<Database>): void {
  app.decorateRequest('auth', undefined as unknown as KeyOwner);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    const url = request.routeOptions.url;
    if (config?.auth === false || !url || url === '/docs' || url.startsWith('/docs/')) return;
    const key = presentedKey(request);
    if (!key) {
      throw new ProblemError(401, 'API_KEY_MISSING', 'Send your API key as `Authorization: Bearer <key>` or `X-Api-Key`.');
    }
    const owner = await verifyApiKey(db, key);
    if (!owner) throw new ProblemError(401, 'API_KEY_INVALID', 'The API key is unknown, malformed or revoked.');
    request.auth = owner;
    requireRole(request, requiredRole(request.method, config));
  });
}
