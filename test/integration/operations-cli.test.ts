import { afterAll, beforeAll, expect, it } from 'vitest';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { exportWorkflowId } from '../../src/workflows/exports/messages';
import { importWorkflowId } from '../../src/workflows/imports/messages';
import { sendWorkflowId } from '../../src/workflows/broadcast/messages';
import {
  createDialerCampaign,
  createScheduledSend,
  startExport,
  startImport,
  startJobStack,
  startWebhookApplier,
  temporal,
  type JobStack,
} from '../helpers/jobs';
import { waitFor } from '../helpers/worker-process';

// The README's operations runbook, command by command, on a real workflow of every kind: the
// same names (`start`, `pause`, `resume`, `stop`, `cancel`) as Updates and as signals, and the
// Query `progress`. An Update and a signal of one name live side by side on each workflow.

let t: JobStack;

beforeAll(async () => {
  t = await startJobStack('operations-cli');
});
afterAll(async () => t?.close());

const progress = async (workflowId: string) => {
  const res = await temporal(['workflow', 'query', '--workflow-id', workflowId, '--name', 'progress', '--output', 'json']);
  expect(res.code, res.stderr).toBe(0);
  const parsed = res.json();
  return (parsed.queryResult ?? parsed)[0];
};
const update = (workflowId: string, name: string, by = 'ops-ana') =>
  temporal(['workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', name, '--input', JSON.stringify({ by }), '--output', 'json']);
const signal = async (workflowId: string, name: string, by = 'ops-ana') => {
  const res = await temporal(['workflow', 'signal', '--workflow-id', workflowId, '--name', name, '--input', JSON.stringify({ by })]);
  expect(res.code, res.stderr).toBe(0);
};
/** `workflow list --query`, polled: visibility is eventually consistent. */
const listed = (query: string, expected: string) =>
  waitFor(
    async () => {
      const res = await temporal(['workflow', 'list', '--query', query, '--output', 'json']);
      expect(res.code, res.stderr).toBe(0);
      const ids = (res.stdout.trim() ? (res.json() as { execution: { workflowId: string } }[]) : []).map((w) => w.execution.workflowId);
      return ids.includes(expected) ? ids : undefined;
    },
    `${expected} listed by ${query}`,
    20_000,
    250,
  );
const describeStatus = async (workflowId: string) => {
  const res = await temporal(['workflow', 'describe', '--workflow-id', workflowId, '--output', 'json']);
  expect(res.code, res.stderr).toBe(0);
  return res.json().workflowExecutionInfo.status as string;
};

it('finds, inspects and cancels an import and an export; refuses a pause to an import', async () => {
  // Started while no worker runs: they wait, and what operations send them is there for their first task.
  const importId = await startImport(t, 'Operações importação');
  const exportId = await startExport(t);
  const imp = importWorkflowId(importId);
  const exp = exportWorkflowId(exportId);
  await listed(`TenantId="${t.tenant.tenantId}" AND JobKind="import" AND ExecutionStatus="Running"`, imp);
  await listed(`JobKind="export" AND ExecutionStatus="Running"`, exp);
  expect(await describeStatus(imp)).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');

  await signal(imp, 'cancel');
  const pauseImport = update(imp, 'pause');
  const cancelExport = update(exp, 'cancel');
  await t.startWorker();

  const refused = await pauseImport;
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('An import has no pause; cancel it to end it early.');
  const cancelled = await cancelExport;
  expect(cancelled.code, cancelled.stderr).toBe(0);
  expect(cancelled.stdout).toContain('"state": "cancelled"');
  expect(cancelled.stdout).toContain('"cancelledBy": "ops-ana"');

  await waitFor(async () => (await describeStatus(imp)) === 'WORKFLOW_EXECUTION_STATUS_COMPLETED', 'the import to end', 30_000, 200);
  expect(await progress(imp)).toMatchObject({ importId, state: 'cancelled' });
  expect((await t.api('GET', `/v1/imports/${importId}`)).json()).toMatchObject({ status: 'cancelled' });
  expect((await t.api('GET', `/v1/exports/${exportId}`)).json()).toMatchObject({ status: 'cancelled' });
  // A finished job refuses with its own code.
  const again = await update(exp, 'cancel');
  expect(again.code).not.toBe(0);
});

it('starts, pauses, resumes and stops a dialer campaign by Update and by signal', async () => {
  await t.startWorker();
  const campaignId = await createDialerCampaign(t, 'Operações discador');
  const wf = dialerCampaignWorkflowId(campaignId);
  await listed(`CampaignId="${campaignId}" AND CampaignKind="dialer" AND CampaignStatus="draft"`, wf);
  expect(await progress(wf)).toMatchObject({ campaignId, status: 'draft' });

  const started = await update(wf, 'start');
  expect(started.code, started.stderr).toBe(0);
  expect(started.stdout).toContain('"status": "running"');
  await waitFor(async () => t.ari.stats().originatesAccepted > 0 || undefined, 'calls placed', 30_000, 100);
  await listed(`CampaignId="${campaignId}" AND CampaignStatus="running"`, wf);

  await signal(wf, 'pause');
  await waitFor(async () => (await progress(wf)).status === 'paused', 'the campaign paused by signal', 20_000, 200);
  expect((await t.api('GET', `/v1/dialer/campaigns/${campaignId}`)).json()).toMatchObject({ status: 'paused' });
  // Paused: `pause` again is refused with the campaign's own code.
  const twice = await update(wf, 'pause');
  expect(twice.code).not.toBe(0);
  expect(twice.stderr).toContain('Only a running or scheduled campaign can be paused');

  const resumed = await update(wf, 'resume');
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stdout).toContain('"status": "running"');

  // `cancel` is `stop` on a campaign.
  await signal(wf, 'cancel');
  await waitFor(async () => (await describeStatus(wf)) === 'WORKFLOW_EXECUTION_STATUS_COMPLETED', 'the campaign to end', 60_000, 200);
  expect(await progress(wf)).toMatchObject({ status: 'stopped' });
  expect((await t.api('GET', `/v1/dialer/campaigns/${campaignId}`)).json()).toMatchObject({ status: 'stopped' });
});

it('pauses, resumes, starts and stops a broadcast send by the same names', async () => {
  await t.startWorker();
  const sendId = await createScheduledSend(t, 'Operações envio');
  const wf = sendWorkflowId(sendId);
  await listed(`CampaignKind="broadcast" AND JobKind="broadcast-send"`, wf);
  expect(await progress(wf)).toMatchObject({ sendId, state: 'scheduled' });

  await signal(wf, 'pause');
  await waitFor(async () => (await progress(wf)).state === 'paused', 'the send paused by signal', 20_000, 200);
  await waitFor(async () => (await t.api('GET', `/v1/broadcast/sends/${sendId}`)).json().status === 'paused', 'the paused send stored', 20_000, 200);

  const resumed = await update(wf, 'resume');
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stdout).toContain('"state": "scheduled"');

  const stopped = await update(wf, 'stop');
  expect(stopped.code, stopped.stderr).toBe(0);
  expect(stopped.stdout).toContain('"state": "stopped"');
  await waitFor(async () => (await describeStatus(wf)) === 'WORKFLOW_EXECUTION_STATUS_COMPLETED', 'the send to end', 30_000, 200);
  expect((await t.api('GET', `/v1/broadcast/sends/${sendId}`)).json()).toMatchObject({ status: 'stopped' });
  const late = await update(wf, 'start');
  expect(late.code).not.toBe(0);
});

it('pauses and resumes the webhook applier, which has no stop', async () => {
  await t.startWorker();
  const wf = await startWebhookApplier(t);
  try {
    await listed(`JobKind="webhook-applier"`, wf);
    const paused = await update(wf, 'pause');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain('"state": "paused"');
    // Paused: the slice in flight ends and no other begins.
    const idle = await waitFor(
      async () => {
        const p = await progress(wf);
        return p.applying === false ? p : undefined;
      },
      'the slice in flight to end',
      20_000,
      200,
    );
    expect(idle).toMatchObject({ state: 'paused', pausedBy: 'ops-ana' });
    const stop = await update(wf, 'stop');
    expect(stop.code).not.toBe(0);
    expect(stop.stderr).toContain('pause it instead');

    await signal(wf, 'resume');
    await waitFor(async () => (await progress(wf)).slices > idle.slices, 'a slice after resume', 20_000, 200);
    expect(await progress(wf)).toMatchObject({ state: 'running', pausedBy: null });
  } finally {
    await t.stack.temporal.workflow.getHandle(wf).terminate('test over');
  }
});
