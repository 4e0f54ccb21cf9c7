import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordInteraction } from '../../src/db/interactions';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import {
  createCampaign,
  createChannel,
  PHONE_NUMBER_ID,
  SECRETS_KEY,
  startBroadcastStack,
  syncTemplates,
  waitAllFinal,
  waitSendFinished,
} from '../helpers/broadcast';
import { fastStrategy, importDialerGroup, outcomeRules, phoneOf } from '../helpers/dialer';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/worker-process';

let wa: WhatsAppSimulator;
let ari: AriSimulator;
let stack: TestStack;
let worker: RunningWorker;
let tenant: TestTenant;
let other: TestTenant;
/** One person, called by the dialer, messaged on WhatsApp, asking on Mercado Livre. */
const phone = phoneOf(1, 5);
let companyContactId: string;

beforeAll(async () => {
  let webhookUrl: (channelId: string) => string;
  ({ sim: wa, stack, webhookUrl } = await startBroadcastStack({ name: 'interactions', mps: 80, sim: { webhook: { deliveredDelayMs: 10, readDelayMs: 20 } } }));
  ari = await startAriSimulator({ config: { seed: 3, ringMs: [10, 30], talkMs: [20, 60], rules: outcomeRules } });
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    broadcast: { graphUrl: wa.url, secretsKey: SECRETS_KEY },
    dialer: { ari: { url: ari.url, username: 'omni', password: 'omni', app: 'interactions-it' } },
  });
  tenant = await stack.createTenant('Rastreio SA');
  other = await stack.createTenant('Outra');

  companyContactId = (await api('POST', '/v1/company-contacts', { name: 'Maria Souza', phones: [phone] })).json().id;
  expect((await api('POST', '/v1/company-contacts', { name: 'João Lima', phones: [phoneOf(2, 6)] })).statusCode).toBe(201);

  // WhatsApp: a send to the company contacts (Contatos Omni), every status back by webhook.
  const channel = await createChannel(stack, tenant);
  wa.configure({ webhook: { url: webhookUrl(channel.id) } });
  await syncTemplates(stack, tenant, channel.id);
  const broadcastCampaign = await createCampaign(stack, tenant, channel.id, 'Lembrete');
  const group = (await api('POST', '/v1/contact-groups/from-company-contacts', { name: 'Omni' })).json();
  const send = (
    await api('POST', `/v1/broadcast/campaigns/${broadcastCampaign}/sends`, {
      groupId: group.id,
      template: { name: 'lembrete_pagamento' },
      variables: { '1': { column: 'nome' }, '2': { text: '10/12' } },
    })
  ).json();
  expect(send.id).toBeTruthy();
  await waitSendFinished(stack, send.id);
  await wa.webhooksIdle();
  await waitAllFinal(stack, send.id, 30_000);

  // The dialer: a CSV group with the same phone (no company contact link), called once, answered.
  const groupId = await importDialerGroup(stack, tenant, 'Cobrança', [[phone], [phoneOf(3, 1)]]);
  const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy('Uma vez', { maxAttemptsPerContact: 1, maxAttemptsPerPhone: 1 }))).json();
  const dialer = (await api('POST', '/v1/dialer/campaigns', { name: 'Cobrança', groupId, strategyId: strategy.id })).json();
  expect((await api('POST', `/v1/dialer/campaigns/${dialer.id}/start`)).statusCode).toBe(200);
  await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(dialer.id)).result();

  // A reply from the person, and a Mercado Livre question (its channel writes through recordInteraction).
  wa.inbound({ from: phone, text: 'SAIR', phoneNumberId: PHONE_NUMBER_ID });
  await waitFor(
    async () => (await stack.database.db.selectFrom('interactions').select('id').where('kind', '=', 'reply').executeTakeFirst()) ?? false,
    'the reply',
    15_000,
  );
  await recordInteraction(stack.database.db, {
    tenantId: tenant.tenantId,
    channel: 'mercadolivre',
    direction: 'inbound',
    kind: 'question',
    sourceKey: 'question:13110',
    mlBuyerId: '98765',
    phone,
    startedAt: new Date(Date.now() + 1000),
    outcome: 'answered',
    details: { itemId: 'MLB123', text: 'Tem em azul?' },
    events: [
      { type: 'received', at: new Date(Date.now() + 1000) },
      { type: 'answered', at: new Date(Date.now() + 2000), data: { text: 'Temos!' } },
    ],
  });
}, 240_000);
afterAll(async () => {
  await worker?.stop();
  await ari?.stop();
  await stack?.close();
  await wa?.stop();
});

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
  stack.app.inject({ method, url, headers: bearer(tenant.supervisorKey), ...(payload !== undefined ? { payload: payload as object } : {}) });
const get = (url: string, key = tenant.viewerKey) => stack.app.inject({ method: 'GET', url, headers: bearer(key) });

describe('interactions', () => {
  it("lists one phone's whole history across channels, newest first, found by any form of the number", async () => {
    const national = phone.slice(2, 4) + phone.slice(5); // DDD + 8 digits: no 55, no ninth digit
    const res = await get(`/v1/interactions?phone=${national}`);
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { channel: string; kind: string; startedAt: string; outcome: string }[];
    // WhatsApp's reply time is whole seconds: it may sort just before the call, both after the message.
    expect(Object.fromEntries(items.map((i) => [`${i.channel}:${i.kind}`, i.outcome]))).toEqual({
      'mercadolivre:question': 'answered',
      'whatsapp:reply': 'opt_out',
      'voice:call': 'answered',
      'whatsapp:template_message': 'read',
    });
    expect(items).toHaveLength(4);
    // The question is newest; the reply's whole-second time may even sort it under the template
    // message it answers (same second), so the oldest is one of those two.
    expect(items[0].kind).toBe('question');
    expect(['template_message', 'reply']).toContain(items[3].kind);
    expect([...items].sort((a, b) => b.startedAt.localeCompare(a.startedAt))).toEqual(items);
    expect((await get(`/v1/interactions?phone=${phone}`, other.viewerKey)).json().items).toEqual([]);
    expect((await get('/v1/interactions?phone=abc')).json()).toMatchObject({ status: 400, code: 'PHONE_INVALID' });
  });

  it('gives a call with its attempt details and a WhatsApp message with every status and its time, in order', async () => {
    const call = (await get('/v1/interactions?channel=voice&outcome=answered')).json().items[0];
    const detail = (await get(`/v1/interactions/${call.id}`)).json();
    expect(detail).toMatchObject({ phone, direction: 'outbound', handledBy: { kind: 'system' }, details: { attemptNo: 1, cause: 16 } });
    expect(detail.events.map((e: { type: string }) => e.type)).toEqual(['dialing', 'answered', 'ended']);
    expect(detail.durationSeconds).toBeGreaterThan(0);

    const message = (await get(`/v1/interactions?channel=whatsapp&phone=${phone}&outcome=read`)).json().items[0];
    expect(message).toMatchObject({ companyContactId, kind: 'template_message', details: { template: 'lembrete_pagamento' } });
    const events = (await get(`/v1/interactions/${message.id}`)).json().events as { type: string; at: string }[];
    expect(events.map((e) => e.type).filter((t) => t !== 'delivered')).toEqual(['accepted', 'sent', 'read']);
    // Meta's times are whole seconds: in order by the second.
    const seconds = events.map((e) => e.at.slice(0, 19));
    expect(seconds).toEqual([...seconds].sort());
    expect((await get(`/v1/interactions/${message.id}`, other.viewerKey)).statusCode).toBe(404);
    expect((await get('/v1/interactions/abc')).statusCode).toBe(400);
  });

  it("answers a company contact's timeline across channels, paged", async () => {
    const first = (await get(`/v1/company-contacts/${companyContactId}/timeline?limit=2`)).json();
    const second = (await get(`/v1/company-contacts/${companyContactId}/timeline?limit=2&cursor=${first.nextCursor}`)).json();
    const all = [...first.items, ...second.items] as { id: string; channel: string }[];
    expect(all.map((i) => i.channel).sort()).toEqual(['mercadolivre', 'voice', 'whatsapp', 'whatsapp']);
    expect(all.map((i) => i.id)).toEqual((await get(`/v1/interactions?phone=${phone}`)).json().items.map((i: { id: string }) => i.id));
    expect(second.nextCursor).toBeNull();
    expect((await get(`/v1/company-contacts/${companyContactId}/timeline`, other.viewerKey)).statusCode).toBe(404);
  });

  it("puts a Mercado Livre buyer's questions, which carry no phone, in the timeline of the company contact that is that buyer", async () => {
    const carla = (await api('POST', '/v1/company-contacts', { name: 'Carla Dias', phones: [phoneOf(3, 7)] })).json();
    expect(carla.mercadoLivreBuyerIds).toEqual([]);
    await recordInteraction(stack.database.db, {
      tenantId: tenant.tenantId,
      channel: 'mercadolivre',
      direction: 'inbound',
      kind: 'question',
      sourceKey: 'question:13111',
      mlBuyerId: '55501',
      startedAt: new Date(),
      outcome: 'unanswered',
      details: { itemId: 'MLB124', text: 'Entrega em Niterói?' },
      events: [{ type: 'received', at: new Date() }],
    });
    const timeline = async () => ((await get(`/v1/company-contacts/${carla.id}/timeline`)).json().items as { channel: string }[]).map((i) => i.channel);
    expect(await timeline()).toEqual([]);
    const bad = await api('PATCH', `/v1/company-contacts/${carla.id}`, { mercadoLivreBuyerIds: ['comprador'] });
    expect(bad.statusCode).toBe(400);
    const linked = await api('PATCH', `/v1/company-contacts/${carla.id}`, { mercadoLivreBuyerIds: ['55501', '55501'] });
    expect(linked.json().mercadoLivreBuyerIds).toEqual(['55501']);
    expect(await timeline()).toEqual(['mercadolivre']);
  });

  it('filters by campaign, period and channel; the other calls of the campaign are there once each', async () => {
    const calls = (await get('/v1/interactions?channel=voice')).json().items;
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((c: { sourceKey: string }) => c.sourceKey)).size).toBe(2);
    const byCampaign = (await get(`/v1/interactions?campaignId=${calls[0].campaignId}`)).json().items;
    expect(byCampaign).toHaveLength(2);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect((await get(`/v1/interactions?from=${encodeURIComponent(future)}`)).json().items).toEqual([]);
  });
});
