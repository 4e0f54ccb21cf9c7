import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';

let stack: TestStack;
let acme: TestTenant;
let counter = 0;

beforeAll(async () => {
  stack = await createTestStack({ name: 'console-auth' });
  acme = await stack.createTenant('Acme Console');
});
afterAll(() => stack.close());

/** A new user invited by the admin, who accepts with this password; each test its own e-mail. */
async function invitedUser(password = 'senha-forte-123', role = 'supervisor') {
  const email = `pessoa${++counter}-${Date.now()}@acme.test`;
  const created = await stack.app.inject({
    method: 'POST',
    url: '/v1/users',
    headers: bearer(acme.adminKey),
    payload: { name: `Pessoa ${counter}`, email, role },
  });
  expect(created.statusCode).toBe(201);
  const invite = await stack.app.inject({ method: 'POST', url: `/v1/users/${created.json().id}/invites`, headers: bearer(acme.adminKey) });
  expect(invite.statusCode).toBe(201);
  const token = invite.json().inviteUrl.split('/convite/')[1];
  const accepted = await stack.app.inject({ method: 'POST', url: '/v1/auth/invites/accept', payload: { token, password } });
  return { email, password, token, userId: created.json().id as string, accepted };
}

const signIn = (email: string, password: string) => stack.app.inject({ method: 'POST', url: '/v1/auth/session', payload: { email, password } });
const sessionCookie = (res: { cookies: Array<{ name: string; value: string }> }) => res.cookies.find((c) => c.name === 'omni_session')?.value ?? '';

describe('console sign-in', () => {
  it('accepts an invite once: the password is stored as argon2id, the user is signed in, and the link cannot be used again', async () => {
    const { accepted, token, userId } = await invitedUser();
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ user: { id: userId, role: 'supervisor' }, tenant: { id: acme.tenantId }, csrfToken: expect.any(String) });
    const cookie = accepted.cookies.find((c) => c.name === 'omni_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    const row = await stack.database.db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    const again = await stack.app.inject({ method: 'POST', url: '/v1/auth/invites/accept', payload: { token, password: 'outra-senha-456' } });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('INVITE_INVALID');
  });

  it('signs in with the right password and the session answers who is signed in', async () => {
    const { email, password } = await invitedUser();
    const res = await signIn(email.toUpperCase(), password);
    expect(res.statusCode).toBe(200);
    const me = await stack.app.inject({ method: 'GET', url: '/v1/auth/session', cookies: { omni_session: sessionCookie(res) } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ user: { role: 'supervisor' }, tenant: { name: 'Acme Console' }, csrfToken: res.json().csrfToken });
  });

  it('refuses a wrong password and an unknown e-mail alike, with 401 SIGN_IN_FAILED', async () => {
    const { email } = await invitedUser();
    for (const res of [await signIn(email, 'errada-errada'), await signIn(`ninguem-${Date.now()}@acme.test`, 'qualquer-uma')]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('SIGN_IN_FAILED');
      expect(res.cookies).toHaveLength(0);
    }
  });

  it('throttles an e-mail after five failures with 429 SIGN_IN_THROTTLED, even for the right password', async () => {
    const { email, password } = await invitedUser();
    for (let i = 0; i < 5; i++) expect((await signIn(email, `errada-${i}-xxxx`)).statusCode).toBe(401);
    const blocked = await signIn(email, password);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('SIGN_IN_THROTTLED');
    expect(blocked.headers['retry-after']).toBeDefined();
    const stored = await stack.database.db.selectFrom('sign_in_failures').select('id').where('email', '=', email).execute();
    expect(stored).toHaveLength(5);
  });

  it('needs the CSRF token for a change made with the cookie, not for a read', async () => {
    const { email, password } = await invitedUser();
    const res = await signIn(email, password);
    const cookies = { omni_session: sessionCookie(res) };
    const payload = { name: `Estratégia CSRF ${Date.now()}`, maxAttempts: 2 };
    const without = await stack.app.inject({ method: 'POST', url: '/v1/dialer/strategies', cookies, payload });
    expect(without.statusCode).toBe(403);
    expect(without.json().code).toBe('CSRF_TOKEN_INVALID');
    const wrong = await stack.app.inject({ method: 'POST', url: '/v1/dialer/strategies', cookies, payload, headers: { 'x-csrf-token': 'x'.repeat(43) } });
    expect(wrong.statusCode).toBe(403);
    const read = await stack.app.inject({ method: 'GET', url: '/v1/dialer/strategies', cookies });
    expect(read.statusCode).toBe(200);
    const withToken = await stack.app.inject({
      method: 'POST',
      url: '/v1/dialer/strategies',
      cookies,
      payload,
      headers: { 'x-csrf-token': res.json().csrfToken },
    });
    expect(withToken.statusCode).not.toBe(403);
    expect(withToken.statusCode).toBeLessThan(500);
  });

  it('signs out: the session ends and the cookie no longer works', async () => {
    const { email, password } = await invitedUser();
    const res = await signIn(email, password);
    const cookies = { omni_session: sessionCookie(res) };
    const out = await stack.app.inject({ method: 'DELETE', url: '/v1/auth/session', cookies, headers: { 'x-csrf-token': res.json().csrfToken } });
    expect(out.statusCode).toBe(204);
    const after = await stack.app.inject({ method: 'GET', url: '/v1/me', cookies });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('SESSION_INVALID');
  });

  it('keeps API keys working for machines, and only admins invite', async () => {
    const me = await stack.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(acme.supervisorKey) });
    expect(me.statusCode).toBe(200);
    const { userId } = await invitedUser();
    const byViewer = await stack.app.inject({ method: 'POST', url: `/v1/users/${userId}/invites`, headers: bearer(acme.viewerKey) });
    expect(byViewer.statusCode).toBe(403);
  });

  it('refuses a short password when accepting an invite', async () => {
    const { accepted } = await invitedUser('curta');
    expect(accepted.statusCode).toBe(400);
  });
});
