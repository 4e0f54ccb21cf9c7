import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import {
  createCampaign,
  createChannel,
  createGroup,
  mobile,
  reminderVariables,
  SECRETS_KEY,
  startBroadcastStack,
  syncTemplates,
  waitAllFinal,
  waitSendFinished,
} from '../helpers/broadcast';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';

/**
 * Empty template variables: a send declares what to do with a contact whose mapped column is
 * empty (skip it with reason `missing_variable`, or send a default text per placeholder) and the
 * monitor and the detailed report say which placeholders had no value. Nothing sends "-".
 */

let sim: WhatsAppSimulator;
let stack: TestStack;
let worker: RunningWorker;
let tenant: TestTenant;
let campaignId: string;
let proxy: Server;
/** The body parameters of every template message the worker sent, by recipient. */
const sentParameters = new Map<string, string[]>();

/** Ten contacts; 3, 6 and 9 have no due date (vencimento). */
const csv = (base: number) =>
  [
    'nome;telefone1;vencimento;cidade',
    ...Array.from({ length: 10 }, (_, k) => `Cliente ${k + 1};${mobile(base + k + 1)};${(k + 1) % 3 === 0 ? '' : '10/12'};Lages`),
  ].join('\n') + '\n';
const emptyDue = (base: number) => [3, 6, 9].map((i) => mobile(base + i));

beforeAll(async () => {
  let webhookUrl: (channelId: string) => string;
  ({ sim, stack, webhookUrl } = await startBroadcastStack({
    name: 'broadcast_variables',
    mps: 80,
    sim: { webhook: { deliveredDelayMs: 20, readDelayMs: 40 } },
    env: { BROADCAST_UNKNOWN_AFTER_MS: '3000' },
  }));
  // In front of the simulator, to see what each message carried (the simulator keeps only counts).
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url?.endsWith('/messages')) {
        const message = JSON.parse(body.toString()) as { to: string; template?: { components?: { type: string; parameters: { text: string }[] }[] } };
        const parameters = message.template?.components?.find((c) => c.type === 'body')?.parameters.map((p) => p.text) ?? [];
        sentParameters.set(message.to, parameters);
      }
      const answer = await fetch(`${sim.url}${req.url}`, {
        method: req.method,
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length')) as Record<string, string>,
        body: req.method === 'GET' ? undefined : body,
      });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    broadcast: { graphUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, secretsKey: SECRETS_KEY },
  });
  tenant = await stack.createTenant('Variáveis');
  const channel = await createChannel(stack, tenant);
  sim.configure({ webhook: { url: webhookUrl(channel.id) } });
  await syncTemplates(stack, tenant, channel.id);
  campaignId = await createCampaign(stack, tenant, channel.id, 'Vencimentos');
});
afterAll(async () => {
  await worker?.stop();
  await new Promise((resolve) => proxy?.close(resolve));
  await stack?.close();
  await sim?.stop();
});

const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: bearer(tenant.viewerKey) });
const post = (url: string, payload?: unknown) => stack.app.inject({ method: 'POST', url, headers: bearer(tenant.supervisorKey), payload: payload as never });
const createSend = (groupId: string, extra: Record<string, unknown> = {}) =>
  post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
    groupId,
    template: { name: 'lembrete_pagamento', language: 'pt_BR' },
    variables: reminderVariables,
    ...extra,
  });

/** The detailed report's rows as objects by header. */
async function detailedRows(sendId: string): Promise<Record<string, string>[]> {
  const [head, ...lines] = (await get(`/v1/broadcast/sends/${sendId}/reports/detalhado.csv`)).body
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\r\n');
  const columns = head.split(';');
  return lines.map((l) => Object.fromEntries(l.split(';').map((v, i) => [columns[i], v])));
}

describe('a send declares what to do with an empty template variable', () => {
  it('refuses a default policy that misses a column-mapped placeholder or names one the template lacks (422, nothing written)', async () => {
    const groupId = await createGroup(stack, tenant, 'Recusas', csv(0));
    const missing = await createSend(groupId, { missingVariables: { policy: 'default', defaults: { '1': 'cliente' } } });
    expect(missing.statusCode).toBe(422);
    expect(missing.json()).toMatchObject({ code: 'MISSING_VARIABLE_DEFAULT_REQUIRED', missing: ['2'] });
    const unknown = await createSend(groupId, { missingVariables: { policy: 'default', defaults: { '1': 'cliente', '2': 'em breve', '7': 'x' } } });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: 'MISSING_VARIABLE_DEFAULT_UNKNOWN', unknown: ['7'] });
    const sends = await stack.database.db.selectFrom('broadcast_sends').select('id').where('group_id', '=', groupId).execute();
    expect(sends).toEqual([]);
    expect((await get(`/v1/contact-groups/${groupId}`)).json()).toMatchObject({ locked: false });
  });

  it('skips, by default, a contact with an empty variable (reason missing_variable), counted in the monitor and named in the report', async () => {
    const groupId = await createGroup(stack, tenant, 'Pular', csv(100));
    const res = await createSend(groupId);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ missingVariables: { policy: 'skip' } });
    const sendId = res.json().id;
    expect((await waitSendFinished(stack, sendId)).state).toBe('completed');
    await sim.webhooksIdle();
    await waitAllFinal(stack, sendId);

    for (const phone of emptyDue(100)) expect(sentParameters.has(phone)).toBe(false);
    expect(sentParameters.get(mobile(101))).toEqual(['Cliente 1', '10/12']);
    const monitor = (await get(`/v1/broadcast/sends/${sendId}/monitor`)).json();
    expect(monitor.totals).toMatchObject({
      total: 10,
      read: 7,
      skipped: 3,
      skippedByReason: { missing_variable: 3 },
      missingVariables: { skipped: 3, defaulted: 0, byPlaceholder: { '2': 3 } },
    });
    const rows = await detailedRows(sendId);
    const skipped = rows.filter((r) => r.motivo_ignorada === 'missing_variable');
    expect(skipped.map((r) => r.telefone).sort()).toEqual(emptyDue(100));
    expect(skipped.every((r) => r.estado === 'skipped' && r.variaveis_sem_valor === '2')).toBe(true);
    expect(rows.filter((r) => r.variaveis_sem_valor === '')).toHaveLength(7);
  });

  it('sends the default text for an empty variable when the send asks for it, and reports which took it', async () => {
    const groupId = await createGroup(stack, tenant, 'Padrão', csv(200));
    const res = await createSend(groupId, { missingVariables: { policy: 'default', defaults: { '1': 'cliente', '2': 'nos próximos dias' } } });
    expect(res.statusCode).toBe(201);
    const sendId = res.json().id;
    expect((await get(`/v1/broadcast/sends/${sendId}`)).json()).toMatchObject({
      missingVariables: { policy: 'default', defaults: { '1': 'cliente', '2': 'nos próximos dias' } },
    });
    expect((await waitSendFinished(stack, sendId)).state).toBe('completed');
    await sim.webhooksIdle();
    await waitAllFinal(stack, sendId);

    for (const phone of emptyDue(200)) expect(sentParameters.get(phone)).toEqual([expect.stringMatching(/^Cliente \d+$/), 'nos próximos dias']);
    expect(sentParameters.get(mobile(201))).toEqual(['Cliente 1', '10/12']);
    expect([...sentParameters.values()].flat()).not.toContain('-');
    const monitor = (await get(`/v1/broadcast/sends/${sendId}/monitor`)).json();
    expect(monitor.totals).toMatchObject({ read: 10, skipped: 0, missingVariables: { skipped: 0, defaulted: 3, byPlaceholder: { '2': 3 } } });
    const rows = await detailedRows(sendId);
    expect(
      rows
        .filter((r) => r.variaveis_sem_valor === '2')
        .map((r) => r.telefone)
        .sort(),
    ).toEqual(emptyDue(200));
  });
});
