import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAriSessionProvider, type AriSession } from '../../src/activities/dialer/ari-session';
import { runLane } from '../../src/activities/dialer/lane';
import { loadCampaign, prepareContacts } from '../../src/activities/dialer/store';
import { createDb } from '../../src/db/database';
import { amdStage } from '../../src/integrations/ari';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { fastStrategy, importDialerGroup, phoneOf } from '../helpers/dialer';
import { startTestWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/worker-process';

let stack: TestStack;
let tenant: TestTenant;
let sim: AriSimulator;

beforeAll(async () => {
  stack = await createTestStack({ name: 'dialer-amd-takeover' });
  tenant = await stack.createTenant('AMD takeover');
  // Every call answers and is a machine. AMD takes long enough for the second lane to find the call
  // still in AMD (should a loaded machine make it find the call already back, it reads AMDSTATUS
  // all the same); the call would talk far longer: undetected, a machine ends `answered`.
  sim = await startAriSimulator({
    config: {
      seed: 3,
      ringMs: [10, 20],
      talkMs: [8_000, 8_000],
      amdMs: [1_500, 1_500],
      rules: [{ match: '.', mix: [{ outcome: 'answered', weight: 1 }], machineShare: 1 }],
    },
  });
});
afterAll(async () => {
  await sim?.stop();
  await stack?.close();
});

const sessionProvider = () => createAriSessionProvider({ url: sim.url, username: 'omni', password: 'omni', app: 'amd-takeover' });

it('a lane taking over a call left in AMD by a dead lane reads AMDSTATUS: the machine ends as answering_machine, with one originate', async () => {
  const headers = bearer(tenant.supervisorKey);
  // A worker only for the import: the lanes run here by hand, the campaign workflow never runs.
  const importer = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, { db: stack.database.db, pool: stack.database.pool });
  const groupId = await importDialerGroup(stack, tenant, 'Takeover', [[phoneOf(1, 7)]]);
  await importer.stop();
  const payload = fastStrategy('AMD takeover', { answeringMachineDetection: true, outcomes: { answering_machine: { action: 'finish' } } });
  const strategy = (await stack.app.inject({ method: 'POST', url: '/v1/dialer/strategies', headers, payload })).json();
  const created = (
    await stack.app.inject({ method: 'POST', url: '/v1/dialer/campaigns', headers, payload: { name: 'Takeover', groupId, strategyId: strategy.id } })
  ).json();
  const db = stack.database.db;
  // What the campaign workflow does before its lanes run.
  await db.updateTable('dialer_campaigns').set({ status: 'running' }).where('id', '=', created.id).execute();
  await prepareContacts(db, await loadCampaign(db, created.id));

  // Lane 1 on its own ARI session and its own pool: closing both is the worker dying (nothing recorded).
  const db1 = createDb({ connectionString: stack.database.url, schema: stack.database.schema, poolSize: 2 });
  const session1 = sessionProvider();
  const lane1 = runLane({ db: db1.db, ari: session1, tuning: { controlEveryMs: 50 } }, created.id);
  lane1.catch(() => undefined);

  const attempt = await waitFor(
    () => db.selectFrom('dial_attempts').select(['attempt_key']).where('campaign_id', '=', created.id).executeTakeFirst(),
    'the first attempt',
  );
  const key = attempt.attempt_key;
  const dead: AriSession = await session1();
  await waitFor(async () => {
    const channel = await dead.client.getChannel(key);
    return channel && amdStage(channel) === 'detecting';
  }, 'the call in AMD');

  dead.amd.close();
  dead.tracker.close();
  await dead.client.close();
  await db1.close();
  await expect(lane1).rejects.toThrow();

  // Lane 2: a fresh session (another app name, so none of the call's events reach it).
  const session2 = sessionProvider();
  const lane2 = await runLane({ db, ari: session2, tuning: { controlEveryMs: 50, reconcilePollMs: 20 } }, created.id);
  expect(lane2).toMatchObject({ reason: 'completed', reconciled: 1, dialed: 0 });

  const rows = await db.selectFrom('dial_attempts').select(['attempt_key', 'outcome', 'amd_status', 'state']).where('campaign_id', '=', created.id).execute();
  expect(rows).toEqual([{ attempt_key: key, outcome: 'answering_machine', amd_status: 'MACHINE', state: 'done' }]);
  const contact = await db.selectFrom('dialer_contacts').select(['state', 'final_outcome']).where('campaign_id', '=', created.id).executeTakeFirstOrThrow();
  expect(contact).toEqual({ state: 'done', final_outcome: 'answering_machine' });
  // Never a second call for the attempt; the machine was hung up by lane 2, not left talking.
  expect(sim.acceptedOriginates(key)).toBe(1);
  expect(sim.stats()).toMatchObject({ originatesAccepted: 1, hangupsRequested: 1 });

  const live = await session2();
  live.amd.close();
  live.tracker.close();
  await live.client.close();
});
