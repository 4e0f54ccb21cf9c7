import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { expect, inject } from 'vitest';
import { resolveTemporalBinary } from '../../src/embedded/temporal-binary';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { startMercadoLivreSimulator, type MercadoLivreSimulator } from '../../src/simulators/mercadolivre/server';
import { WEBHOOK_APPLIER_ID } from '../../src/workflows/broadcast/messages';
import { JobKind } from '../../src/workflows/search-attributes';
import { bearer, type TestStack, type TestTenant } from './app';
import { createCampaign, createChannel, createGroup, contactsCsv, reminderVariables, SECRETS_KEY, startBroadcastStack, syncTemplates } from './broadcast';
import { fastStrategy, importDialerGroup, outcomeRules, phoneOf } from './dialer';
import { multipart } from './multipart';
import { startTestWorker, type RunningWorker } from './temporal';
import { startWorkerProcess, type WorkerProcess } from './worker-process';

/**
 * One stack on which a job of every workflow kind can be made: the API on a real port with the
 * WhatsApp simulator, an ARI simulator whose calls ring for a minute (a running campaign stays
 * running), and a worker the test starts and stops itself (a job started while it is stopped
 * waits, so what operations send it is seen by its first workflow task).
 */
export interface JobStack {
  stack: TestStack;
  tenant: TestTenant;
  ari: AriSimulator;
  /** Mercado Livre's simulator, its webhook pointed at the API (sellers connect with `connectMercadoLivre`). */
  ml: MercadoLivreSimulator;
  channelId: string;
  api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<{ statusCode: number; json(): any; body: string }>;
  /** The current code's worker, in process; or `checkout`'s own worker (another commit) in a child process. */
  startWorker(checkout?: Checkout): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Another commit's tree (test/replay/checkout.ts): its worker entry and its workflow bundle. */
export interface Checkout {
  ref: string;
  entry: string;
  bundlePath: string;
}

export const ML_CLIENT_ID = '5569000000001';
const ML_CLIENT_SECRET = 'sim-client-secret';
export const ML_SELLER = 468424240;

export async function startJobStack(name: string): Promise<JobStack> {
  const ml = await startMercadoLivreSimulator({ clientId: ML_CLIENT_ID, clientSecret: ML_CLIENT_SECRET, webhook: { retryBaseMs: 200, retryMaxMs: 1000 } });
  const mlEnv = {
    ML_API_URL: ml.url,
    ML_AUTH_URL: ml.url,
    ML_CLIENT_ID,
    ML_CLIENT_SECRET,
    ML_REDIRECT_URI: 'http://127.0.0.1:9/v1/mercadolivre/oauth/callback',
    ML_CATCH_UP_EVERY_MS: '600000',
  };
  const { sim, stack } = await startBroadcastStack({ name, mps: 80, sim: {}, env: mlEnv });
  ml.webhook.settings.url = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}/v1/webhooks/mercadolivre`;
  const ari = await startAriSimulator({ config: { seed: 1, ringMs: [60_000, 60_000], talkMs: [10, 20], rules: outcomeRules } });
  const tenant = await stack.createTenant(name);
  const channel = await createChannel(stack, tenant);
  await syncTemplates(stack, tenant, channel.id);
  let worker: RunningWorker | WorkerProcess | undefined;
  const api: JobStack['api'] = (method, url, payload) =>
    stack.app.inject({ method, url, headers: bearer(tenant.supervisorKey), ...(payload !== undefined ? { payload: payload as object } : {}) });
  return {
    stack,
    tenant,
    ari,
    ml,
    channelId: channel.id,
    api,
    startWorker: async (checkout) => {
      if (worker) return;
      if (checkout) {
        worker = await startWorkerProcess({
          taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
          schema: stack.database.schema,
          entry: checkout.entry,
          bundlePath: checkout.bundlePath,
          env: { ARI_URL: ari.url, ARI_APP: name, WHATSAPP_GRAPH_URL: sim.url, SECRETS_KEY, ...mlEnv },
        });
        return;
      }
      worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
        db: stack.database.db,
        pool: stack.database.pool,
        dialer: { ari: { url: ari.url, username: 'omni', password: 'omni', app: name } },
        broadcast: { graphUrl: sim.url, secretsKey: SECRETS_KEY },
        mercadolivre: { apiUrl: ml.url, clientId: ML_CLIENT_ID, clientSecret: ML_CLIENT_SECRET, secretsKey: SECRETS_KEY },
      });
    },
    stopWorker: async () => {
      const stopping = worker;
      worker = undefined;
      if (!stopping || !('kill' in stopping)) return stopping?.stop();
      // As a deployment stops it: SIGTERM (the SDK drains), SIGKILL if it has not gone in 10 s.
      const killer = setTimeout(() => void stopping.kill(), 10_000);
      await stopping.stop();
      clearTimeout(killer);
    },
    close: async () => {
      await worker?.stop();
      await ari.stop();
      await stack.close();
      await sim.stop();
      await ml.stop();
    },
  };
}

/** An import of a small group; returns the import id (its workflow is `import-<id>`). */
export async function startImport(t: JobStack, name: string, rows = 5): Promise<string> {
  const form = multipart({ name, kind: 'broadcast' }, { filename: `${name}.csv`, content: contactsCsv(rows) });
  const res = await t.stack.app.inject({
    method: 'POST',
    url: '/v1/contact-groups',
    headers: { ...bearer(t.tenant.supervisorKey), ...form.headers },
    payload: form.payload,
  });
  expect(res.statusCode).toBe(202);
  return res.json().import.id;
}

export async function startExport(t: JobStack): Promise<string> {
  const res = await t.api('POST', '/v1/exports/activity-report', {
    from: new Date(Date.now() - 3600_000).toISOString(),
    to: new Date(Date.now() + 3600_000).toISOString(),
  });
  expect(res.statusCode).toBe(202);
  return res.json().id;
}

/** A dialer campaign (a draft unless `extra` says otherwise) over `contacts` numbers that all ring (needs the worker for its group's import). */
export async function createDialerCampaign(t: JobStack, name: string, contacts = 3, extra: Record<string, unknown> = {}): Promise<string> {
  const groupId = await importDialerGroup(
    t.stack,
    t.tenant,
    name,
    Array.from({ length: contacts }, (_, i) => [phoneOf(i + 1, 5)]),
  );
  const strategy = (await t.api('POST', '/v1/dialer/strategies', fastStrategy(`${name} estratégia`))).json();
  const res = await t.api('POST', '/v1/dialer/campaigns', { name, groupId, strategyId: strategy.id, ...extra });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

/** A broadcast send scheduled an hour ahead (needs the worker for its group's import); returns the send id. */
export async function createScheduledSend(t: JobStack, name: string, startAt = new Date(Date.now() + 3600_000).toISOString()): Promise<string> {
  const groupId = await createGroup(t.stack, t.tenant, name, contactsCsv(3));
  const campaignId = await createCampaign(t.stack, t.tenant, t.channelId, name);
  const res = await t.api('POST', `/v1/broadcast/campaigns/${campaignId}/sends`, {
    groupId,
    template: { name: 'lembrete_pagamento' },
    variables: reminderVariables,
    startAt,
  });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

/** The webhook applier of the stack's task queue, as the API starts it, with short slices. */
export function startWebhookApplier(t: JobStack): Promise<string> {
  return startForeverWorkflow(t, 'whatsappWebhookApplierWorkflow', WEBHOOK_APPLIER_ID, 'webhook-applier', { sliceMs: 300 });
}

/** The seller goes through the authorization page and back to the OAuth callback; returns the account id (its workflow is `ml-account-<id>`). */
export async function connectMercadoLivre(t: JobStack, sellerId = ML_SELLER): Promise<string> {
  const authorize = await t.api('POST', '/v1/mercadolivre/accounts/authorize');
  expect(authorize.statusCode, authorize.body).toBe(200);
  const page = await fetch(`${authorize.json().authorizationUrl}&seller_id=${sellerId}`, { redirect: 'manual' });
  expect(page.status).toBe(302);
  const back = new URL(page.headers.get('location')!);
  const res = await t.stack.app.inject({ method: 'GET', url: `/v1/mercadolivre/oauth/callback${back.search}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().account.id;
}

/** A forever workflow started as the API starts it (same id and kind, so the API's own start finds it running), with `args` of the test's choosing. */
export async function startForeverWorkflow(t: JobStack, type: string, idPrefix: string, jobKind: string, args: object): Promise<string> {
  const workflowId = `${idPrefix}-${t.stack.config.TEMPORAL_TASK_QUEUE}`;
  await t.stack.temporal.workflow.start(type, {
    taskQueue: t.stack.config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [args],
    typedSearchAttributes: [{ key: JobKind, value: jobKind }],
  });
  return workflowId;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

/**
 * The Temporal CLI (the binary src/embedded/temporal-binary.ts resolves) against the test server:
 * `temporal(['workflow', 'describe', '-w', id])`. Asynchronous, so a test can leave an Update
 * waiting for a worker it starts afterwards.
 */
export function temporal(args: string[]): Promise<CliResult> {
  const binary = resolveTemporalBinary({ install: false });
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args, '--address', inject('temporalAddress'), '--namespace', 'default'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }));
  });
}
