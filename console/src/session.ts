import { api, type Schemas, setCsrfToken } from './api/client';

export type Session = Schemas['ConsoleSession'];

/** The session from the cookie, if any (the CSRF token comes with it). */
export async function loadSession(): Promise<Session | null> {
  const { data } = await api.GET('/v1/auth/session');
  setCsrfToken(data?.csrfToken);
  return data ?? null;
}

export async function signOut(): Promise<void> {
  await api.DELETE('/v1/auth/session');
  setCsrfToken(undefined);
}
