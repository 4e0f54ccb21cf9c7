import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretsKey } from '../../src/db/secrets';
import { startMercadoLivreSimulator, type MercadoLivreSimulator } from '../../src/simulators/mercadolivre/server';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/worker-process';

const CLIENT_ID = '5569000000001';
const CLIENT_SECRET = 'sim-client-secret';
const SELLER = 468424240;
const SECRETS_KEY = generateSecretsKey();
const REDIRECT = 'http://127.0.0.1:9/v1/mercadolivre/oauth/callback';

let sim: MercadoLivreSimulator;
let stack: TestStack;
let worker: RunningWorker;
let tenant: TestTenant;
let apiUrl: string;
let accountId: string;

const get = (url: string, key = tenant.viewerKey) => stack.app.inject({ method: 'GET', url, headers: bearer(key) });
const post = (url: string, payload?: unknown, key = tenant.supervisorKey, headers: Record<string, string> = {}) =>
  stack.app.inject({ method: 'POST', url, headers: { ...bearer(key), ...headers }, payload: payload as never });
const db = () => stack.database.db;

/** The seller goes to the authorization page, picks the seller, and is sent back to our callback. */
async function connect(sellerId = SELLER) {
  const authorize = await post('/v1/mercadolivre/accounts/authorize');
  expect(authorize.statusCode).toBe(200);
  const page = await fetch(`${authorize.json().authorizationUrl}&seller_id=${sellerId}`, { redirect: 'manual' });
  expect(page.status).toBe(302);
  const back = new URL(page.headers.get('location')!);
  return stack.app.inject({ method: 'GET', url: `/v1/mercadolivre/oauth/callback${back.search}` });
}

const questionOf = (mlId: number) =>
  waitFor(() => db().selectFrom('ml_questions').selectAll().where('ml_question_id', '=', String(mlId)).executeTakeFirst(), `question ${mlId} stored`, 30_000);

beforeAll(async () => {
  sim = await startMercadoLivreSimulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, webhook: { retryBaseMs: 200, retryMaxMs: 1000 } });
  stack = await createTestStack({
    name: 'mercadolivre',
    env: {
      ML_API_URL: sim.url,
      ML_AUTH_URL: sim.url,
      ML_CLIENT_ID: CLIENT_ID,
      ML_CLIENT_SECRET: CLIENT_SECRET,
      ML_REDIRECT_URI: REDIRECT,
      SECRETS_KEY,
      ML_CATCH_UP_EVERY_MS: '600000',
    },
  });
  await stack.app.listen({ port: 0, host: '127.0.0.1' });
  apiUrl = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  sim.webhook.settings.url = `${apiUrl}/v1/webhooks/mercadolivre`;
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    mercadolivre: {
      apiUrl: sim.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secretsKey: SECRETS_KEY,
      messageSettle: { afterMs: 300, failAfterMs: 3_000 },
    },
  });
  tenant = await stack.createTenant('Loja Centro');
});
afterAll(async () => {
  await worker?.stop();
  await stack?.close();
  await sim?.stop();
});

describe('seller accounts', () => {
  it('connects through the authorization page; tokens are sealed and never returned; the state is single-use', async () => {
    const authorize = await post('/v1/mercadolivre/accounts/authorize');
    expect(authorize.json()).toMatchObject({ redirectUri: REDIRECT });
    const page = await fetch(`${authorize.json().authorizationUrl}&seller_id=${SELLER}`, { redirect: 'manual' });
    const back = new URL(page.headers.get('location')!);
    const res = await stack.app.inject({ method: 'GET', url: `/v1/mercadolivre/oauth/callback${back.search}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().account).toMatchObject({ sellerId: String(SELLER), nickname: 'LOJA_SIMULADA', status: 'connected' });
    accountId = res.json().account.id;
    const again = await stack.app.inject({ method: 'GET', url: `/v1/mercadolivre/oauth/callback${back.search}` });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('OAUTH_STATE_INVALID');

    const list = await get('/v1/mercadolivre/accounts');
    expect(list.json().items).toHaveLength(1);
    expect(list.json().items[0].tokenExpiresAt).toBeTruthy();
    expect(list.body).not.toMatch(/APP_USR|TG-/);
    const row = await db().selectFrom('ml_accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    expect(row.access_token_enc).toMatch(/^v1:/);
    expect(row.refresh_token_enc).toMatch(/^v1:/);
  });
});

describe('notifications and questions', () => {
  it('answers the webhook at once even when Mercado Livre is slow for the processor, and applies duplicates once', async () => {
    sim.faults.latencyMs = 1500;
    const q = sim.store.ask({ sellerId: SELLER, text: 'Tem na cor preta?' });
    const body = {
      _id: `dup-${q.id}`,
      resource: `/questions/${q.id}`,
      user_id: String(SELLER),
      topic: 'questions',
      application_id: Number(CLIENT_ID),
      attempts: 1,
      sent: new Date().toISOString(),
      received: new Date().toISOString(),
    };
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await fetch(`${apiUrl}/v1/webhooks/mercadolivre`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, attempts: i + 1 }),
      });
      times.push(performance.now() - started);
      expect(res.status).toBe(200);
    }
    expect(Math.max(...times)).toBeLessThan(500);
    const stored = await questionOf(q.id);
    sim.faults.latencyMs = 0;
    expect(stored).toMatchObject({ status: 'UNANSWERED', item_title: 'Fone de Ouvido Bluetooth Omni X1', text: 'Tem na cor preta?' });
    const rows = await db().selectFrom('ml_notifications').selectAll().where('resource', '=', `/questions/${q.id}`).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ duplicates: 2, attempts: 3 });
    await waitFor(
      async () => (await db().selectFrom('ml_notifications').select('state').where('id', '=', rows[0].id).executeTakeFirst())?.state === 'applied',
      'applied',
    );
    const interactions = await db().selectFrom('interactions').selectAll().where('source_key', '=', `mlq:${accountId}:${q.id}`).execute();
    expect(interactions).toHaveLength(1);
    expect(interactions[0]).toMatchObject({ channel: 'mercadolivre', direction: 'inbound', kind: 'question', ml_buyer_id: String(q.from.id) });
  });

  it('keeps notifications of an unknown application or seller as ignored', async () => {
    const res = await fetch(`${apiUrl}/v1/webhooks/mercadolivre`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resource: '/questions/1', user_id: 999, topic: 'questions', application_id: 123 }),
    });
    expect(res.status).toBe(200);
    const row = await db().selectFrom('ml_notifications').selectAll().where('user_id', '=', '999').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'ignored', ignore_reason: 'unknown_application' });
  });

  it('answers a question exactly once, even when the first try never hears back', async () => {
    const q = sim.ask({ sellerId: SELLER, text: 'Serve no iPhone?' });
    const stored = await questionOf(q.id);
    expect((await post(`/v1/mercadolivre/questions/${stored.id}/answer`, { text: '   ' })).json().code).toBe('ANSWER_TEXT_EMPTY');
    expect((await post(`/v1/mercadolivre/questions/${stored.id}/answer`, { text: 'x'.repeat(2001) })).json().code).toBe('ANSWER_TEXT_TOO_LONG');

    const answersBefore = sim.store.counters.answers;
    sim.faults.dropNextWrites = 1;
    const first = await post(`/v1/mercadolivre/questions/${stored.id}/answer`, { text: 'Sim, serve em todos os modelos.' });
    expect([200, 202]).toContain(first.statusCode);
    await waitFor(
      async () => (await db().selectFrom('ml_answers').select('state').where('question_id', '=', stored.id).executeTakeFirst())?.state === 'sent',
      'answer sent',
      30_000,
    );
    const repeat = await post(`/v1/mercadolivre/questions/${stored.id}/answer`, { text: 'Sim, serve em todos os modelos.' });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json()).toMatchObject({ status: 'ANSWERED', answeredVia: 'agent', answer: { state: 'sent' } });
    expect(sim.store.counters.answers - answersBefore).toBe(1);
    expect(sim.store.questions.get(q.id)!.answer!.text).toBe('Sim, serve em todos os modelos.');
    const other = await post(`/v1/mercadolivre/questions/${stored.id}/answer`, { text: 'Outra resposta' });
    expect(other.statusCode).toBe(409);
    const answer = await db().selectFrom('interactions').selectAll().where('source_key', '=', `mla:${stored.id}`).execute();
    expect(answer).toHaveLength(1);
    expect(answer[0]).toMatchObject({ direction: 'outbound', kind: 'answer', handled_by_kind: 'user' });
  });

  it("records a question answered on Mercado Livre's own site, and refuses to answer it here", async () => {
    const q = sim.ask({ sellerId: SELLER, text: 'Entrega em Curitiba?' });
    const stored = await questionOf(q.id);
    sim.store.answer(SELLER, { question_id: q.id, text: 'Sim!' });
    sim.notify('questions', `/questions/${q.id}`, SELLER);
    await waitFor(
      async () => (await db().selectFrom('ml_questions').select('status').where('id', '=', stored.id).executeTakeFirst())?.status === 'ANSWERED',
      'answered from the site',
    );
    const res = await post(`/v1/mercadolivre/questions/${stored.id}/answer`, { text: 'Entregamos.' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'QUESTION_NOT_UNANSWERED', status: 409 });
    expect((await get(`/v1/mercadolivre/questions/${stored.id}`)).json()).toMatchObject({ answeredVia: 'mercadolivre', answerText: 'Sim!' });
  });

  it('answers automatically by rule (audited like a human answer) and records a breached SLA in the monitor', async () => {
    const rule = await post('/v1/mercadolivre/auto-answers', {
      name: 'Frete',
      keywords: ['frete'],
      answerText: 'O frete do {item_title} é grátis para todo o Brasil.',
    });
    expect(rule.statusCode).toBe(201);
    const q = sim.ask({ itemId: 'MLB3000000002', text: 'Qual o FRETE para SP?' });
    await waitFor(() => Promise.resolve(sim.store.questions.get(q.id)!.status === 'ANSWERED'), 'auto answer');
    expect(sim.store.questions.get(q.id)!.answer!.text).toBe('O frete do Carregador Turbo USB-C 30W é grátis para todo o Brasil.');
    const stored = await questionOf(q.id);
    const audit = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', stored.id)
      .where('action', '=', 'mercadolivre_question.answer')
      .execute();
    expect(audit).toHaveLength(1);

    const waiting = sim.ask({ sellerId: SELLER, text: 'Tem garantia?' });
    const late = await questionOf(waiting.id);
    await db()
      .updateTable('ml_questions')
      .set({ sla_deadline: new Date(Date.now() - 1000) })
      .where('id', '=', late.id)
      .execute();
    await waitFor(
      async () => (await db().selectFrom('ml_questions').select('sla_breached_at').where('id', '=', late.id).executeTakeFirst())?.sla_breached_at,
      'SLA breach recorded',
    );
    const monitor = (await get('/v1/mercadolivre/monitor')).json();
    expect(monitor.slaBreachesToday).toBeGreaterThanOrEqual(1);
    expect(monitor.unansweredQuestions).toBeGreaterThanOrEqual(2);
    expect((await get('/v1/mercadolivre/questions?slaBreached=true')).json().items.map((i: { id: string }) => i.id)).toContain(late.id);
  });
});

describe('tokens', () => {
  it('many calls hitting 401 at once cause exactly one refresh', async () => {
    const before = sim.store.counters.refreshes;
    sim.store.expireTokens(SELLER);
    const asked = Array.from({ length: 24 }, (_, i) => sim.ask({ sellerId: SELLER, text: `Pergunta em lote ${i}` }));
    for (const q of asked) await questionOf(q.id);
    expect(sim.store.counters.refreshes - before).toBe(1);
    expect(sim.store.counters.refreshRefused).toBe(0);
    const account = await db().selectFrom('ml_accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    expect(account).toMatchObject({ status: 'connected', refresh_count: 1 });
  });
});

describe('post-sale messages', () => {
  it('reads and answers a conversation; a seller writing first picks an option; too long is 422; blocked is 409 with the substatus', async () => {
    const order = (await (
      await fetch(`${sim.url}/_sim/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seller_id: SELLER }) })
    ).json()) as { id: number };
    const packId = String(order.id);
    await waitFor(async () => (await get(`/v1/mercadolivre/conversations/${packId}`)).statusCode === 200, 'conversation from orders_v2');
    const first = await post(`/v1/mercadolivre/conversations/${packId}/messages`, { text: 'Olá!' });
    expect(first.statusCode).toBe(422);
    expect(first.json().code).toBe('OPTION_REQUIRED');
    expect(first.json().options.map((o: { id: string }) => o.id)).toContain('REQUEST_VARIANTS');
    const withOption = await post(`/v1/mercadolivre/conversations/${packId}/messages`, { option: 'REQUEST_VARIANTS' });
    expect(withOption.statusCode).toBe(201);

    await fetch(`${sim.url}/_sim/packs/${packId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Quero a preta, tamanho M' }),
    });
    await waitFor(
      async () => (await get(`/v1/mercadolivre/conversations?unread=true`)).json().items.some((c: { packId: string }) => c.packId === packId),
      'unread conversation',
    );
    const read = await get(`/v1/mercadolivre/conversations/${packId}`);
    expect(read.json()).toMatchObject({ unreadCount: 0, status: 'active' });
    expect(read.json().messages.map((m: { direction: string }) => m.direction)).toEqual(['seller', 'buyer']);

    expect((await post(`/v1/mercadolivre/conversations/${packId}/messages`, { text: 'x'.repeat(351) })).statusCode).toBe(422);
    const reply = await post(`/v1/mercadolivre/conversations/${packId}/messages`, { text: 'Anotado, enviaremos hoje.' }, tenant.supervisorKey, {
      'idempotency-key': 'r-1',
    });
    expect(reply.statusCode).toBe(201);
    const repeat = await post(`/v1/mercadolivre/conversations/${packId}/messages`, { text: 'Anotado, enviaremos hoje.' }, tenant.supervisorKey, {
      'idempotency-key': 'r-1',
    });
    expect(repeat.statusCode).toBe(200);
    expect(sim.store.packs.get(Number(packId))!.messages.filter((m) => m.text === 'Anotado, enviaremos hoje.')).toHaveLength(1);

    sim.store.block(Number(packId), 'blocked_by_mediation');
    const blocked = await post(`/v1/mercadolivre/conversations/${packId}/messages`, { text: 'Mais uma coisa' });
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json()).toMatchObject({ code: 'CONVERSATION_BLOCKED', substatus: 'blocked_by_mediation' });
    const interactions = await db()
      .selectFrom('interactions')
      .select(['direction'])
      .where('kind', '=', 'message')
      .where('ml_account_id', '=', accountId)
      .execute();
    expect(interactions.length).toBe(3);
  });
});

describe('post-sale messages whose send never heard back', () => {
  const stateOf = async (packId: string, text: string) =>
    (await get(`/v1/mercadolivre/conversations/${packId}`)).json().messages.find((m: { text: string }) => m.text === text)?.state as string | undefined;

  it('answers 202 and settles them from the conversation: there → sent (once), missing → failed; never sent twice', async () => {
    const order = (await (
      await fetch(`${sim.url}/_sim/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seller_id: SELLER }) })
    ).json()) as { id: number };
    const packId = String(order.id);
    await waitFor(async () => (await get(`/v1/mercadolivre/conversations/${packId}`)).statusCode === 200, 'conversation from orders_v2');
    await fetch(`${sim.url}/_sim/packs/${packId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Chegou com a caixa amassada' }),
    });
    await waitFor(async () => (await stateOf(packId, 'Chegou com a caixa amassada')) === 'sent', 'buyer message');
    const simMessages = (text: string) => sim.store.packs.get(Number(packId))!.messages.filter((m) => m.text === text);

    // Mercado Livre takes the message but the connection drops before its answer.
    sim.faults.dropNextWrites = 1;
    const lost = await post(`/v1/mercadolivre/conversations/${packId}/messages`, { text: 'Vamos trocar sem custo.' }, tenant.supervisorKey, {
      'idempotency-key': 'lost-1',
    });
    expect(lost.statusCode).toBe(202);
    expect(lost.json()).toMatchObject({ state: 'sending', mlMessageId: null });
    const retried = await post(`/v1/mercadolivre/conversations/${packId}/messages`, { text: 'Vamos trocar sem custo.' }, tenant.supervisorKey, {
      'idempotency-key': 'lost-1',
    });
    expect(retried.statusCode).toBe(200);
    await waitFor(async () => (await stateOf(packId, 'Vamos trocar sem custo.')) === 'sent', 'lost message settled as sent', 30_000);
    expect(simMessages('Vamos trocar sem custo.')).toHaveLength(1);
    const settled = await db().selectFrom('ml_messages').selectAll().where('client_key', '=', 'lost-1').executeTakeFirstOrThrow();
    expect(settled.ml_message_id).toBe(simMessages('Vamos trocar sem custo.')[0].id);
    const interaction = await db()
      .selectFrom('interactions')
      .selectAll()
      .where('source_key', '=', `mlm:${settled.conversation_id}:${settled.ml_message_id}`)
      .execute();
    expect(interaction).toHaveLength(1);
    expect(interaction[0]).toMatchObject({ direction: 'outbound', kind: 'message' });

    // A 5xx that did not take it: still unknown at request time, failed once the conversation shows it never arrived.
    sim.faults.next5xx = 1;
    const refused = await post(`/v1/mercadolivre/conversations/${packId}/messages`, { text: 'Esta não chegou.' });
    expect(refused.statusCode).toBe(202);
    await waitFor(async () => (await stateOf(packId, 'Esta não chegou.')) === 'failed', 'missing message settled as failed', 30_000);
    expect(simMessages('Esta não chegou.')).toHaveLength(0);
    expect(simMessages('Vamos trocar sem custo.')).toHaveLength(1);
  });
});

describe('authorization lost', () => {
  it('an invalid_grant marks the account needs_reauthorization and audits it; authorizing again reconnects', async () => {
    sim.store.revokeGrants(SELLER);
    const q = sim.ask({ sellerId: SELLER, text: 'Ainda tem?' });
    await waitFor(
      async () => (await db().selectFrom('ml_accounts').select('status').where('id', '=', accountId).executeTakeFirst())?.status === 'needs_reauthorization',
      'needs_reauthorization',
    );
    const audit = await db()
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', accountId)
      .where('action', '=', 'mercadolivre_account.needs_reauthorization')
      .execute();
    expect(audit).toHaveLength(1);
    expect((await get('/v1/mercadolivre/monitor')).json().accountsNeedingAuthorization).toBe(1);
    const res = await connect();
    expect(res.json().account).toMatchObject({ id: accountId, status: 'connected' });
    await questionOf(q.id);
  });
});
