import { randomBytes } from 'node:crypto';

/**
 * The simulated marketplace's state: one application, its sellers, listings, questions, orders
 * with their post-sale conversations, and the OAuth grants. Follows shared/mercadolivre-contract.md;
 * refuses what Mercado Livre refuses (a spent refresh token, an answer to an answered question,
 * a message to a blocked conversation, a seller's first message without an action-guide option).
 */

export type QuestionStatus = 'UNANSWERED' | 'ANSWERED' | 'CLOSED_UNANSWERED' | 'UNDER_REVIEW' | 'BANNED' | 'DELETED';

export interface SimQuestion {
  id: number;
  item_id: string;
  seller_id: number;
  status: QuestionStatus;
  text: string;
  date_created: string;
  hold: boolean;
  deleted_from_listing: boolean;
  suspected_spam: boolean;
  from: { id: number };
  answer: null | { text: string; status: 'ACTIVE' | 'DISABLED' | 'BANNED'; date_created: string };
}

export interface SimMessage {
  id: string;
  pack_id: number;
  from: { user_id: number };
  to: { user_id: number };
  text: string;
  attachments: { filename: string; original_filename: string; size: number; type: string }[];
  date_created: string;
  date_read: string | null;
  status: 'available' | 'moderated';
  moderation: { status: 'clean' | 'rejected' | 'pending' | 'non_moderated'; reason?: string; date_moderated: string; source: string };
  option_id?: string;
}

export interface SimPack {
  id: number;
  order_id: number;
  seller_id: number;
  buyer_id: number;
  item_id: string;
  status: 'active' | 'blocked';
  substatus: string | null;
  status_date: string;
  messages: SimMessage[];
  /** How many seller-started messages each action-guide option still allows. */
  caps: Record<string, number>;
}

export interface SimItem {
  id: string;
  seller_id: number;
  title: string;
  price: number;
  status: 'active' | 'closed';
}

export interface Feed {
  _id: string;
  resource: string;
  user_id: number;
  topic: string;
  application_id: number;
  attempts: number;
  sent: string;
  received: string;
}

export class SimError extends Error {
  constructor(
    public readonly status: number,
    public readonly error: string,
    message: string,
  ) {
    super(message);
  }
  body() {
    return { message: this.message, error: this.error, status: this.status, cause: [] };
  }
}

export const ACTION_OPTIONS = [
  {
    id: 'REQUEST_VARIANTS',
    type: 'template',
    template: 'Olá! Por favor, confirme as características que quer para o produto que você comprou, assim podemos fazer o envio.',
  },
  { id: 'REQUEST_BILLING_INFO', type: 'template', template: 'Para enviar a nota fiscal da sua compra preciso de: nome completo, CPF, endereço e CEP.' },
  { id: 'SEND_INVOICE_LINK', type: 'free_text' },
  { id: 'OTHER', type: 'free_text' },
] as const;

export const SELLER_TEXT_LIMIT = 350;
export const ANSWER_TEXT_LIMIT = 2000;
const SHORT_LINK = /\b(bit\.ly|bl\.ink|tinyurl\.com|rebrand\.ly|t2m\.io|polr|yourls|zpr\.io)\b/i;
const PERSONAL = /\b\d{2}\s?9?\d{4}-?\d{4}\b|@[a-z0-9-]+\.[a-z]{2,}/i;
const SOCIAL = /\b(instagram\.com|facebook\.com|wa\.me|whatsapp)\b/i;

export interface StoreOptions {
  applicationId: number;
  clientId: string;
  clientSecret: string;
  accessTokenSeconds: number;
}

const now = () => new Date().toISOString();
const token = (prefix: string, sellerId: number) => `${prefix}-${randomBytes(12).toString('hex')}-${sellerId}`;

export class SimStore {
  readonly sellers = new Map<number, { id: number; nickname: string }>();
  readonly items = new Map<string, SimItem>();
  readonly questions = new Map<number, SimQuestion>();
  readonly packs = new Map<number, SimPack>();
  readonly messagesById = new Map<string, SimMessage>();
  private readonly codes = new Map<string, { sellerId: number; redirectUri: string; expiresAt: number }>();
  private readonly accessTokens = new Map<string, { sellerId: number; expiresAt: number }>();
  private readonly refreshTokens = new Map<string, { sellerId: number; spent: boolean }>();
  readonly feeds: Feed[] = [];
  readonly counters = { tokenExchanges: 0, refreshes: 0, refreshRefused: 0, answers: 0, answersRefused: 0, messagesSent: 0, apiCalls: 0 };
  private nextQuestion = 13_000_000_001;
  private nextPack = 2_000_004_000_000_001;
  private nextMessage = 1;

  constructor(public options: StoreOptions) {}

  seed(): void {
    this.addSeller(468424240, 'LOJA_SIMULADA');
    this.addItem({ id: 'MLB3000000001', seller_id: 468424240, title: 'Fone de Ouvido Bluetooth Omni X1', price: 199.9, status: 'active' });
    this.addItem({ id: 'MLB3000000002', seller_id: 468424240, title: 'Carregador Turbo USB-C 30W', price: 89.9, status: 'active' });
    this.addSeller(512301122, 'SEGUNDA_LOJA');
    this.addItem({ id: 'MLB3000000101', seller_id: 512301122, title: 'Cafeteira Elétrica 1,2 L', price: 259, status: 'active' });
  }

  addSeller(id: number, nickname: string) {
    this.sellers.set(id, { id, nickname });
    return this.sellers.get(id)!;
  }

  addItem(item: SimItem) {
    this.items.set(item.id, item);
    return item;
  }

  // ---- OAuth

  issueCode(sellerId: number, redirectUri: string): string {
    if (!this.sellers.has(sellerId)) throw new SimError(404, 'not_found', `seller ${sellerId} not found`);
    const code = token('TG', sellerId);
    this.codes.set(code, { sellerId, redirectUri, expiresAt: Date.now() + 10 * 60_000 });
    return code;
  }

  private grant(sellerId: number) {
    const access = token('APP_USR', sellerId);
    const refresh = token('TG', sellerId);
    this.accessTokens.set(access, { sellerId, expiresAt: Date.now() + this.options.accessTokenSeconds * 1000 });
    this.refreshTokens.set(refresh, { sellerId, spent: false });
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: this.options.accessTokenSeconds,
      scope: 'offline_access read write',
      user_id: sellerId,
      refresh_token: refresh,
    };
  }

  token(form: Record<string, string>) {
    if (form.client_id !== this.options.clientId || form.client_secret !== this.options.clientSecret) {
      throw new SimError(401, 'invalid_client', 'invalid client_id or client_secret');
    }
    if (form.grant_type === 'authorization_code') {
      const code = this.codes.get(form.code ?? '');
      this.codes.delete(form.code ?? '');
      if (!code || code.expiresAt < Date.now() || code.redirectUri !== form.redirect_uri) {
        throw new SimError(400, 'invalid_grant', 'Error validating grant. Your authorization code or refresh token may be expired or it was already used');
      }
      this.counters.tokenExchanges++;
      return this.grant(code.sellerId);
    }
    if (form.grant_type === 'refresh_token') {
      const refresh = this.refreshTokens.get(form.refresh_token ?? '');
      if (!refresh || refresh.spent) {
        this.counters.refreshRefused++;
        throw new SimError(400, 'invalid_grant', 'Error validating grant. Your authorization code or refresh token may be expired or it was already used');
      }
      // Single use: the old refresh token dies with this call.
      refresh.spent = true;
      this.counters.refreshes++;
      return this.grant(refresh.sellerId);
    }
    throw new SimError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  }

  /** The seller a bearer token belongs to; 401 when unknown or expired. */
  authenticate(header: string | undefined): number {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    const entry = match ? this.accessTokens.get(match[1]) : undefined;
    if (!entry) throw new SimError(401, 'unauthorized', 'invalid access token');
    if (entry.expiresAt <= Date.now()) throw new SimError(401, 'unauthorized', 'expired_token');
    return entry.sellerId;
  }

  /** Fault injection: every access token (of one seller, or all) expires now. */
  expireTokens(sellerId?: number): number {
    let n = 0;
    for (const entry of this.accessTokens.values()) {
      if (sellerId === undefined || entry.sellerId === sellerId) {
        entry.expiresAt = 0;
        n++;
      }
    }
    return n;
  }

  /** Fault injection: the seller changed their password (refresh tokens die). */
  revokeGrants(sellerId: number): void {
    for (const entry of this.refreshTokens.values()) if (entry.sellerId === sellerId) entry.spent = true;
    this.expireTokens(sellerId);
  }

  // ---- questions

  ask(input: { itemId?: string; sellerId?: number; text: string; buyerId?: number }): SimQuestion {
    const item = input.itemId
      ? this.items.get(input.itemId)
      : [...this.items.values()].find((i) => input.sellerId === undefined || i.seller_id === input.sellerId);
    if (!item) throw new SimError(404, 'not_found', `item ${input.itemId ?? '(any)'} not found`);
    if (!input.text || input.text.length > 2000) throw new SimError(400, 'bad_request', 'text is required (at most 2000 characters)');
    const question: SimQuestion = {
      id: this.nextQuestion++,
      item_id: item.id,
      seller_id: item.seller_id,
      status: 'UNANSWERED',
      text: input.text,
      date_created: now(),
      hold: false,
      deleted_from_listing: false,
      suspected_spam: false,
      from: { id: input.buyerId ?? 700_000_000 + Math.floor(Math.random() * 1_000_000) },
      answer: null,
    };
    this.questions.set(question.id, question);
    return question;
  }

  question(id: number, sellerId: number): SimQuestion {
    const q = this.questions.get(id);
    if (!q) throw new SimError(404, 'not_found', `Question ${id} not found`);
    if (q.seller_id !== sellerId) throw new SimError(403, 'forbidden', 'the question does not belong to the caller');
    return q;
  }

  searchQuestions(sellerId: number, query: URLSearchParams) {
    const status = query.get('status');
    const item = query.get('item');
    const from = query.get('seller_id');
    if (from && Number(from) !== sellerId) throw new SimError(403, 'forbidden', 'seller_id does not match the token');
    let list = [...this.questions.values()].filter((q) => q.seller_id === sellerId && (!status || q.status === status) && (!item || q.item_id === item));
    list.sort((a, b) => (query.get('sort_types') === 'ASC' ? a.id - b.id : b.id - a.id));
    const offset = Number(query.get('offset') ?? 0);
    const limit = Math.min(Number(query.get('limit') ?? 50), 50);
    const total = list.length;
    list = list.slice(offset, offset + limit);
    return { total, limit, questions: list };
  }

  answer(sellerId: number, body: { question_id?: unknown; text?: unknown }): SimQuestion {
    const id = Number(body.question_id);
    const text = typeof body.text === 'string' ? body.text : '';
    if (!Number.isFinite(id) || !text.trim()) throw new SimError(400, 'bad_request', 'question_id and text are required');
    if (text.length > ANSWER_TEXT_LIMIT) throw new SimError(400, 'bad_request', `text exceeds ${ANSWER_TEXT_LIMIT} characters`);
    const q = this.question(id, sellerId);
    if (q.status !== 'UNANSWERED') {
      this.counters.answersRefused++;
      throw new SimError(400, 'bad_request', `Question ${id} is not unanswered (status ${q.status})`);
    }
    q.status = 'ANSWERED';
    q.answer = { text, status: 'ACTIVE', date_created: now() };
    this.counters.answers++;
    return q;
  }

  // ---- orders, packs, messages

  createOrder(input: { sellerId?: number; buyerId?: number; itemId?: string }): SimPack {
    const item = input.itemId
      ? this.items.get(input.itemId)
      : [...this.items.values()].find((i) => input.sellerId === undefined || i.seller_id === input.sellerId);
    if (!item) throw new SimError(404, 'not_found', 'item not found');
    const id = this.nextPack++;
    const pack: SimPack = {
      id,
      order_id: id,
      seller_id: item.seller_id,
      buyer_id: input.buyerId ?? 800_000_000 + Math.floor(Math.random() * 1_000_000),
      item_id: item.id,
      status: 'active',
      substatus: null,
      status_date: now(),
      messages: [],
      caps: Object.fromEntries(ACTION_OPTIONS.map((o) => [o.id, 1])),
    };
    this.packs.set(id, pack);
    return pack;
  }

  pack(id: number, sellerId: number): SimPack {
    const pack = this.packs.get(id);
    if (!pack) throw new SimError(404, 'not_found', `pack ${id} not found`);
    if (pack.seller_id !== sellerId) throw new SimError(403, 'forbidden', 'the pack does not belong to the caller');
    return pack;
  }

  private moderate(text: string): SimMessage['moderation'] {
    const reason = SHORT_LINK.test(text) ? 'LINK_SHORT_URL' : SOCIAL.test(text) ? 'SOCIAL_NETWORK_LINK' : PERSONAL.test(text) ? 'PERSONAL_DATA' : undefined;
    return reason ? { status: 'rejected', reason, date_moderated: now(), source: 'online' } : { status: 'clean', date_moderated: now(), source: 'online' };
  }

  private push(pack: SimPack, fromId: number, toId: number, text: string, optionId?: string): SimMessage {
    const moderation = this.moderate(text);
    const message: SimMessage = {
      id: `${Date.now().toString(16)}${(this.nextMessage++).toString(16).padStart(8, '0')}`,
      pack_id: pack.id,
      from: { user_id: fromId },
      to: { user_id: toId },
      text,
      attachments: [],
      date_created: now(),
      date_read: null,
      status: moderation.status === 'rejected' ? 'moderated' : 'available',
      moderation,
      ...(optionId ? { option_id: optionId } : {}),
    };
    pack.messages.push(message);
    this.messagesById.set(message.id, message);
    return message;
  }

  buyerWrites(packId: number, text: string, attachments: SimMessage['attachments'] = []): SimMessage {
    const pack = this.packs.get(packId);
    if (!pack) throw new SimError(404, 'not_found', `pack ${packId} not found`);
    if (pack.status === 'blocked' && pack.substatus !== 'blocked_by_time') throw new SimError(403, 'forbidden', `conversation ${pack.substatus}`);
    if (pack.status === 'blocked') {
      // A buyer writing reopens a conversation closed by time.
      pack.status = 'active';
      pack.substatus = null;
    }
    const message = this.push(pack, pack.buyer_id, pack.seller_id, text);
    message.attachments = attachments;
    return message;
  }

  private ensureSellerMaySend(pack: SimPack): void {
    if (pack.status === 'blocked') {
      const error = new SimError(403, 'blocked_conversation', `The conversation is blocked (${pack.substatus})`);
      throw error;
    }
  }

  sellerWrites(packId: number, sellerId: number, body: { from?: { user_id?: unknown }; to?: { user_id?: unknown }; text?: unknown }): SimMessage {
    const pack = this.pack(packId, sellerId);
    const text = typeof body.text === 'string' ? body.text : '';
    if (Number(body.from?.user_id) !== sellerId || Number(body.to?.user_id) !== pack.buyer_id)
      throw new SimError(400, 'bad_request', 'from.user_id must be the seller and to.user_id the buyer');
    if (!text.trim()) throw new SimError(400, 'bad_request', 'text is required');
    if (text.length > SELLER_TEXT_LIMIT) throw new SimError(400, 'bad_request', `text exceeds ${SELLER_TEXT_LIMIT} characters`);
    this.ensureSellerMaySend(pack);
    if (!pack.messages.some((m) => m.from.user_id === pack.buyer_id)) {
      throw new SimError(403, 'blocked_by_conversation_started_by_seller', 'A seller starting a conversation must choose an option of the action guide');
    }
    this.counters.messagesSent++;
    return this.push(pack, sellerId, pack.buyer_id, text);
  }

  actionGuide(packId: number, sellerId: number) {
    const pack = this.pack(packId, sellerId);
    return {
      options: ACTION_OPTIONS.map((o) => ({
        id: o.id,
        internal_description: o.id.toLowerCase().replace(/_/g, ' '),
        enabled: pack.status === 'active' && (pack.caps[o.id] ?? 0) > 0,
        type: o.type,
        templates: o.type === 'template' ? [{ id: `TEMPLATE___${o.id}___1`, vars: null }] : null,
        actionable: true,
        ...(o.type === 'free_text' ? { char_limit: SELLER_TEXT_LIMIT } : {}),
        child_options: null,
        cap_available: pack.caps[o.id] ?? 0,
      })),
    };
  }

  sendOption(packId: number, sellerId: number, body: { option_id?: unknown; template_id?: unknown; text?: unknown }): SimMessage {
    const pack = this.pack(packId, sellerId);
    const option = ACTION_OPTIONS.find((o) => o.id === body.option_id);
    if (!option) throw new SimError(400, 'bad_request', `option_id must be one of ${ACTION_OPTIONS.map((o) => o.id).join(', ')}`);
    this.ensureSellerMaySend(pack);
    if ((pack.caps[option.id] ?? 0) <= 0) throw new SimError(403, 'forbidden', `no messages left for option ${option.id} (cap_available 0)`);
    let text: string;
    if (option.type === 'template') text = option.template;
    else {
      text = typeof body.text === 'string' ? body.text : '';
      if (!text.trim()) throw new SimError(400, 'bad_request', 'text is required for a free_text option');
      if (text.length > SELLER_TEXT_LIMIT) throw new SimError(400, 'bad_request', `text exceeds ${SELLER_TEXT_LIMIT} characters`);
    }
    pack.caps[option.id]--;
    this.counters.messagesSent++;
    return this.push(pack, sellerId, pack.buyer_id, text, option.id);
  }

  markRead(packId: number, sellerId: number): void {
    const pack = this.pack(packId, sellerId);
    for (const m of pack.messages) if (m.to.user_id === sellerId && !m.date_read) m.date_read = now();
  }

  unread(sellerId: number) {
    const results = [...this.packs.values()]
      .filter((p) => p.seller_id === sellerId)
      .map((p) => ({ resource: `/packs/${p.id}/sellers/${sellerId}`, count: p.messages.filter((m) => m.to.user_id === sellerId && !m.date_read).length }))
      .filter((r) => r.count > 0);
    return { user_id: sellerId, results };
  }

  block(packId: number, substatus: string): SimPack {
    const pack = this.packs.get(packId);
    if (!pack) throw new SimError(404, 'not_found', `pack ${packId} not found`);
    pack.status = 'blocked';
    pack.substatus = substatus;
    pack.status_date = now();
    return pack;
  }

  // ---- notifications (the history behind /missed_feeds)

  feed(topic: string, resource: string, userId: number): Feed {
    const at = now();
    const f: Feed = {
      _id: randomBytes(12).toString('hex'),
      resource,
      user_id: userId,
      topic,
      application_id: this.options.applicationId,
      attempts: 1,
      sent: at,
      received: at,
    };
    this.feeds.push(f);
    // Mercado Livre keeps about two days of history.
    const cutoff = Date.now() - 2 * 86_400_000;
    while (this.feeds.length > 0 && Date.parse(this.feeds[0].received) < cutoff) this.feeds.shift();
    if (this.feeds.length > 200_000) this.feeds.splice(0, this.feeds.length - 200_000);
    return f;
  }
}
