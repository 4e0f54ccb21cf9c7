import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, Role } from './schema';

/**
 * Tenants, users and API keys. A key reads `omni_<id>_<secret>`: the id is stored in clear to
 * find the row, the secret only as a SHA-256 hash (it is 256 random bits, so a slow hash adds
 * nothing). The whole key is shown once, when it is created.
 */
const KEY_PREFIX = 'omni_';

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export interface IssuedKey {
  id: string;
  key: string;
}

export async function createTenant(db: Kysely<Database>, name: string) {
  return db.insertInto('tenants').values({ name }).returningAll().executeTakeFirstOrThrow();
}

export async function createUser(db: Kysely<Database>, input: { tenantId: string; name: string; email: string; role: Role }) {
  return db
    .insertInto('users')
    .values({ tenant_id: input.tenantId, name: input.name, email: input.email.toLowerCase(), role: input.role })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function issueApiKey(db: Kysely<Database>, input: { tenantId: string; userId: string; name: string }): Promise<IssuedKey> {
  const id = `k${randomBytes(6).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  await db
    .insertInto('api_keys')
    .values({ id, tenant_id: input.tenantId, user_id: input.userId, name: input.name, secret_hash: hashSecret(secret) })
    .execute();
  return { id, key: `${KEY_PREFIX}${id}_${secret}` };
}

export interface KeyOwner {
  keyId: string;
  tenantId: string;
  userId: string;
  role: Role;
  userName: string;
}

/** `api_keys.last_used_at` is written at most once a minute per key (not a write per request). */
const LAST_USED_EVERY_MS = 60_000;

/** Marks the key used now, unless another request (of any process) did within the minute. Never fails the request. */
async function touchApiKey(db: Kysely<Database>, id: string): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: sql`now()` })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
    .execute()
    .catch(() => undefined);
}

/** The key's owner, or undefined for a malformed, unknown, revoked or wrong key. */
export async function verifyApiKey(db: Kysely<Database>, presented: string): Promise<KeyOwner | undefined> {
  const match = /^omni_(k[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(presented.trim());
  if (!match) return undefined;
  const [, id, secret] = match;
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id',
      'api_keys.tenant_id',
      'api_keys.user_id',
      'api_keys.secret_hash',
      'api_keys.revoked_at',
      'api_keys.last_used_at',
      'users.role',
      'users.name',
    ])
    .where('api_keys.id', '=', id)
    .executeTakeFirst();
  if (!row || row.revoked_at) return undefined;
  const expected = Buffer.from(row.secret_hash, 'hex');
  const actual = Buffer.from(hashSecret(secret), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() >= LAST_USED_EVERY_MS) void touchApiKey(db, row.id);
  return { keyId: row.id, tenantId: row.tenant_id, userId: row.user_id, role: row.role, userName: row.name };
}

/** Creates a tenant with its first admin user and key (used by `npm start` and the admin command). */
export async function bootstrapTenant(db: Kysely<Database>, input: { tenantName: string; adminName?: string; adminEmail?: string }) {
  return db.transaction().execute(async (trx) => {
    const tenant = await createTenant(trx, input.tenantName);
    const user = await createUser(trx, {
      tenantId: tenant.id,
      name: input.adminName ?? 'Administrador',
      email: input.adminEmail ?? 'admin@localhost',
      role: 'admin',
    });
    const key = await issueApiKey(trx, { tenantId: tenant.id, userId: user.id, name: 'bootstrap admin key' });
    return { tenant, user, key };
  });
}
