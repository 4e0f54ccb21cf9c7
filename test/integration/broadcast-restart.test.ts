import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { messageKey } from '../../src/domain/broadcast';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { sendWorkflowId } from '../../src/workflows/broadcast/messages';
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

/**
 * The closing walk of issue 11 for broadcast: the worker runs in its own process as `npm start` and
 * `npm run worker` run it, is stopped with SIGTERM in the middle of a send and started again. The
 * stop is orderly (exit 0, no activity failed or retried), nobody gets the message twice, every
 * message ends with a known outcome, and the send completes.
 */
let sim: WhatsAppSimulator;
let stack: TestStack;
let tenant: TestTenant;
let webhookUrl: (channelId: string) => string;
const workers: WorkerProcess[] = [];

const N = 1500;
const PACE = 100;

beforeAll(async () => {
  ({ sim, stack, webhookUrl } = await startBroadcastStack({
    name: 'broadcast-restart',
    mps: 300,
    sim: { pairWindowMs: 0, webhook: { deliveredDelayMs: 20, readDelayMs: 40 } },
    env: { BROADCAST_UNKNOWN_AFTER_MS: '30000', BROADCAST_PAGE_SIZE: '200' },
  }));
  tenant = await stack.createTenant('Reinicio Broadcast');
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await stack?.close();
  await sim?.stop();
});

const spawnWorker = async () => {
  const w = await startWorkerProcess({
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    schema: stack.database.schema,
    env: { WHATSAPP_GRAPH_URL: sim.url, SECRETS_KEY },
  });
  workers.push(w);
  return w;
};

/** Activities that failed, timed out, or had to be tried again (an attempt after a failure) in a workflow's history. */
async function troubledActivities(workflowId: string): Promise<string[]> {
  const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    if (e.activityTaskFailedEventAttributes) return [`failed: ${e.activityTaskFailedEventAttributes.failure?.message}`];
    if (e.activityTaskTimedOutEventAttributes) return [`timed out: ${e.activityTaskTimedOutEventAttributes.failure?.message}`];
    const started = e.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1) return [`attempt ${started.attempt} after: ${started.lastFailure?.message}`];
    return [];
  });
}

it('SIGTERM during a send: exit 0, no activity failed, nobody messaged twice, every outcome known, the send completes', async () => {
  const taskQueue = stack.config.TEMPORAL_TASK_QUEUE;
  // The group import runs on an in-process worker (the stop is the send's business).
  const importer = await startTestWorker(taskQueue, { db: stack.database.db, pool: stack.database.pool });
  const channel = await createChannel(stack, tenant, 300);
  sim.configure({ webhook: { url: webhookUrl(channel.id) } });
  await syncTemplates(stack, tenant, channel.id);
  const groupId = await createGroup(stack, tenant, 'Reinicio', contactsCsv(N));
  const campaignId = await createCampaign(stack, tenant, channel.id, 'Reinicio');
  await importer.stop();

  let worker = await spawnWorker();
  const res = await stack.app.inject({
    method: 'POST',
    url: `/v1/broadcast/campaigns/${campaignId}/sends`,
    headers: bearer(tenant.supervisorKey),
    payload: { groupId, template: { name: 'lembrete_pagamento' }, variables: reminderVariables, paceMps: PACE },
  });
  expect(res.statusCode).toBe(201);
  const sendId: string = res.json().id;

  const accepted = () => sim.stats({ detail: false }).accepted;
  await waitFor(async () => accepted() >= N / 3, `${N / 3} messages accepted`, 90_000, 50);
  const acceptedAtSignal = accepted();
  const stopping = Date.now();
  await worker.stop();
  const stoppedAfterMs = Date.now() - stopping;
  expect(worker.child.exitCode).toBe(0);
  // Drained, not waited out: pages stop taking messages at once and only settle those in flight
  // (the grace time, 25 s, is for a dialing lane's calls).
  expect(stoppedAfterMs).toBeLessThan(10_000);
  const acceptedAtStop = accepted();
  expect(acceptedAtStop).toBeLessThan(N);
  // What went out after the signal is what was already in flight plus a few pace slots, not pages more.
  expect(acceptedAtStop - acceptedAtSignal).toBeLessThan(PACE * 3);
  // Stopped in order: the send is not paused by it.
  const send = (await stack.app.inject({ method: 'GET', url: `/v1/broadcast/sends/${sendId}`, headers: bearer(tenant.supervisorKey) })).json();
  expect(send.status).toBe('running');

  worker = await spawnWorker();
  const result = await stack.temporal.workflow.getHandle(sendWorkflowId(sendId)).result();
  expect(result.state).toBe('completed');
  await sim.webhooksIdle();
  await waitAllFinal(stack, sendId, 60_000, ['read', 'failed']);

  expect(await troubledActivities(sendWorkflowId(sendId))).toEqual([]);
  const stats = sim.stats();
  expect(stats.duplicateRecipients).toEqual([]);
  expect(stats.duplicateCallbackData).toEqual([]);
  const db = stack.database.db;
  const states = await db
    .selectFrom('broadcast_messages')
    .select(['state', sql<number>`count(*)::int`.as('n')])
    .where('send_id', '=', sendId)
    .groupBy('state')
    .execute();
  // The simulator refuses nothing here: every message was accepted once and read.
  expect(states).toEqual([{ state: 'read', n: N }]);
  const acceptedKeys = new Set(Object.keys(stats.acceptedByCallbackData ?? {}));
  const rows = await db.selectFrom('broadcast_messages').select(['contact_id']).where('send_id', '=', sendId).execute();
  expect(rows.filter((r) => !acceptedKeys.has(messageKey(sendId, r.contact_id)))).toEqual([]);
  console.log(`[broadcast-restart] SIGTERM at ${acceptedAtSignal} of ${N} accepted, ${acceptedAtStop} when the worker exited, in ${stoppedAfterMs} ms`);
  await worker.stop();
  expect(worker.child.exitCode).toBe(0);
}, 240_000);
