import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimError, SimStore, type StoreOptions } from './store';
import { percentile, WebhookDispatcher, type WebhookSettings } from './webhook';

export interface MercadoLivreSimulatorOptions extends Partial<StoreOptions> {
  port?: number;
  host?: string;
  webhook?: Partial<WebhookSettings>;
  /** Seed the default sellers and listings (on by default). */
  seed?: boolean;
}

export interface Faults {
  /** Share of API calls answered 429 / 503. */
  rate429: number;
  rate5xx: number;
  /** The next n API calls answered 429 / 503. */
  next429: number;
  next5xx: number;
  /** Extra latency on every API call, in ms. */
  latencyMs: number;
  /** The next n writes (answers, messages) are applied and then the connection is dropped: the caller never hears back. */
  dropNextWrites: number;
}

export interface MercadoLivreSimulator {
  url: string;
  port: number;
  store: SimStore;
  webhook: WebhookDispatcher;
  faults: Faults;
  /** Creates a question as a buyer would and notifies it (topic `questions`). */
  ask(input: { itemId?: string; sellerId?: number; text: string; buyerId?: number }): ReturnType<SimStore['ask']>;
  notify(topic: string, resource: string, userId: number): void;
  stop(): Promise<void>;
}

const noFaults = (): Faults => ({ rate429: 0, rate5xx: 0, next429: 0, next5xx: 0, latencyMs: 0, dropNextWrites: 0 });

/** Answers a write, or (fault injection) drops the connection after applying it. */
function written(ctx: Ctx, res: ServerResponse, status: number, body: unknown): void {
  if (ctx.faults.dropNextWrites > 0) {
    ctx.faults.dropNextWrites--;
    res.destroy();
    return;
  }
  json(res, status, body);
}

/**
 * A local Mercado Livre API (api.mercadolibre.com + the authorization page) on the contract in
 * shared/mercadolivre-contract.md, with a control API under `/_sim`. Shares no code with our client.
 */
export async function startMercadoLivreSimulator(options: MercadoLivreSimulatorOptions = {}): Promise<MercadoLivreSimulator> {
  const store = new SimStore({
    applicationId: options.applicationId ?? 5_569_000_000_001,
    clientId: options.clientId ?? '5569000000001',
    clientSecret: options.clientSecret ?? 'sim-client-secret',
    accessTokenSeconds: options.accessTokenSeconds ?? 21_600,
  });
  if (options.seed !== false) store.seed();
  const webhook = new WebhookDispatcher(options.webhook);
  const faults = noFaults();
  const notify = (topic: string, resource: string, userId: number) => webhook.enqueue(store.feed(topic, resource, userId));
  const ask = (input: Parameters<SimStore['ask']>[0]) => {
    const q = store.ask(input);
    notify('questions', `/questions/${q.id}`, q.seller_id);
    return q;
  };
  const ctx: Ctx = { store, webhook, faults, notify, ask };

  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      if (error instanceof SimError) return json(res, error.status, error.body());
      json(res, 500, { message: String(error), error: 'internal_error', status: 500, cause: [] });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    store,
    webhook,
    faults,
    ask,
    notify,
    stop: async () => {
      webhook.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Ctx {
  store: SimStore;
  webhook: WebhookDispatcher;
  faults: Faults;
  notify(topic: string, resource: string, userId: number): void;
  ask: MercadoLivreSimulator['ask'];
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) throw new SimError(413, 'bad_request', 'body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function bodyOf(req: IncomingMessage): Promise<Record<string, any>> {
  const text = await readBody(req);
  if (!text) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    throw new SimError(400, 'bad_request', 'body is not JSON');
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function handle(ctx: Ctx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path.startsWith('/_sim')) return control(ctx, method, path, req, res);
  if (path === '/authorization') return authorization(ctx, url, res);
  if (path === '/oauth/token' && method === 'POST') {
    await injectFaults(ctx.faults, false);
    return json(res, 200, ctx.store.token(await bodyOf(req)));
  }

  await injectFaults(ctx.faults, true);
  ctx.store.counters.apiCalls++;
  const seller = ctx.store.authenticate(req.headers.authorization);
  const { store } = ctx;
  const isMessages = path.startsWith('/messages');
  if (isMessages && url.searchParams.get('tag') !== 'post_sale') throw new SimError(400, 'bad_request', 'tag=post_sale is required');
  let m: RegExpExecArray | null;

  if (path === '/users/me') return json(res, 200, { id: seller, nickname: store.sellers.get(seller)?.nickname, site_id: 'MLB' });
  if ((m = /^\/items\/([A-Z0-9]+)$/.exec(path))) {
    const item = store.items.get(m[1]);
    if (!item) throw new SimError(404, 'not_found', `Item ${m[1]} not found`);
    return json(res, 200, item);
  }
  if (path === '/questions/search') return json(res, 200, store.searchQuestions(seller, url.searchParams));
  if ((m = /^\/questions\/(\d+)$/.exec(path))) return json(res, 200, store.question(Number(m[1]), seller));
  if (path === '/answers' && method === 'POST') {
    const q = store.answer(seller, await bodyOf(req));
    ctx.notify('questions', `/questions/${q.id}`, seller);
    return written(ctx, res, 200, q);
  }
  if ((m = /^\/orders\/(\d+)$/.exec(path))) {
    const pack = [...store.packs.values()].find((p) => p.order_id === Number(m![1]) && p.seller_id === seller);
    if (!pack) throw new SimError(404, 'not_found', `Order ${m[1]} not found`);
    return json(res, 200, {
      id: pack.order_id,
      pack_id: pack.id,
      status: 'paid',
      seller: { id: seller },
      buyer: { id: pack.buyer_id },
      order_items: [{ item: { id: pack.item_id } }],
    });
  }
  if (path === '/messages/unread') return json(res, 200, store.unread(seller));
  if ((m = /^\/messages\/action_guide\/packs\/(\d+)$/.exec(path)) && method === 'GET') return json(res, 200, store.actionGuide(Number(m[1]), seller));
  if ((m = /^\/messages\/action_guide\/packs\/(\d+)\/option$/.exec(path)) && method === 'POST') {
    const message = store.sendOption(Number(m[1]), seller, await bodyOf(req));
    return written(ctx, res, 201, message);
  }
  if ((m = /^\/messages\/packs\/(\d+)\/sellers\/(\d+)$/.exec(path))) {
    if (Number(m[2]) !== seller) throw new SimError(403, 'forbidden', 'seller_id does not match the token');
    const packId = Number(m[1]);
    if (method === 'POST') {
      const message = store.sellerWrites(packId, seller, await bodyOf(req));
      return written(ctx, res, 201, message);
    }
    const pack = store.pack(packId, seller);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 10), 100);
    if (url.searchParams.get('mark_as_read') !== 'false') store.markRead(packId, seller);
    return json(res, 200, {
      paging: { limit, offset, total: pack.messages.length },
      conversation_status: {
        path: `/packs/${pack.id}/sellers/${seller}`,
        status: pack.status,
        substatus: pack.substatus,
        status_date: pack.status_date,
        status_update_allowed: false,
        claim_ids: null,
        shipping_id: null,
      },
      messages: [...pack.messages].reverse().slice(offset, offset + limit),
    });
  }
  if ((m = /^\/messages\/([0-9a-f]+)$/.exec(path))) {
    const message = store.messagesById.get(m[1]);
    if (!message || store.packs.get(message.pack_id)?.seller_id !== seller) throw new SimError(404, 'not_found', `Message ${m[1]} not found`);
    return json(res, 200, {
      messages: [
        {
          ...message,
          message_resources: [
            { id: String(message.pack_id), name: 'packs' },
            { id: String(seller), name: 'sellers' },
          ],
        },
      ],
    });
  }
  if (path === '/missed_feeds') {
    const topic = url.searchParams.get('topic');
    if (url.searchParams.get('app_id') !== String(store.options.applicationId)) throw new SimError(403, 'forbidden', "app_id is not the caller's application");
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 50), 1000);
    const missed = store.feeds.filter((f) => f.user_id === seller && (!topic || f.topic === topic) && !ctx.webhook.delivered.has(f._id));
    return json(res, 200, { messages: missed.slice(offset, offset + limit), paging: { total: missed.length, offset, limit } });
  }
  throw new SimError(404, 'not_found', `Resource ${path} not found`);
}

async function injectFaults(faults: Faults, api: boolean): Promise<void> {
  if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
  if (faults.next5xx > 0 || Math.random() < faults.rate5xx) {
    if (faults.next5xx > 0) faults.next5xx--;
    throw new SimError(503, 'service_unavailable', 'Service temporarily unavailable');
  }
  if (api && (faults.next429 > 0 || Math.random() < faults.rate429)) {
    if (faults.next429 > 0) faults.next429--;
    throw new SimError(429, 'too_many_requests', 'Too many requests');
  }
}

/** The seller's consent page: pick a seller (`seller_id` answers at once) and be sent back with a code. */
function authorization(ctx: Ctx, url: URL, res: ServerResponse): void {
  const q = url.searchParams;
  const redirectUri = q.get('redirect_uri') ?? '';
  if (q.get('response_type') !== 'code' || q.get('client_id') !== ctx.store.options.clientId || !/^https?:\/\//.test(redirectUri)) {
    throw new SimError(400, 'bad_request', 'response_type=code, the application client_id and a redirect_uri are required');
  }
  const sellerId = q.get('seller_id');
  if (sellerId) {
    const code = ctx.store.issueCode(Number(sellerId), redirectUri);
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    if (q.get('state')) target.searchParams.set('state', q.get('state')!);
    res.writeHead(302, { location: target.toString() }).end();
    return;
  }
  const links = [...ctx.store.sellers.values()]
    .map((s) => {
      const next = new URL(url.toString());
      next.searchParams.set('seller_id', String(s.id));
      return `<li><a href="${escapeHtml(next.pathname + next.search)}">Autorizar como ${escapeHtml(s.nickname)} (${s.id})</a></li>`;
    })
    .join('');
  const html = `<!doctype html><meta charset="utf-8"><title>Mercado Livre (simulador)</title><h1>Autorizar aplicação</h1><ul>${links}</ul>`;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
}

async function control(ctx: Ctx, method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { store, webhook, faults } = ctx;
  const body = method === 'POST' ? await bodyOf(req) : {};
  let m: RegExpExecArray | null;
  if (path === '/_sim/state' && method === 'GET') {
    return json(res, 200, {
      application: { id: store.options.applicationId, clientId: store.options.clientId },
      sellers: [...store.sellers.values()],
      items: [...store.items.values()],
      counters: store.counters,
      webhook: {
        settings: webhook.settings,
        stats: webhook.stats,
        pending: webhook.pending(),
        p50Ms: percentile(webhook.latencies, 50),
        p99Ms: percentile(webhook.latencies, 99),
      },
      faults,
    });
  }
  if (path === '/_sim/questions' && method === 'GET') return json(res, 200, { questions: [...store.questions.values()] });
  if (path === '/_sim/questions' && method === 'POST') {
    const q = ctx.ask({
      itemId: body.item_id,
      sellerId: body.seller_id === undefined ? undefined : Number(body.seller_id),
      text: String(body.text ?? ''),
      buyerId: body.buyer_id === undefined ? undefined : Number(body.buyer_id),
    });
    return json(res, 201, q);
  }
  if ((m = /^\/_sim\/questions\/(\d+)\/answer$/.exec(path)) && method === 'POST') {
    // The seller answering on Mercado Livre's own site.
    const q = store.questions.get(Number(m[1]));
    if (!q) throw new SimError(404, 'not_found', 'question not found');
    store.answer(q.seller_id, { question_id: q.id, text: body.text });
    ctx.notify('questions', `/questions/${q.id}`, q.seller_id);
    return json(res, 200, q);
  }
  if ((m = /^\/_sim\/questions\/(\d+)\/status$/.exec(path)) && method === 'POST') {
    const q = store.questions.get(Number(m[1]));
    if (!q) throw new SimError(404, 'not_found', 'question not found');
    q.status = body.status;
    ctx.notify('questions', `/questions/${q.id}`, q.seller_id);
    return json(res, 200, q);
  }
  if (path === '/_sim/orders' && method === 'POST') {
    const pack = store.createOrder({
      sellerId: body.seller_id === undefined ? undefined : Number(body.seller_id),
      itemId: body.item_id,
      buyerId: body.buyer_id === undefined ? undefined : Number(body.buyer_id),
    });
    ctx.notify('orders_v2', `/orders/${pack.order_id}`, pack.seller_id);
    return json(res, 201, pack);
  }
  if ((m = /^\/_sim\/packs\/(\d+)\/messages$/.exec(path)) && method === 'POST') {
    const message = store.buyerWrites(Number(m[1]), String(body.text ?? ''), Array.isArray(body.attachments) ? body.attachments : []);
    ctx.notify('messages', message.id, store.packs.get(message.pack_id)!.seller_id);
    return json(res, 201, message);
  }
  if ((m = /^\/_sim\/packs\/(\d+)\/block$/.exec(path)) && method === 'POST') {
    const pack = store.block(Number(m[1]), String(body.substatus ?? 'blocked_by_buyer'));
    return json(res, 200, pack);
  }
  if ((m = /^\/_sim\/packs\/(\d+)$/.exec(path)) && method === 'GET') {
    const pack = store.packs.get(Number(m[1]));
    if (!pack) throw new SimError(404, 'not_found', 'pack not found');
    return json(res, 200, pack);
  }
  if (path === '/_sim/faults' && method === 'POST') {
    for (const key of Object.keys(faults) as (keyof Faults)[]) if (typeof body[key] === 'number') faults[key] = body[key];
    return json(res, 200, faults);
  }
  if (path === '/_sim/tokens/expire' && method === 'POST')
    return json(res, 200, { expired: store.expireTokens(body.seller_id === undefined ? undefined : Number(body.seller_id)) });
  if (path === '/_sim/grants/revoke' && method === 'POST') {
    store.revokeGrants(Number(body.seller_id));
    return json(res, 200, { revoked: true });
  }
  if (path === '/_sim/webhook' && method === 'POST') {
    for (const key of Object.keys(body))
      if (key in webhook.settings || key === 'url') (webhook.settings as unknown as Record<string, unknown>)[key] = body[key];
    if (body.resetStats) webhook.resetStats();
    return json(res, 200, webhook.settings);
  }
  if (path === '/_sim/notifications' && method === 'POST') {
    // A raw notification (or a burst of them) for the receiver: topic, resource, user_id, count.
    const count = Math.min(Number(body.count ?? 1), 100_000);
    for (let i = 0; i < count; i++) ctx.notify(String(body.topic ?? 'questions'), String(body.resource ?? ''), Number(body.user_id));
    return json(res, 202, { queued: count });
  }
  throw new SimError(404, 'not_found', `no control route ${method} ${path}`);
}
