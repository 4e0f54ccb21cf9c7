import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { fastStrategy, importDialerGroup, phoneOf } from '../helpers/dialer';
import { startDialerTestStack, type DialerTestStack } from '../helpers/dialer-stack';
import { waitFor } from '../helpers/worker-process';

let t: DialerTestStack;

beforeAll(async () => {
  // Every call answers; by last digit, 7: always a machine, 8: always a person, others: a machine.
  // AMD decides in milliseconds, long before a call would end by itself (3 s), however loaded the
  // machine: a call that hung up during AMD would rightly have no AMDSTATUS. The worker keeps the
  // lane's default strategy re-read interval: what production runs with.
  t = await startDialerTestStack('dialer-strategy', {
    seed: 5,
    ringMs: [10, 30],
    talkMs: [3_000, 3_000],
    amdMs: [10, 20],
    rules: [
      { match: '7$', mix: [{ outcome: 'answered', weight: 1 }], machineShare: 1 },
      { match: '8$', mix: [{ outcome: 'answered', weight: 1 }], machineShare: 0 },
      { match: '.', mix: [{ outcome: 'answered', weight: 1 }], machineShare: 1 },
    ],
  });
});
afterAll(async () => t?.close());

async function runCampaign(name: string, phones: string[][], strategyId: string) {
  const groupId = await importDialerGroup(t.stack, t.tenant, name, phones);
  const created = (await t.api('POST', '/v1/dialer/campaigns', { name, groupId, strategyId })).json();
  expect((await t.api('POST', `/v1/dialer/campaigns/${created.id}/start`)).json().status).toBe('running');
  return created.id as string;
}

const attemptsOf = (campaignId: string) =>
  t.stack.database.db
    .selectFrom('dial_attempts')
    .select(['phone', 'outcome', 'amd_status', 'strategy_version', 'started_at', 'cycle'])
    .where('campaign_id', '=', campaignId)
    .orderBy('started_at')
    .orderBy('id')
    .execute();

describe('answering-machine detection', () => {
  it("when the strategy asks for it, machines end as answering_machine (hung up at once) and the strategy's retry applies", async () => {
    const strategy = (
      await t.api(
        'POST',
        '/v1/dialer/strategies',
        fastStrategy('AMD', { answeringMachineDetection: true, outcomes: { answering_machine: { action: 'retry', afterMinutes: 0 } } }),
      )
    ).json();
    const machines = [phoneOf(1, 7), phoneOf(2, 7)];
    const people = [phoneOf(3, 8), phoneOf(4, 8)];
    const id = await runCampaign(
      'Secretárias',
      [...machines, ...people].map((p) => [p]),
      strategy.id,
    );
    expect((await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id)).result()).status).toBe('completed');

    const attempts = await attemptsOf(id);
    for (const phone of machines) {
      // Two attempts (maxAttemptsPerContact), both machines, then exhausted.
      expect(attempts.filter((a) => a.phone === phone).map((a) => [a.outcome, a.amd_status])).toEqual([
        ['answering_machine', 'MACHINE'],
        ['answering_machine', 'MACHINE'],
      ]);
    }
    for (const phone of people) expect(attempts.filter((a) => a.phone === phone).map((a) => [a.outcome, a.amd_status])).toEqual([['answered', 'HUMAN']]);
    const contacts = await t.stack.database.db
      .selectFrom('dialer_contacts')
      .select(['phones', 'state', 'final_outcome'])
      .where('campaign_id', '=', id)
      .execute();
    expect(Object.fromEntries(contacts.map((c) => [c.phones[0], `${c.state}:${c.final_outcome}`]))).toEqual({
      [machines[0]]: 'exhausted:answering_machine',
      [machines[1]]: 'exhausted:answering_machine',
      [people[0]]: 'done:answered',
      [people[1]]: 'done:answered',
    });
    // The dialer hung up every machine itself instead of letting it talk.
    expect(t.sim.stats().hangupsRequested).toBe(4);
  });
});

describe('editing a strategy used by a running campaign', () => {
  it('takes effect in that campaign within a minute, and every attempt records the version that produced it', async () => {
    // Version 1: one call a second, no AMD (a machine is just "answered").
    const v1 = fastStrategy('Ao vivo', { pacing: { channels: 1, callsPerSecond: 1 }, maxAttemptsPerContact: 1 });
    const strategy = (await t.api('POST', '/v1/dialer/strategies', v1)).json();
    const phones = Array.from({ length: 30 }, (_, i) => [phoneOf(100 + i, 9)]);
    const id = await runCampaign('Ao vivo', phones, strategy.id);
    await waitFor(async () => (await attemptsOf(id)).length > 0, 'the first attempt', 60_000);

    // Version 2: AMD on (machines finish the contact) and a faster pace.
    const editedAt = Date.now();
    const v2 = {
      ...v1,
      config: {
        ...v1.config,
        pacing: { channels: 1, callsPerSecond: 50 },
        answeringMachineDetection: true,
        outcomes: { ...v1.config.outcomes, answering_machine: { action: 'finish' } },
      },
    };
    expect((await t.api('PUT', `/v1/dialer/strategies/${strategy.id}`, v2)).json().version).toBe(2);
    expect((await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id)).result()).status).toBe('completed');

    const attempts = await attemptsOf(id);
    expect(attempts).toHaveLength(30);
    const versions = attempts.map((a) => a.strategy_version);
    // Version 1 until the lane re-read the strategy, version 2 ever after.
    expect(versions).toEqual([...versions].sort());
    expect(versions).toContain(1);
    const firstV2 = attempts.find((a) => a.strategy_version === 2);
    expect(firstV2).toBeDefined();
    expect(new Date(firstV2!.started_at).getTime() - editedAt).toBeLessThan(60_000);
    // Each attempt did what its own version says.
    for (const a of attempts) {
      expect([a.strategy_version, a.outcome, a.amd_status]).toEqual(a.strategy_version === 1 ? [1, 'answered', null] : [2, 'answering_machine', 'MACHINE']);
    }
    // The calls report carries the version of each attempt too.
    const report = await t.api('GET', `/v1/dialer/reports/calls?campaignId=${id}`);
    const [header, ...lines] = report.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n')
      .map((l) => l.split(';'));
    const column = (name: string) => lines.map((l) => l[header.indexOf(name)]).sort();
    expect(column('versao_estrategia')).toEqual(versions.map(String).sort());
    expect(column('amd')).toEqual(attempts.map((a) => a.amd_status ?? '').sort());
  });
});
