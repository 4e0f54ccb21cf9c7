import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AriEventRecorder } from '../../src/recorder/event-recorder';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { fastStrategy, importDialerGroup, outcomeRules, phoneOf } from '../helpers/dialer';
import { startTestWorker } from '../helpers/temporal';
import { startWorkerProcess, waitFor, type WorkerProcess } from '../helpers/worker-process';

/**
 * A worker's death or shutdown harms no customer and stops no campaign (issue 11): the ARI event
 * recorder journals every call's end, so a lane taking over a dead worker's calls settles each
 * with its real outcome; a call nothing recorded is `unknown` and not redialled within the hour;
 * calls lost to our restart do not count towards the network-failure auto-pause; SIGTERM drains.
 */

let stack: TestStack;
let tenant: TestTenant;
let sim: AriSimulator;
let recorder: AriEventRecorder | undefined;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  stack = await createTestStack({ name: 'dialer-restart', env: { DIALER_LANE_HEARTBEAT_TIMEOUT_MS: '2000' } });
  tenant = await stack.createTenant('Reinicio');
  // The outcome is fixed by each number's last digit (5 answers, 1 busy, 2 no answer): the truth to compare with.
  sim = await startAriSimulator({ config: { seed: 5, ringMs: [100, 400], talkMs: [300, 900], rules: outcomeRules } });
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await recorder?.stop();
  await sim?.stop();
  await stack?.close();
});

const startRecorder = async () => {
  recorder = new AriEventRecorder({ db: stack.database.db, ari: { url: sim.url, username: 'omni', password: 'omni', app: 'restart' } });
  await recorder.start();
};

/** Each test runs its campaign on its own workers: the previous test's last worker must not take its lane. */
const killAllWorkers = async () => {
  for (const w of workers.splice(0)) await w.kill();
};

const spawnWorker = async (env: Record<string, string> = {}) => {
  const w = await startWorkerProcess({
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    schema: stack.database.schema,
    env: { ARI_URL: sim.url, ARI_APP: 'restart', ...env },
  });
  workers.push(w);
  return w;
};

const truth = (phone: string) => ({ '5': 'answered', '1': 'busy', '2': 'no_answer' })[phone.slice(-1)] as string;

async function campaignOf(name: string, contacts: number, over: Record<string, unknown> = {}) {
  const importer = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, { db: stack.database.db, pool: stack.database.pool });
  const lasts = [5, 5, 1, 2];
  const groupId = await importDialerGroup(
    stack,
    tenant,
    name,
    Array.from({ length: contacts }, (_, i) => [phoneOf(contacts * 10 + i, lasts[i % 4])]),
  );
  await importer.stop();
  const headers = bearer(tenant.supervisorKey);
  // The auto-pause as shipped: more than half of the last 20 attempts are network failures.
  const payload = fastStrategy(name, {
    pacing: { channels: 8, callsPerSecond: 50 },
    failurePause: { window: 20, ratio: 0.5 },
    maxAttemptsPerContact: 3,
    ...over,
  });
  const strategy = (await stack.app.inject({ method: 'POST', url: '/v1/dialer/strategies', headers, payload })).json();
  const created = (
    await stack.app.inject({ method: 'POST', url: '/v1/dialer/campaigns', headers, payload: { name, groupId, strategyId: strategy.id } })
  ).json();
  return {
    id: created.id as string,
    start: async () => (await stack.app.inject({ method: 'POST', url: `/v1/dialer/campaigns/${created.id}/start`, headers })).json(),
  };
}

const counts = (campaignId: string) =>
  stack.database.db
    .selectFrom('dial_attempts')
    .select([sql<number>`count(*)::int`.as('all'), sql<number>`count(*) FILTER (WHERE state = 'dialing')::int`.as('dialing')])
    .where('campaign_id', '=', campaignId)
    .executeTakeFirstOrThrow();

const attemptsOf = (campaignId: string) =>
  stack.database.db
    .selectFrom('dial_attempts')
    .select(['attempt_key', 'contact_id', 'phone', 'outcome', 'lost', 'cause', 'state'])
    .where('campaign_id', '=', campaignId)
    .execute();

/** No customer who answered was dialled again: each answering number was originated once. */
function expectNoAnsweredCustomerCalledTwice(attempts: Array<{ phone: string }>) {
  const perNumber = sim.stats().perNumber;
  const answering = [...new Set(attempts.map((a) => a.phone))].filter((p) => truth(p) === 'answered');
  expect(answering.length).toBeGreaterThan(0);
  expect(answering.filter((p) => perNumber[p] !== 1)).toEqual([]);
}

async function killDuringCalls(campaignId: string, kills: number, spawn: () => Promise<WorkerProcess>, worker: WorkerProcess) {
  let seen = 0;
  for (let kill = 0; kill < kills; kill++) {
    const before = seen;
    const at = await waitFor(
      async () => {
        const c = await counts(campaignId);
        return c.all >= before + 10 && c.dialing >= 3 ? c : undefined;
      },
      `calls in flight before kill ${kill + 1}`,
    );
    seen = at.all;
    await worker.kill();
    worker = await spawn();
  }
  return worker;
}

async function activityFailures(campaignId: string): Promise<number> {
  const history = await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(campaignId)).fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes).length;
}

it('SIGKILLed three times mid-campaign: every call keeps its real outcome from the event journal, nobody who answered is called again, no pause', async () => {
  await startRecorder();
  const campaign = await campaignOf('Tres mortes', 80);
  const first = await spawnWorker();
  expect((await campaign.start()).status).toBe('running');
  await killDuringCalls(campaign.id, 3, () => spawnWorker(), first);

  const result = await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(campaign.id)).result();
  // Completed by itself: never paused (nobody resumes it here).
  expect(result.status).toBe('completed');
  const attempts = await attemptsOf(campaign.id);
  expect(sim.stats().reoriginated).toEqual([]);
  expect(attempts.every((a) => a.state === 'done' && a.outcome !== null)).toBe(true);
  // Calls placed: each with the outcome Asterisk gave it, even those the dying workers never saw end.
  const placed = attempts.filter((a) => sim.acceptedOriginates(a.attempt_key) === 1);
  expect(placed.filter((a) => a.outcome !== truth(a.phone)).map((a) => `${a.attempt_key} ${a.outcome} (lost ${a.lost})`)).toEqual([]);
  const settledFromJournal = placed.filter((a) => a.lost);
  expect(settledFromJournal.length).toBeGreaterThanOrEqual(3);
  expect(settledFromJournal.every((a) => a.cause !== null && a.cause > 0)).toBe(true);
  // Attempts recorded just before a kill and never originated: known never placed, redialled for free.
  const neverPlaced = attempts.filter((a) => sim.acceptedOriginates(a.attempt_key) === 0);
  expect(neverPlaced.every((a) => a.lost && a.outcome === 'network_failure')).toBe(true);
  expect(attempts.filter((a) => a.outcome === 'unknown')).toEqual([]);
  expectNoAnsweredCustomerCalledTwice(attempts);
  await killAllWorkers();
}, 240_000);

it('with no journal of the lost calls: they end `unknown`, are not redialled within the hour, and do not pause the campaign', async () => {
  // Nobody records events: what the dead worker's calls came to is truly unknown.
  await recorder?.stop();
  recorder = undefined;
  const campaign = await campaignOf('Sem diario', 40, { failurePause: { window: 5, ratio: 0.5 } });
  const first = await spawnWorker();
  expect((await campaign.start()).status).toBe('running');
  const worker = await killDuringCalls(campaign.id, 1, () => spawnWorker(), first);
  await waitFor(
    async () => {
      const left = await stack.database.db
        .selectFrom('dialer_contacts')
        .select(
          sql<number>`count(*) FILTER (WHERE state IN ('queued', 'dialing') OR
            (state = 'pending' AND next_attempt_at < now() + interval '30 minutes'))::int`.as('n'),
        )
        .where('campaign_id', '=', campaign.id)
        .executeTakeFirstOrThrow();
      return left.n === 0;
    },
    'every contact but the unknown ones to be done',
    120_000,
  );
  const attempts = await attemptsOf(campaign.id);
  const unknown = attempts.filter((a) => a.outcome === 'unknown');
  expect(unknown.length).toBeGreaterThanOrEqual(3);
  expect(unknown.every((a) => a.lost && a.cause === null)).toBe(true);
  const next = await stack.database.db
    .selectFrom('dialer_contacts')
    .select(['contact_id', 'state', 'next_attempt_at'])
    .where('campaign_id', '=', campaign.id)
    .where(
      'contact_id',
      'in',
      unknown.map((a) => a.contact_id),
    )
    .execute();
  expect(next.every((c) => c.state === 'pending' && new Date(c.next_attempt_at).getTime() > Date.now() + 55 * 60_000)).toBe(true);
  const status = (await stack.app.inject({ method: 'GET', url: `/v1/dialer/campaigns/${campaign.id}`, headers: bearer(tenant.supervisorKey) })).json();
  expect(status.status).toBe('running');
  expect(status.pauseReason).toBeNull();
  // The calls report says which outcomes are unknown.
  const report = await stack.app.inject({ method: 'GET', url: `/v1/dialer/reports/calls?campaignId=${campaign.id}`, headers: bearer(tenant.supervisorKey) });
  const lines = report.body.trim().split('\r\n');
  const header = lines[0].replace(/^\uFEFF/, '').split(';');
  const column = header.indexOf('desfecho_desconhecido');
  expect(column).toBeGreaterThan(0);
  expect(lines.slice(1).filter((l) => l.split(';')[column] === 'sim')).toHaveLength(unknown.length);
  await stack.app.inject({ method: 'POST', url: `/v1/dialer/campaigns/${campaign.id}/stop`, headers: bearer(tenant.supervisorKey) });
  await worker.kill();
  await killAllWorkers();
}, 240_000);

it('SIGTERM drains: the worker stops dialing, hands live calls over or lets them end, exits cleanly; no failure, no pause, no lost outcome', async () => {
  await startRecorder();
  const campaign = await campaignOf('Desligamento', 60);
  // First stop: no time to wait — live calls are handed over and settled from the journal by the next worker.
  let worker = await spawnWorker({ DIALER_DRAIN_MS: '0' });
  expect((await campaign.start()).status).toBe('running');
  let seen = 0;
  for (const drainMs of ['0', '8000']) {
    // Calls this worker placed (not only those it took over) are in flight.
    const before = seen;
    seen = (
      await waitFor(async () => {
        const c = await counts(campaign.id);
        return c.all >= before + 10 && c.dialing >= 3 ? c : undefined;
      }, 'calls in flight')
    ).all;
    const started = Date.now();
    await worker.stop();
    expect(worker.child.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(Number(drainMs) + 8_000);
    const c = (await stack.app.inject({ method: 'GET', url: `/v1/dialer/campaigns/${campaign.id}`, headers: bearer(tenant.supervisorKey) })).json();
    expect(c.status).toBe('running');
    // Waited for its calls: none is left in flight.
    if (drainMs === '8000') expect((await counts(campaign.id)).dialing).toBe(0);
    worker = await spawnWorker({ DIALER_DRAIN_MS: drainMs === '0' ? '8000' : '0' });
  }
  const result = await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(campaign.id)).result();
  expect(result.status).toBe('completed');
  expect(await activityFailures(campaign.id)).toBe(0);
  const attempts = await attemptsOf(campaign.id);
  expect(attempts.filter((a) => a.outcome !== truth(a.phone)).map((a) => `${a.attempt_key} ${a.outcome}`)).toEqual([]);
  expectNoAnsweredCustomerCalledTwice(attempts);
  await worker.stop();
}, 240_000);
