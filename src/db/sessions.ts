import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { sql, type Kysely } from 'kysely';
import type { KeyOwner } from './accounts';
import type { Database } from './schema';

/**
 * Console sign-in: argon2id password hashes (OWASP's minimum: 19 MiB, 2 passes), sessions and
 * invites as random tokens stored only as SHA-256 hashes (256 random bits need no slow hash), and
 * throttling counted from stored failures so it holds across processes.
 */
/** The package's default algorithm is argon2id (its const enum cannot be named under isolatedModules). */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Failures within the window that block further tries: per e-mail (one person's account) and per address (one attacker, many accounts). */
export const THROTTLE = { windowMs: 15 * 60 * 1000, perEmail: 5, perIp: 30 };

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

/** Compared against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password. */
let dummyHash: Promise<string> | undefined;

export const hashPassword = (password: string) => hash(password, ARGON2);

export interface SignedInUser {
  userId: string;
  tenantId: string;
  role: KeyOwner['role'];
  name: string;
}

export async function checkPassword(db: Kysely<Database>, email: string, password: string): Promise<SignedInUser | undefined> {
  const user = await db
    .selectFrom('users')
    .select(['id', 'tenant_id', 'role', 'name', 'password_hash'])
    .where('email', '=', email.toLowerCase())
    .where('password_hash', 'is not', null)
    .executeTakeFirst();
  if (!user?.password_hash) {
    dummyHash ??= hashPassword(newToken());
    await verify(await dummyHash, password).catch(() => false);
    return undefined;
  }
  const ok = await verify(user.password_hash, password).catch(() => false);
  return ok ? { userId: user.id, tenantId: user.tenant_id, role: user.role, name: user.name } : undefined;
}

/** True when this e-mail or address has failed too often lately. */
export async function isThrottled(db: Kysely<Database>, email: string, ip: string): Promise<boolean> {
  const since = new Date(Date.now() - THROTTLE.windowMs);
  const row = await db
    .selectFrom('sign_in_failures')
    .select([
      sql<number>`count(*) FILTER (WHERE email = ${email.toLowerCase()})::int`.as('byEmail'),
      sql<number>`count(*) FILTER (WHERE ip = ${ip})::int`.as('byIp'),
    ])
    .where('created_at', '>', since)
    .where((eb) => eb.or([eb('email', '=', email.toLowerCase()), eb('ip', '=', ip)]))
    .executeTakeFirstOrThrow();
  return row.byEmail >= THROTTLE.perEmail || row.byIp >= THROTTLE.perIp;
}

export async function recordFailure(db: Kysely<Database>, email: string, ip: string): Promise<void> {
  await db.insertInto('sign_in_failures').values({ email: email.toLowerCase(), ip }).execute();
  // Old failures count for nothing; clear them as we go (a small delete per failure).
  await db
    .deleteFrom('sign_in_failures')
    .where('created_at', '<', new Date(Date.now() - THROTTLE.windowMs))
    .execute();
}

export async function clearFailures(db: Kysely<Database>, email: string): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('email', '=', email.toLowerCase()).execute();
}

export interface IssuedSession {
  id: string;
  token: string;
  csrfToken: string;
  expiresAt: Date;
}

export async function createSession(db: Kysely<Database>, user: SignedInUser): Promise<IssuedSession> {
  const token = newToken();
  const csrfToken = newToken();
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  const row = await db
    .insertInto('user_sessions')
    .values({ tenant_id: user.tenantId, user_id: user.userId, token_hash: sha256(token), csrf_token: csrfToken, expires_at: expiresAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, token, csrfToken, expiresAt };
}

export interface SessionOwner extends KeyOwner {
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
}

/** The live session for a cookie token, or undefined (unknown, expired, revoked). */
export async function findSession(db: Kysely<Database>, token: string): Promise<SessionOwner | undefined> {
  if (token.length < 20 || token.length > 100) return undefined;
  const row = await db
    .selectFrom('user_sessions')
    .innerJoin('users', 'users.id', 'user_sessions.user_id')
    .select(['user_sessions.id', 'user_sessions.tenant_id', 'user_sessions.user_id', 'user_sessions.csrf_token', 'user_sessions.expires_at'])
    .select(['users.role', 'users.name'])
    .where('user_sessions.token_hash', '=', sha256(token))
    .where('user_sessions.revoked_at', 'is', null)
    .where('user_sessions.expires_at', '>', new Date())
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    // The audit log names the session where it would name the key.
    keyId: `session:${row.id}`,
    tenantId: row.tenant_id,
    userId: row.user_id,
    role: row.role,
    userName: row.name,
    sessionId: row.id,
    csrfToken: row.csrf_token,
    expiresAt: new Date(row.expires_at),
  };
}

export async function revokeSession(db: Kysely<Database>, sessionId: string): Promise<void> {
  await db.updateTable('user_sessions').set({ revoked_at: new Date() }).where('id', '=', sessionId).execute();
}

/** A new single-use invite for the user (earlier unused ones stop working). The link carries the token. */
export async function createInvite(db: Kysely<Database>, input: { tenantId: string; userId: string; createdBy?: string }) {
  const token = newToken();
  const expiresAt = new Date(Date.now() + INVITE_TTL_MS);
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('user_invites').where('user_id', '=', input.userId).where('accepted_at', 'is', null).execute();
    await trx
      .insertInto('user_invites')
      .values({ tenant_id: input.tenantId, user_id: input.userId, token_hash: sha256(token), created_by: input.createdBy ?? null, expires_at: expiresAt })
      .execute();
  });
  return { token, expiresAt };
}

/** Where an invite link points: the console's accept screen, the token in the fragment (never sent to a server log). */
export const inviteUrl = (baseUrl: string, token: string) => `${baseUrl.replace(/\/+$/, '')}/console/#/convite/${token}`;

export type AcceptResult = { ok: true; user: SignedInUser; email: string } | { ok: false; reason: 'INVITE_INVALID' | 'EMAIL_TAKEN' };

/** Sets the password of the invited user and spends the invite, in one transaction. */
export async function acceptInvite(db: Kysely<Database>, token: string, password: string): Promise<AcceptResult> {
  const passwordHash = await hashPassword(password);
  return db.transaction().execute(async (trx): Promise<AcceptResult> => {
    const invite = await trx
      .selectFrom('user_invites')
      .innerJoin('users', 'users.id', 'user_invites.user_id')
      .select(['user_invites.id', 'users.id as userId', 'users.tenant_id', 'users.role', 'users.name', 'users.email'])
      .where('user_invites.token_hash', '=', sha256(token))
      .where('user_invites.accepted_at', 'is', null)
      .where('user_invites.expires_at', '>', new Date())
      .forUpdate()
      .executeTakeFirst();
    if (!invite) return { ok: false, reason: 'INVITE_INVALID' };
    const taken = await trx
      .selectFrom('users')
      .select('id')
      .where('email', '=', invite.email)
      .where('password_hash', 'is not', null)
      .where('id', '!=', invite.userId)
      .executeTakeFirst();
    if (taken) return { ok: false, reason: 'EMAIL_TAKEN' };
    await trx.updateTable('user_invites').set({ accepted_at: new Date() }).where('id', '=', invite.id).execute();
    await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', invite.userId).execute();
    // A new password ends the sessions signed in with the old one.
    await trx.updateTable('user_sessions').set({ revoked_at: new Date() }).where('user_id', '=', invite.userId).where('revoked_at', 'is', null).execute();
    return { ok: true, user: { userId: invite.userId, tenantId: invite.tenant_id, role: invite.role, name: invite.name }, email: invite.email };
  });
}
