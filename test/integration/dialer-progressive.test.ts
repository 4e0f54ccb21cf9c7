import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseAgent, reserveAgent } from '../../src/db/agents';
import { readPacingLive } from '../../src/db/pacing-live';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { fastStrategy, importDialerGroup, phoneOf } from '../helpers/dialer';
import { startDialerTestStack, type DialerTestStack } from '../helpers/dialer-stack';
import { waitFor } from '../helpers/worker-process';
import { newAgent, setAgentState } from '../helpers/agents';

// Progressive dialing paces by the campaign's logged-in agents: with none, no call at all; with N
// available agents and ratio r, never more than N × r calls in flight (nobody is bridged yet, so
// every call in flight counts).
let t: DialerTestStack;

beforeAll(async () => {
  t = await startDialerTestStack('dialer-progressive', {
    seed: 11,
    ringMs: [100, 300],
    talkMs: [800, 1500],
    rules: [{ match: '.', mix: [{ outcome: 'answered', weight: 1 }] }],
  });
});
afterAll(async () => {
  await t?.close();
});

const newProgressiveAgent = (n: number) => newAgent(t, n, 'prog', 2000);
const setState = (key: string, state: string) => setAgentState(t, key, state);

describe('progressive dialing', () => {
  it('places no call without a logged-in agent, then keeps calls in flight within available agents × ratio', async () => {
    const agents = [await newProgressiveAgent(1), await newProgressiveAgent(2), await newProgressiveAgent(3)];
    const phones = Array.from({ length: 14 }, (_, i) => [phoneOf(i, 5)]);
    const groupId = await importDialerGroup(t.stack, t.tenant, 'Progressivo', phones);
    const strategy = await t.api(
      'POST',
      '/v1/dialer/strategies',
      fastStrategy('Progressivo', { maxAttemptsPerContact: 1, pacing: { mode: 'progressive', ratio: 1.5, channels: 20, callsPerSecond: 100 } }),
    );
    expect(strategy.statusCode, strategy.body).toBe(201);
    expect(strategy.json().config.pacing).toMatchObject({ mode: 'progressive', ratio: 1.5 });
    const created = await t.api('POST', '/v1/dialer/campaigns', {
      name: 'Progressivo',
      groupId,
      strategyId: strategy.json().id,
      agentIds: agents.map((a) => a.id),
      wrapUpSeconds: 0,
    });
    expect(created.statusCode, created.body).toBe(201);
    const campaignId = created.json().id as string;
    expect((await t.api('POST', `/v1/dialer/campaigns/${campaignId}/start`)).statusCode).toBe(200);

    // The lane runs and has read its (empty) roster: and no call was placed.
    const live = await waitFor(async () => {
      const row = await readPacingLive(t.stack.database.db, campaignId);
      return row?.agents ? row : undefined;
    }, 'the pacer to read the roster');
    expect(live).toMatchObject({ mode: 'progressive', agents: { loggedIn: 0, available: 0 } });
    expect(t.sim.stats().originatesAccepted).toBe(0);
    expect((await t.api('GET', `/v1/dialer/campaigns/${campaignId}`)).json().status).toBe('running');

    // Two of the three log in through the API: at most 2 × 1.5 = 3 calls at once.
    for (const a of agents.slice(0, 2)) expect((await setState(a.key, 'available')).json().state).toBe('available');
    const result = await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(campaignId)).result();
    expect(result.status).toBe('completed');
    const stats = t.sim.stats();
    expect(stats.originatesAccepted).toBe(14);
    expect(stats.maxConcurrent).toBeLessThanOrEqual(3);
    // It did use what the agents allow (the calls overlap: talk 0.8–1.5 s).
    expect(stats.maxConcurrent).toBe(3);

    // The monitor's agent figures. Nothing connects calls to agents here, so the agent ledger is
    // written as the connecting code writes it: 4 of the 14 answered calls were taken by an agent.
    const db = t.stack.database.db;
    const keys = (await db.selectFrom('dial_attempts').select('attempt_key').where('campaign_id', '=', campaignId).orderBy('id').execute()).map(
      (r) => r.attempt_key,
    );
    for (const callKey of keys.slice(0, 4)) {
      expect(await reserveAgent(db, { campaignId, callKey })).toBeDefined();
      await releaseAgent(db, { callKey });
    }
    const monitor = await t.api('GET', `/v1/dialer/campaigns/${campaignId}/monitor`);
    expect(monitor.statusCode, monitor.body).toBe(200);
    const agentsNow = monitor.json().agents;
    expect(agentsNow).toMatchObject({
      byState: { offline: 1, available: 2, on_call: 0, wrap_up: 0, paused: 0 },
      loggedIn: 2,
      waitingForAgent: 0,
      longestWaitSeconds: null,
      pacingMode: 'progressive',
      pacingPhase: null,
      abandonRate: {
        lastMinute: { answered: 14, abandoned: 10 },
        today: { answered: 14, abandoned: 10 },
        campaign: { answered: 14, abandoned: 10, rate: 10 / 14 },
      },
    });
    expect(agentsNow.dialLevel).toBeGreaterThanOrEqual(0);
    expect(agentsNow.dialLevelAt).not.toBeNull();
    expect(agentsNow.averageSpeedOfAnswerSeconds).toBeGreaterThanOrEqual(0);
    // Two agents logged in for the run, on a call only for the 4 instants above: near zero, not null.
    expect(agentsNow.occupancy).toBeGreaterThanOrEqual(0);
    expect(agentsNow.occupancy).toBeLessThan(0.5);
    expect(monitor.json().shortCalls.placed).toBe(14);

    const sse = await t.api('GET', `/v1/dialer/campaigns/${campaignId}/monitor/stream?maxEvents=1`);
    expect(sse.body).toMatch(/"agents":\{"byState":\{"offline":1,"available":2/);
  }, 120_000);
});
