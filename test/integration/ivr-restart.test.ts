import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { IvrFlowDefinitionInput } from '../../src/domain/dialer/ivr-flow';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { startCrashStack, type CrashStack } from '../helpers/crash-stack';
import { fastStrategy } from '../helpers/dialer';
import { expectNoOverlappingPlaybacks, ivrSimConfig } from '../helpers/ivr';
import { collectionsFlow } from '../fixtures/ivr/collections-flow';

/**
 * A worker SIGKILLed mid-flow, twice: the next worker takes the calls over (subscribing to their
 * channels' events), continues each flow from its last recorded node, and every path completes or
 * ends politely — no call is left up, no two playbacks ever overlap on a call, nobody is dialled twice.
 */

let c: CrashStack;

beforeAll(async () => {
  // Calls stay up (two minutes) until the flow or the customer hangs up; prompts take long enough to be killed in.
  c = await startCrashStack('ivr-restart', 'URA Reinicio', {
    ...ivrSimConfig(120_000),
    media: { soundMs: 700, numberMs: 500, digitMs: 50, recordingMs: 700 },
    keyDelayMs: [200, 600],
  });
});
afterAll(async () => {
  await c?.close();
});

/** Calls in a flow right now, and every call that entered one. */
const ivrCounts = () =>
  c.stack.database.db
    .selectFrom('ivr_calls')
    .select([sql<number>`count(*)::int`.as('all'), sql<number>`count(*) FILTER (WHERE ended_at IS NULL)::int`.as('open')])
    .executeTakeFirstOrThrow();

it('SIGKILLed twice mid-flow: every path completes or ends politely, no overlapping playbacks, no second originate', async () => {
  const { stack, sim, api, tenant } = c;
  const flow: IvrFlowDefinitionInput = { ...collectionsFlow, nodes: collectionsFlow.nodes.map((n) => (n.type === 'menu' ? { ...n, timeoutSec: 1 } : n)) };
  const flowId = (await api('POST', '/v1/dialer/ivr-flows', { name: 'Cobrança', definition: flow })).json().id;
  const strategy = (
    await api(
      'POST',
      '/v1/dialer/strategies',
      fastStrategy('URA', { answeredCall: { ivrFlowId: flowId }, maxAttemptsPerContact: 3, pacing: { channels: 8, callsPerSecond: 20 } }),
    )
  ).json();
  const db = stack.database.db;
  const group = await db
    .insertInto('contact_groups')
    .values({ tenant_id: tenant.tenantId, kind: 'dialer', name: 'Devedores', name_key: 'devedores', source: 'csv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const lasts = ['1', '2', '9', '0', '5', '7', '2', '1'];
  for (let i = 0; i < 40; i++) {
    const phone = `5511966${String(i).padStart(5, '0')}${lasts[i % lasts.length]}`;
    await db
      .insertInto('contacts')
      .values({ group_id: group.id, name: `Cliente ${i}`, phones: [phone], custom: JSON.stringify({ valor: '99,90' }) })
      .execute();
  }
  const campaignId = (await api('POST', '/v1/dialer/campaigns', { name: 'URA reinicio', groupId: group.id, strategyId: strategy.id })).json().id as string;

  const worker = await c.spawnWorker();
  expect((await api('POST', `/v1/dialer/campaigns/${campaignId}/start`)).statusCode).toBe(200);
  let seen = 0;
  const { seen: atKills } = await c.killRepeatedly(worker, 2, async () => {
    const now = await ivrCounts();
    if (now.all < seen + 6 || now.open < 3) return undefined;
    seen = now.all;
    return now;
  });
  const inFlowAtKill = atKills.map((k) => k.open);

  const result = await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(campaignId)).result();
  expect(result.status).toBe('completed');
  expect(inFlowAtKill.every((n) => n >= 3)).toBe(true);

  // No second originate: no channel id placed twice, no number dialled twice.
  const stats = sim.stats();
  expect(stats.reoriginated).toEqual([]);
  expect(Object.entries(stats.perNumber).filter(([, n]) => n !== 1)).toEqual([]);
  // Nothing left up: every call ended by its flow or its customer (they would stay two minutes).
  expect(stats.callsActive).toBe(0);
  expectNoOverlappingPlaybacks(sim);

  // Every path completes (hang-up node, transfer attempt) or ends politely; nothing is left open.
  const calls = await db.selectFrom('ivr_calls').select(['attempt_key', 'current_node', 'ended_at']).execute();
  expect(calls.length).toBeGreaterThanOrEqual(40);
  expect(calls.filter((c) => c.ended_at === null)).toEqual([]);
  const lastSteps = await sql<{ attempt_key: string; node: string; exit: string | null }>`
    SELECT DISTINCT ON (attempt_key) attempt_key, node, exit FROM ivr_path_steps ORDER BY attempt_key, seq DESC`.execute(db);
  const unfinished = lastSteps.rows.filter((s) => !['ended', 'hangup', 'transferred', 'no_agent'].includes(s.exit ?? ''));
  expect(unfinished).toEqual([]);
  // The campaign has no agents: the 1-pressers found nobody (exit no_agent) and went on to the flow's no-agent branch.
  const agentCalls = await db.selectFrom('ivr_path_steps').select(['attempt_key', 'exit']).where('node', '=', 'atendente').execute();
  expect(agentCalls.length).toBeGreaterThan(0);
  expect(agentCalls.every((s) => s.exit === 'no_agent' || s.exit === 'hangup')).toBe(true);
  const noAgent = agentCalls.filter((a) => a.exit === 'no_agent');
  for (const a of noAgent) expect(sim.playbacks(a.attempt_key).some((p) => p.media.includes('sound:obrigado'))).toBe(true);
  // The 9-pressers are opted out, whichever worker heard them.
  const optedOut = await db.selectFrom('ivr_calls').select('phone').where('opted_out', '=', true).execute();
  expect(optedOut.length).toBeGreaterThan(0);
  expect(optedOut.every((c) => c.phone.endsWith('9'))).toBe(true);
}, 240_000);
