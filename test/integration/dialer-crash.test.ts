import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { startCrashStack, type CrashStack } from '../helpers/crash-stack';
import { fastStrategy, importDialerGroup, phoneOf } from '../helpers/dialer';
import { startTestWorker } from '../helpers/temporal';

let c: CrashStack;

beforeAll(async () => {
  // Calls long enough that every kill lands with calls in flight.
  c = await startCrashStack('crash', 'Resiliente', {
    seed: 11,
    ringMs: [100, 400],
    talkMs: [300, 900],
    defaultMix: [
      { outcome: 'answered', weight: 60 },
      { outcome: 'busy', weight: 20 },
      { outcome: 'no_answer', weight: 20 },
    ],
  });
});
afterAll(async () => {
  await c?.close();
});

it('completes after its worker is SIGKILLed three times mid-campaign, never placing a second call for an attempt', async () => {
  // The import runs on an in-process worker; the campaign only on killable child processes.
  const importer = await startTestWorker(c.stack.config.TEMPORAL_TASK_QUEUE, { db: c.stack.database.db, pool: c.stack.database.pool });
  const { stack, sim } = c;
  const groupId = await importDialerGroup(
    stack,
    c.tenant,
    'Crash',
    Array.from({ length: 80 }, (_, i) => [phoneOf(i, 5)]),
  );
  await importer.stop();

  const strategy = (await c.api('POST', '/v1/dialer/strategies', fastStrategy('Crash', { pacing: { channels: 8, callsPerSecond: 50 } }))).json();
  const created = (await c.api('POST', '/v1/dialer/campaigns', { name: 'Crash', groupId, strategyId: strategy.id })).json();

  const db = stack.database.db;
  const counts = async () =>
    db
      .selectFrom('dial_attempts')
      .select([sql<number>`count(*)::int`.as('all'), sql<number>`count(*) FILTER (WHERE state = 'dialing')::int`.as('dialing')])
      .where('campaign_id', '=', created.id)
      .executeTakeFirstOrThrow();

  const worker = await c.spawnWorker();
  expect((await c.api('POST', `/v1/dialer/campaigns/${created.id}/start`)).json().status).toBe('running');
  let seen = 0;
  await c.killRepeatedly(worker, 3, async () => {
    const now = await counts();
    if (now.all < seen + 12 || now.dialing === 0) return undefined;
    seen = now.all;
    return now;
  });

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
