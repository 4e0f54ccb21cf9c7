import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { ConfigUpdate } from '../../src/simulators/whatsapp/config';
import { startWhatsAppSimulator, type WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { importWorkflowId } from '../../src/workflows/imports/messages';
import { sendWorkflowId } from '../../src/workflows/broadcast/messages';
import { seedTemplates } from '../../src/simulators/whatsapp/seed-templates';
import { bearer, createTestStack, type TestStack, type TestTenant } from './app';
import { multipart } from './multipart';
import { startTestWorker, type RunningWorker } from './temporal';
import { waitFor } from './worker-process';

export const SIM_TOKEN = 'sim-access-token-teste';
export const SIM_SECRET = 'sim-app-secret-teste';
export const PHONE_NUMBER_ID = '106540352242922';
export const WABA_ID = '102290129340398';
export const SECRETS_KEY = randomBytes(32).toString('hex');
/** More numbers of the test WABA (GET /{waba-id}/phone_numbers lists them), for tests that need a second channel. */
export const EXTRA_NUMBERS: Record<string, string> = { '200000000001': 'Outro', '200000000002': 'Concorrente', '200000000003': 'Terceiro' };
export { seedTemplates };

/**
 * The in-process simulator, and the API on a real port (the simulator posts webhooks to it), with
 * SECRETS_KEY and the Graph URL set. `webhookUrl(channelId)` is the channel's webhook on that port.
 */
export async function startBroadcastStack(options: { name: string; mps: number; sim: ConfigUpdate; env?: Record<string, string> }) {
  const sim: WhatsAppSimulator = await startWhatsAppSimulator({
    accessToken: SIM_TOKEN,
    appSecret: SIM_SECRET,
    mps: options.mps,
    templates: seedTemplates,
    config: { wabaId: WABA_ID, ...options.sim, phoneNumbers: { [PHONE_NUMBER_ID]: 'Central Teste', ...EXTRA_NUMBERS, ...options.sim.phoneNumbers } },
  });
  const stack = await createTestStack({ name: options.name, env: { SECRETS_KEY, WHATSAPP_GRAPH_URL: sim.url, ...options.env } });
  await stack.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (stack.app.server.address() as AddressInfo).port;
  return { sim, stack, webhookUrl: (channelId: string) => `http://127.0.0.1:${port}/v1/webhooks/whatsapp/${channelId}` };
}

export interface BroadcastBed {
  sim: WhatsAppSimulator;
  stack: TestStack;
  worker: RunningWorker;
  tenant: TestTenant;
  channelId: string;
  campaignId: string;
  close(): Promise<void>;
}

/**
 * A broadcast test's usual bed: the stack of `startBroadcastStack` (80 msg/s), a worker on the
 * simulator, and a tenant with a channel (its webhooks to our API, its templates synced) and a campaign.
 */
export async function startBroadcastBed(options: {
  name: string;
  tenant: string;
  campaign: string;
  sim: ConfigUpdate;
  env?: Record<string, string>;
}): Promise<BroadcastBed> {
  const { sim, stack, webhookUrl } = await startBroadcastStack({ name: options.name, mps: 80, sim: options.sim, env: options.env });
  const worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    broadcast: { graphUrl: sim.url, secretsKey: SECRETS_KEY },
  });
  const tenant = await stack.createTenant(options.tenant);
  const channel = await createChannel(stack, tenant);
  sim.configure({ webhook: { url: webhookUrl(channel.id) } });
  await syncTemplates(stack, tenant, channel.id);
  const campaignId = await createCampaign(stack, tenant, channel.id, options.campaign);
  return {
    sim,
    stack,
    worker,
    tenant,
    channelId: channel.id,
    campaignId,
    async close() {
      await worker.stop();
      await stack.close();
      await sim.stop();
    },
  };
}

/** Distinct Brazilian mobiles: 55 + DDD 48 + 9 + 8 digits. */
export const mobile = (i: number, ddd = '48') => `55${ddd}9${String(80_000_000 + i).padStart(8, '0')}`;

export function contactsCsv(count: number, phone = mobile): string {
  const lines = ['nome;telefone1;vencimento;cidade'];
  for (let i = 1; i <= count; i++) lines.push(`Cliente ${i};${phone(i)};${String((i % 28) + 1).padStart(2, '0')}/12;Florianópolis`);
  return lines.join('\n') + '\n';
}

export async function createGroup(stack: TestStack, tenant: TestTenant, name: string, csv: string, kind = 'broadcast'): Promise<string> {
  const form = multipart({ name, kind }, { filename: `${name}.csv`, content: csv });
  const res = await stack.app.inject({
    method: 'POST',
    url: '/v1/contact-groups',
    headers: { ...bearer(tenant.supervisorKey), ...form.headers },
    payload: form.payload,
  });
  expect(res.statusCode).toBe(202);
  const { group, import: started } = res.json();
  const result = await stack.temporal.workflow.getHandle(importWorkflowId(started.id)).result();
  expect(result.state).toBe('completed');
  return group.id;
}

/**
 * A channel on the simulator. Unlimited messaging by default: most tests reach more unique users
 * in a day than Meta's starting tier (250) allows, and the limit has tests of its own.
 */
export async function createChannel(
  stack: TestStack,
  tenant: TestTenant,
  mpsLimit = 80,
  options: { messagingLimitTier?: string; phoneNumberId?: string } = {},
) {
  const res = await stack.app.inject({
    method: 'POST',
    url: '/v1/whatsapp/channels',
    headers: bearer(tenant.adminKey),
    payload: {
      name: 'Central',
      phoneNumberId: options.phoneNumberId ?? PHONE_NUMBER_ID,
      wabaId: WABA_ID,
      displayNumber: '554830000000',
      accessToken: SIM_TOKEN,
      appSecret: SIM_SECRET,
      verifyToken: 'verifica-123',
      mpsLimit,
      messagingLimitTier: options.messagingLimitTier ?? 'TIER_UNLIMITED',
    },
  });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; webhookUrl: string; verifyToken: string; messagingLimitTier: string; messagingLimit: number | null };
}

export async function syncTemplates(stack: TestStack, tenant: TestTenant, channelId: string) {
  const res = await stack.app.inject({ method: 'POST', url: `/v1/whatsapp/channels/${channelId}/templates/sync`, headers: bearer(tenant.supervisorKey) });
  expect(res.statusCode).toBe(200);
  return res.json();
}

export async function createCampaign(stack: TestStack, tenant: TestTenant, channelId: string, name: string): Promise<string> {
  const res = await stack.app.inject({ method: 'POST', url: '/v1/broadcast/campaigns', headers: bearer(tenant.supervisorKey), payload: { name, channelId } });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

export const reminderVariables = { '1': { column: 'nome' }, '2': { column: 'Vencimento' } };

export async function waitSendFinished(stack: TestStack, sendId: string) {
  return stack.temporal.workflow.getHandle(sendWorkflowId(sendId)).result();
}

/** Every message of the send in a final state (read, failed, skipped or unknown) and no webhook left to apply (call after sim.webhooksIdle()). */
export async function waitAllFinal(stack: TestStack, sendId: string, timeoutMs = 60_000, finals = ['read', 'failed', 'skipped', 'unknown']) {
  return waitFor(
    async () => {
      const rows = await stack.database.db
        .selectFrom('broadcast_messages')
        .select(['state'])
        .where('send_id', '=', sendId)
        .where('state', 'not in', finals as never)
        .limit(1)
        .execute();
      if (rows.length > 0) return false;
      // And every stored webhook applied (a `sent` may come after the `read`).
      const unapplied = await stack.database.db.selectFrom('webhook_events').select('id').where('applied_at', 'is', null).limit(1).execute();
      return unapplied.length === 0;
    },
    'every message to reach a final state and every webhook to be applied',
    timeoutMs,
    200,
  );
}
