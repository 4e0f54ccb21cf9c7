import { Agent } from 'undici';
import { AriError } from './errors';

/** The part of `fetch` the client needs; undici's and Node's global fetch both fit. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface AriHttpOptions {
  /** `http://host:8088` (a trailing `/ari` is accepted too). */
  baseUrl: string;
  username: string;
  password: string;
  fetch?: FetchLike;
  /** Per request; a timed-out originate is safe to retry because its channelId is fixed. */
  requestTimeoutMs?: number;
}

export interface AriResponse {
  status: number;
  body: string;
}

export type Query = Record<string, string | number | undefined>;

/** `http://host:8088/ari/` → `http://host:8088`, so paths can always start with `/ari`. */
export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/ari$/, '');
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export function createAriHttp(options: AriHttpOptions) {
  const root = serverRoot(options.baseUrl);
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  // Our own pool, sized for a few hundred channels' worth of concurrent requests.
  const agent = options.fetch ? undefined : new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  const send = (url: URL, init: Parameters<FetchLike>[1]) => (options.fetch ? options.fetch(url.toString(), init) : poolRequest(agent!, url, init));
  const authorization = basicAuth(options.username, options.password);

  async function request(operation: string, method: 'GET' | 'POST' | 'DELETE', path: string, query?: Query, json?: unknown): Promise<AriResponse> {
    const url = new URL(root + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    if (json !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await send(url, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      throw AriError.fromNetwork(operation, error);
    }
  }

  return {
    root,
    request,
    close: async () => {
      await agent?.close();
    },
  };
}

/**
 * A request on the pool with undici's own `request`, not its `fetch`: without WHATWG Headers,
 * Request and streams it costs a third of the CPU (an originate per call at 1,000 channels made
 * fetch a large share of the worker's CPU per call). Errors are alike: a timeout is the signal's
 * TimeoutError, a socket error carries its `code`.
 */
async function poolRequest(agent: Agent, url: URL, init: Parameters<FetchLike>[1]): Promise<{ status: number; text(): Promise<string> }> {
  const { statusCode, body } = await agent.request({
    origin: url.origin,
    path: url.pathname + url.search,
    method: init.method,
    headers: init.headers,
    body: init.body,
    signal: init.signal,
  });
  return { status: statusCode, text: () => body.text() };
}

export type AriHttp = ReturnType<typeof createAriHttp>;
