import type { MlActionGuide, MlMessage, MlNotification, MlOrder, MlPackMessages, MlQuestion, MlTokenGrant } from './types';

/**
 * Mercado Livre's REST API (api.mercadolibre.com), the subset a contact-centre channel uses:
 * OAuth tokens, questions and answers, post-sale messages, missed notifications.
 * See shared/mercadolivre-contract.md. Every call takes the seller's access token; refreshing is
 * not done here (see session.ts: one refresher per seller).
 */

export const DEFAULT_API_URL = 'https://api.mercadolibre.com';
export const DEFAULT_AUTH_URL = 'https://auth.mercadolivre.com.br';
/** Integrators report 2,000 characters for an answer and 350 for a seller's post-sale free text. */
export const ANSWER_MAX_CHARS = 2000;
export const MESSAGE_MAX_CHARS = 350;

/** An answer from Mercado Livre other than 2xx: `{message, error, status, cause}`. */
export class MercadoLivreApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly error: string,
    message: string,
    public readonly retryable: boolean,
  ) {
    super(`Mercado Livre ${status} ${error}: ${message}`);
    this.name = 'MercadoLivreApiError';
  }
}

/** No answer at all (timeout, connection refused): the outcome of a write is unknown. */
export class MercadoLivreTransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MercadoLivreTransportError';
  }
}

export interface MercadoLivreClientOptions {
  apiUrl?: string;
  authUrl?: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number;
}

export function createMercadoLivreClient(options: MercadoLivreClientOptions) {
  const apiUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/$/, '');
  const authUrl = (options.authUrl ?? DEFAULT_AUTH_URL).replace(/\/$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function call<T>(method: string, path: string, init: { token?: string; json?: unknown; form?: Record<string, string> } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    let body: string | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    let response: Response;
    try {
      response = await fetch(apiUrl + path, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new MercadoLivreTransportError(`Mercado Livre ${method} ${path}: ${(error as Error).message}`);
    }
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: the body of an answer, success or error, of any shape
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.ok) return parsed as T;
    const status = response.status;
    const retryable = status === 429 || status >= 500;
    throw new MercadoLivreApiError(
      status,
      String(parsed?.error ?? (status === 401 ? 'unauthorized' : 'error')),
      String(parsed?.message ?? text.slice(0, 200)),
      retryable,
    );
  }

  const get = <T>(path: string, token: string) => call<T>('GET', path, { token });
  const q = (params: Record<string, string | number | undefined>) =>
    new URLSearchParams(
      Object.entries(params)
        .filter((e): e is [string, string | number] => e[1] !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();

  return {
    /** The page the seller opens to authorize us (the browser goes there, not this process). */
    authorizationUrl(redirectUri: string, state: string): string {
      return `${authUrl}/authorization?${q({ response_type: 'code', client_id: options.clientId, redirect_uri: redirectUri, state })}`;
    },
    exchangeCode: (code: string, redirectUri: string) =>
      call<MlTokenGrant>('POST', '/oauth/token', {
        form: { grant_type: 'authorization_code', client_id: options.clientId, client_secret: options.clientSecret, code, redirect_uri: redirectUri },
      }),
    /** Spends the refresh token: the answer's refresh_token is the only one that works afterwards. */
    refresh: (refreshToken: string) =>
      call<MlTokenGrant>('POST', '/oauth/token', {
        form: { grant_type: 'refresh_token', client_id: options.clientId, client_secret: options.clientSecret, refresh_token: refreshToken },
      }),
    me: (token: string) => get<{ id: number; nickname: string }>('/users/me', token),
    item: (token: string, itemId: string) => get<{ id: string; title: string; seller_id: number }>(`/items/${encodeURIComponent(itemId)}`, token),
    question: (token: string, id: number | string) => get<MlQuestion>(`/questions/${id}?api_version=4`, token),
    searchQuestions: (token: string, params: { sellerId: number | string; status?: string; item?: string; offset?: number; limit?: number }) =>
      get<{ total: number; questions: MlQuestion[] }>(
        `/questions/search?${q({
          seller_id: params.sellerId,
          api_version: 4,
          status: params.status,
          item: params.item,
          sort_fields: 'date_created',
          sort_types: 'DESC',
          offset: params.offset,
          limit: params.limit,
        })}`,
        token,
      ),
    answer: (token: string, questionId: number | string, text: string) =>
      call<MlQuestion>('POST', '/answers', { token, json: { question_id: Number(questionId), text } }),
    order: (token: string, orderId: number | string) => get<MlOrder>(`/orders/${orderId}`, token),
    message: (token: string, messageId: string) => get<{ messages: MlMessage[] }>(`/messages/${encodeURIComponent(messageId)}?tag=post_sale`, token),
    packMessages: (token: string, packId: string, sellerId: string, params: { offset?: number; limit?: number } = {}) =>
      get<MlPackMessages>(
        `/messages/packs/${packId}/sellers/${sellerId}?${q({
          tag: 'post_sale',
          mark_as_read: 'false',
          limit: params.limit ?? 100,
          offset: params.offset ?? 0,
        })}`,
        token,
      ),
    sendMessage: (token: string, packId: string, sellerId: string, buyerId: string, text: string) =>
      call<MlMessage>('POST', `/messages/packs/${packId}/sellers/${sellerId}?tag=post_sale`, {
        token,
        json: { from: { user_id: Number(sellerId) }, to: { user_id: Number(buyerId) }, text },
      }),
    actionGuide: (token: string, packId: string) => get<MlActionGuide>(`/messages/action_guide/packs/${packId}?tag=post_sale`, token),
    sendOption: (token: string, packId: string, option: { optionId: string; templateId?: string; text?: string }) =>
      call<MlMessage>('POST', `/messages/action_guide/packs/${packId}/option?tag=post_sale`, {
        token,
        json: { option_id: option.optionId, ...(option.templateId ? { template_id: option.templateId } : {}), ...(option.text ? { text: option.text } : {}) },
      }),
    missedFeeds: (token: string, appId: string, topic: string, offset = 0) =>
      get<{ messages: MlNotification[]; paging?: { total: number } }>(`/missed_feeds?${q({ app_id: appId, topic, offset, limit: 100 })}`, token),
  };
}

export type MercadoLivreClient = ReturnType<typeof createMercadoLivreClient>;
