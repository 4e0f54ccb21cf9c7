import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './openapi';

/** The console is a client of /v1 like any other, typed from the API's own OpenAPI document. */
export type Schemas = components['schemas'];
export type { paths };
export type Problem = Schemas['Problem'];

let csrfToken: string | undefined;
export const setCsrfToken = (token: string | undefined) => {
  csrfToken = token;
};

/** Changes made with the session cookie carry the session's CSRF token. */
const csrf: Middleware = {
  onRequest({ request }) {
    if (csrfToken && !['GET', 'HEAD'].includes(request.method)) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

/** A multipart upload (openapi-fetch sends JSON); the answer is typed by the caller. */
export async function upload<T>(url: string, form: FormData): Promise<{ data?: T; error?: Problem }> {
  const res = await fetch(url, { method: 'POST', body: form, credentials: 'same-origin', headers: csrfToken ? { 'X-CSRF-Token': csrfToken } : {} });
  const body = await res.json().catch(() => undefined);
  return res.ok ? { data: body as T } : { error: body as Problem };
}

/** The problem's text for a person: its detail, and each field's message. */
export function problemText(problem: unknown): string {
  const p = problem as Partial<Problem> | undefined;
  if (!p?.detail) return 'Não foi possível concluir. Tente de novo.';
  return p.detail;
}

/** Field errors of a 400 validation problem, by dotted field name. */
export function fieldErrors(problem: unknown): Record<string, string> {
  const p = problem as Partial<Problem> | undefined;
  const out: Record<string, string> = {};
  for (const e of p?.errors ?? []) out[e.field] ??= e.message;
  return out;
}
