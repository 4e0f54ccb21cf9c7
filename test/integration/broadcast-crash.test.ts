import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { messageKey } from '../../src/domain/broadcast';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import {
  contactsCsv,
  createCampaign,
  createChannel,
  createGroup,
  reminderVariables,
  SECRETS_KEY,
  startBroadcastStack,
  syncTemplates,
  waitAllFinal,
} from '../helpers/broadcast';
import { startTestWorker } from '../helpers/temporal';
import { startWorkerProcess, waitFor, type WorkerProcess } from '../helpers/worker-process';

let sim: WhatsAppSimulator;
let stack: TestStack;
let tenant: TestTenant;
let webhookUrl: (channelId: string) => string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  ({ sim, stack, webhookUrl } = await startBroadcastStack({
    name: 'broadcast-crash',
    mps: 300,
    sim: {
      // 10% transient refusals (retried), and 2% of accepted sends whose answer is lost on the way back.
      transient: { fraction: 0.1, codes: [131000, 130429, 131016] },
      lostAnswerFraction: 0.02,
      webhook: { duplicateFraction: 0.1, outOfOrderFraction: 0.2, deliveredDelayMs: 20, readDelayMs: 40 },
    },
    env: { BROADCAST_UNKNOWN_AFTER_MS: '4000', BROADCAST_PAGE_SIZE: '200', BROADCAST_PAGES_PER_RUN: '6' },
  }));
  tenant = await stack.createTenant('Resiliente');
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await stack?.close();
  await sim?.stop();
});

/** The size, 20,000 contacts; BROADCAST_CRASH_CONTACTS changes it (e.g. 3000 for a quick local run). */
const N = Number(process.env.BROADCAST_CRASH_CONTACTS ?? 20_000);

it(
  `completes a send of ${N} whose worker is SIGKILLed three times: no contact twice, every message final`,
  async () => {
    const taskQueue = stack.config.TEMPORAL_TASK_QUEUE;
    const spawnWorker = async () => {
      const w = await startWorkerProcess({ taskQueue, schema: stack.database.schema, env: { WHATSAPP_GRAPH_URL: sim.url, SECRETS_KEY } });
      workers.push(w);
      return w;
    };

    // The group import runs on an in-process worker (the crash is the send's business).
    const importer = await startTestWorker(taskQueue, { db: stack.database.db, pool: stack.database.pool });
    const channel = await createChannel(stack, tenant, 600);
    sim.configure({ webhook: { url: webhookUrl(channel.id) } });
    await syncTemplates(stack, tenant, channel.id);
    const groupId = await createGroup(stack, tenant, 'Grande', contactsCsv(N));
    const campaignId = await createCampaign(stack, tenant, channel.id, 'Resistente');
    await importer.stop();

    const t0 = Date.now();
    const mark = (what: string) =>
      console.log(`[crash] ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s, accepted ${sim.stats({ detail: false }).accepted}`);
    let worker = await spawnWorker();
    mark('worker up');
    const res = await stack.app.inject({
      method: 'POST',
      url: `/v1/broadcast/campaigns/${campaignId}/sends`,
      headers: bearer(tenant.supervisorKey),
      payload: { groupId, template: { name: 'lembrete_pagamento' }, variables: reminderVariables, paceMps: 600 },
    });
    expect(res.statusCode).toBe(201);
    const sendId: string = res.json().id;
    const firstRunId = (await stack.temporal.workflow.getHandle(`broadcast-send-${sendId}`).describe()).runId;

    const accepted = () => sim.stats({ detail: false }).accepted;
    for (let kill = 1; kill <= 3; kill++) {
      const target = Math.floor((N * kill) / 4);
      await waitFor(async () => accepted() >= target, `${target} messages accepted`, 90_000, 50);
      mark(`kill ${kill}`);
      await worker.kill();
      worker = await spawnWorker();
      mark(`worker ${kill + 1} up`);
    }

    const result = await stack.temporal.workflow.getHandle(`broadcast-send-${sendId}`).result();
    expect(result.state).toBe('completed');
    // It continued as new on the way (6 pages per run), carrying its cursor and counters.
    expect((await stack.temporal.workflow.getHandle(`broadcast-send-${sendId}`).describe()).runId).not.toBe(firstRunId);
    expect(result.counters.pages).toBeGreaterThanOrEqual(N / 200);
    mark('completed');
    await sim.webhooksIdle();
    await waitAllFinal(stack, sendId, 60_000);
    mark('all final');

    const stats = sim.stats();
    // Exactly once: no recipient and no key accepted twice, whatever died when.
    expect(stats.duplicateRecipients).toEqual([]);
    expect(stats.duplicateCallbackData).toEqual([]);
    expect(stats.lostAnswers).toBeGreaterThan(0);
    expect(stats.refused).toBeGreaterThan(0);

    const db = stack.database.db;
    const rows = await db.selectFrom('broadcast_messages').select(['contact_id', 'state', 'attempts']).where('send_id', '=', sendId).execute();
    expect(rows).toHaveLength(N);
    const counts = Object.fromEntries(
      (
        await db
          .selectFrom('broadcast_messages')
          .select(['state', sql<number>`count(*)::int`.as('n')])
          .where('send_id', '=', sendId)
          .groupBy('state')
          .execute()
      ).map((r) => [r.state, r.n]),
    );
    expect(Object.keys(counts).every((s) => ['read', 'failed', 'unknown'].includes(s))).toBe(true);
    // What WhatsApp accepted is exactly what we report as read; an `unknown` was never accepted.
    const acceptedKeys = new Set(Object.keys(stats.acceptedByCallbackData ?? {}));
    const read = rows.filter((r) => r.state === 'read');
    expect(read.length).toBe(acceptedKeys.size);
    for (const r of read) expect(acceptedKeys.has(messageKey(sendId, r.contact_id))).toBe(true);
    for (const r of rows.filter((x) => x.state === 'unknown')) expect(acceptedKeys.has(messageKey(sendId, r.contact_id))).toBe(false);
    // Transient errors are retried, boundedly: failures here can only be retries that ran out.
    expect(counts.failed ?? 0).toBeLessThan(N * 0.01);
    expect(Math.max(...rows.map((r) => r.attempts))).toBeLessThanOrEqual(6);
  },
  240_000 + N * 20,
);
