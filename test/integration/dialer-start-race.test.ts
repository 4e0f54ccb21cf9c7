import { afterAll, beforeAll, expect, it } from 'vitest';
import { dialerStartScheduleId } from '../../src/domain/dialer/start-schedule';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { fastStrategy, importDialerGroup, outcomeRules, phoneOf } from '../helpers/dialer';
import { startDialerTestStack, type DialerTestStack } from '../helpers/dialer-stack';
import { waitFor } from '../helpers/worker-process';

/**
 * A start is accepted at once, but its cycle opens in an activity after it (startDialerCycle
 * builds the contact list). A supervisor who pauses in between and resumes must get a campaign
 * that dials, not one back to `scheduled`, waiting for a Schedule that has already fired.
 */
interface Gate {
  entered: Promise<void>;
  release(): void;
}
const gates = new Map<string, { enter(): void; opened: Promise<void> }>();
function holdCycleOf(campaignId: string): Gate {
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const opened = new Promise<void>((resolve) => (release = resolve));
  gates.set(campaignId, { enter, opened });
  return { entered, release };
}

let t: DialerTestStack;
beforeAll(async () => {
  t = await startDialerTestStack('dialer-start-race', { seed: 7, ringMs: [10, 30], talkMs: [10, 30], rules: outcomeRules }, (activities) => {
    const { startDialerCycle } = activities;
    return {
      ...activities,
      startDialerCycle: async (input: Parameters<typeof startDialerCycle>[0]) => {
        const gate = gates.get(input.campaignId);
        if (gate) {
          gate.enter();
          await gate.opened;
        }
        return startDialerCycle(input);
      },
    };
  });
});
afterAll(async () => t?.close());

const api = (method: 'GET' | 'POST', url: string, payload?: unknown) => t.api(method, url, payload);

async function createCampaign(name: string, extra: Record<string, unknown> = {}) {
  const groupId = await importDialerGroup(t.stack, t.tenant, name, [[phoneOf(1, 5)], [phoneOf(2, 5)]]);
  const strategy = (await api('POST', '/v1/dialer/strategies', fastStrategy(name, { maxAttemptsPerContact: 1 }))).json();
  const res = await api('POST', '/v1/dialer/campaigns', { name, groupId, strategyId: strategy.id, ...extra });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string };
}

async function pauseAndResumeBeforeTheCycleOpens(id: string, gate: Gate) {
  await gate.entered;
  expect((await api('POST', `/v1/dialer/campaigns/${id}/pause`)).json()).toMatchObject({ status: 'paused', pauseReason: 'manual' });
  expect((await api('POST', `/v1/dialer/campaigns/${id}/resume`)).json()).toMatchObject({ status: 'running' });
  gate.release();
  const result = await t.stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id)).result();
  expect(result).toMatchObject({ status: 'completed', cycle: 1, dialed: 2 });
}

it('a manual start paused and resumed before its cycle opens goes on dialling', async () => {
  const created = await createCampaign('Manual');
  const gate = holdCycleOf(created.id);
  expect((await api('POST', `/v1/dialer/campaigns/${created.id}/start`)).json()).toMatchObject({ status: 'running' });
  await pauseAndResumeBeforeTheCycleOpens(created.id, gate);
});

it("a start by the campaign's Schedule paused and resumed before its cycle opens goes on dialling", async () => {
  const startAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000).toISOString();
  const created = await createCampaign('Agendada', { startAt });
  const gate = holdCycleOf(created.id);
  await waitFor(async () => (await api('GET', `/v1/dialer/campaigns/${created.id}`)).json().nextRunAt === startAt, 'the start Schedule', 60_000);
  await t.stack.temporal.schedule.getHandle(dialerStartScheduleId(created.id)).trigger();
  await pauseAndResumeBeforeTheCycleOpens(created.id, gate);
});
