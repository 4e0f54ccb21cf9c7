import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AriEventRecorder } from '../../src/recorder/event-recorder';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { fastStrategy, importDialerGroup, phoneOf } from '../helpers/dialer';
import { startTestWorker } from '../helpers/temporal';
import { startWorkerProcess, waitFor, type WorkerProcess } from '../helpers/worker-process';

let stack: TestStack;
let tenant: TestTenant;
let sim: AriSimulator;
let recorder: AriEventRecorder;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  stack = await createTestStack({ name: 'dialer-crash', env: { DIALER_LANE_HEARTBEAT_TIMEOUT_MS: '2000' } });
  tenant = await stack.createTenant('Resiliente');
  // Calls long enough that every kill lands with calls in flight.
  sim = await startAriSimulator({
    config: {
      seed: 11,
      ringMs: [100, 400],
      talkMs: [300, 900],
      defaultMix: [
        { outcome: 'answered', weight: 60 },
        { outcome: 'busy', weight: 20 },
        { outcome: 'no_answer', weight: 20 },
      ],
    },
  });
  // The always-on event recorder (npm start runs one): the journal settles the calls each dead worker left.
  recorder = new AriEventRecorder({ db: stack.database.db, ari: { url: sim.url, username: 'omni', password: 'omni', app: 'crash' } });
  await recorder.start();
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await recorder?.stop();
  await sim?.stop();
  await stack?.close();
});

it('completes after its worker is SIGKILLed three times mid-campaign, never placing a second call for an attempt', async () => {
  // The import runs on an in-process worker; the campaign only on killable child processes.
  const importer = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, { db: stack.database.db, pool: stack.database.pool });
  const groupId = await importDialerGroup(
    stack,
    tenant,
    'Crash',
    Array.from({ length: 80 }, (_, i) => [phoneOf(i, 5)]),
  );
  await importer.stop();

  const spawnWorker = async () => {
    const w = await startWorkerProcess({
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      schema: stack.database.schema,
      env: { ARI_URL: sim.url, ARI_APP: 'crash' },
    });
    workers.push(w);
    return w;
  };
  const headers = bearer(tenant.supervisorKey);
  const strategy = (
    await stack.app.inject({
      method: 'POST',
      url: '/v1/dialer/strategies',
      headers,
      payload: fastStrategy('Crash', { pacing: { channels: 8, callsPerSecond: 50 } }),
    })
  ).json();
  const created = (
    await stack.app.inject({ method: 'POST', url: '/v1/dialer/campaigns', headers, payload: { name: 'Crash', groupId, strategyId: strategy.id } })
  ).json();

  const db = stack.database.db;
  const counts = async () =>
    db
      .selectFrom('dial_attempts')
      .select([sql<number>`count(*)::int`.as('all'), sql<number>`count(*) FILTER (WHERE state = 'dialing')::int`.as('dialing')])
      .where('campaign_id', '=', created.id)
      .executeTakeFirstOrThrow();

  let worker = await spawnWorker();
  expect((await stack.app.inject({ method: 'POST', url: `/v1/dialer/campaigns/${created.id}/start`, headers })).json().status).toBe('running');
  let seen = 0;
  for (let kill = 0; kill < 3; kill++) {
    const before = seen;
    const at = await waitFor(
      async () => {
        const c = await counts();
        return c.all >= before + 12 && c.dialing > 0 ? c : undefined;
      },
      `calls in flight before kill ${kill + 1}`,
    );
    seen = at.all;
    await worker.kill();
    worker = await spawnWorker();
  }

  const result = await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(created.id)).result();
  expect(result.status).toBe('completed');
  expect(result.lanes).toBeGreaterThanOrEqual(1);

  const stats = sim.stats();
  const final = await counts();
  expect(stats.reoriginated).toEqual([]);
  expect(final.dialing).toBe(0);
  // Every call the dialer placed has its attempt row, under the same key, exactly once. An attempt
  // row without a call exists only when a kill fell between writing the row and originating: it
  // was found again, recorded as a lost network failure, and the contact was dialled again.
  const attempts = await db.selectFrom('dial_attempts').select(['attempt_key', 'lost', 'outcome']).where('campaign_id', '=', created.id).execute();
  const placed = attempts.filter((a) => sim.acceptedOriginates(a.attempt_key) === 1);
  expect(stats.originatesAccepted).toBe(placed.length);
  const neverPlaced = attempts.filter((a) => sim.acceptedOriginates(a.attempt_key) === 0);
  expect(neverPlaced.every((a) => a.lost && a.outcome === 'network_failure')).toBe(true);
  expect(placed.length + neverPlaced.length).toBe(final.all);
  // Calls in flight at each kill were found again by channel id and followed to their end.
  const reconciled = await db
    .selectFrom('dial_attempts')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('campaign_id', '=', created.id)
    .where('lost', '=', true)
    .executeTakeFirstOrThrow();
  expect(reconciled.n).toBeGreaterThanOrEqual(3);
  const open = await db
    .selectFrom('dialer_contacts')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('campaign_id', '=', created.id)
    .where('state', 'not in', ['done', 'blocked', 'exhausted'])
    .executeTakeFirstOrThrow();
  expect(open.n).toBe(0);
  const total = await db
    .selectFrom('dialer_contacts')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('campaign_id', '=', created.id)
    .executeTakeFirstOrThrow();
  expect(total.n).toBe(80);
});
