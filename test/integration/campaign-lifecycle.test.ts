import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { sendWorkflowId } from '../../src/workflows/broadcast/messages';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { actSignal } from '../../src/workflows/operations';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import {
  contactsCsv,
  createCampaign,
  createChannel,
  createGroup,
  mobile,
  reminderVariables,
  SECRETS_KEY,
  startBroadcastStack,
  syncTemplates,
  waitSendFinished,
} from '../helpers/broadcast';
import { fastStrategy, importDialerGroup, outcomeRules, phoneOf } from '../helpers/dialer';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/worker-process';

/** Campaign lifecycle (issue 11): an ended or draft campaign is archived or deleted, which frees its group. */
let wa: WhatsAppSimulator;
let ari: AriSimulator;
let stack: TestStack;
let worker: RunningWorker;
let tenant: TestTenant;
let channelId: string;
let strategyId: string;

beforeAll(async () => {
  let webhookUrl: (channelId: string) => string;
  ({
    sim: wa,
    stack,
    webhookUrl,
  } = await startBroadcastStack({ name: 'lifecycle', mps: 200, sim: { pairWindowMs: 0, webhook: { deliveredDelayMs: 20, readDelayMs: 40 } } }));
  ari = await startAriSimulator({ config: { seed: 11, ringMs: [20, 60], talkMs: [150, 250], rules: outcomeRules } });
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    dialer: { ari: { url: ari.url, username: 'omni', password: 'omni', app: 'lifecycle-it' }, tuning: { strategyEveryMs: 1000 } },
    broadcast: { graphUrl: wa.url, secretsKey: SECRETS_KEY },
  });
  tenant = await stack.createTenant('Ciclo de Vida');
  channelId = (await createChannel(stack, tenant, 80)).id;
  wa.configure({ webhook: { url: webhookUrl(channelId) } });
  await syncTemplates(stack, tenant, channelId);
  strategyId = (await api('POST', '/v1/dialer/strategies', fastStrategy('Ciclo', { pacing: { channels: 1, callsPerSecond: 100 } }))).json().id;
});
afterAll(async () => {
  await worker?.stop();
  await stack?.close();
  await ari?.stop();
  await wa?.stop();
});

function api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  return stack.app.inject({ method, url, headers: bearer(tenant.supervisorKey), ...(payload !== undefined ? { payload: payload as object } : {}) });
}
const workflowStatus = async (workflowId: string): Promise<string> => (await stack.temporal.workflow.getHandle(workflowId).describe()).status.name;
const listIds = async (url: string): Promise<string[]> => (await api('GET', url)).json().items.map((c: { id: string }) => c.id);
/** Whether the group takes an edit: its status changes (409 GROUP_LOCKED while linked). */
const groupEditable = async (groupId: string) => {
  const res = await api('PATCH', `/v1/contact-groups/${groupId}`, { status: 'inactive' });
  if (res.statusCode !== 200) return res.json().code as string;
  expect((await api('PATCH', `/v1/contact-groups/${groupId}`, { status: 'active' })).statusCode).toBe(200);
  return 'editable';
};
let dialerGroups = 0;
const dialerGroup = (contacts: number) =>
  importDialerGroup(
    stack,
    tenant,
    `Discador ${++dialerGroups}`,
    Array.from({ length: contacts }, (_, i) => [phoneOf(dialerGroups * 100 + i, 0)]),
  );
const createDialerCampaign = async (name: string, groupId: string, over: Record<string, unknown> = {}) => {
  const res = await api('POST', '/v1/dialer/campaigns', { name, groupId, strategyId, ...over });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
};
const campaign = async (id: string) => (await api('GET', `/v1/dialer/campaigns/${id}`)).json();

describe('dialer campaign lifecycle', () => {
  it('a completed campaign is archived: out of the list, its group editable, its attempts still in the calls report under its name', async () => {
    const groupId = await dialerGroup(3);
    const id = await createDialerCampaign('Arquivar concluída', groupId);
    expect((await api('POST', `/v1/dialer/campaigns/${id}/start`)).statusCode).toBe(200);
    await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id)).result();
    expect(await campaign(id)).toMatchObject({ status: 'completed', archivedAt: null });
    expect(await groupEditable(groupId)).toBe('GROUP_LOCKED');

    const archived = await api('POST', `/v1/dialer/campaigns/${id}/archive`);
    expect(archived.statusCode).toBe(200);
    expect(archived.json()).toMatchObject({ id, status: 'completed', archivedAt: expect.any(String) });
    expect(await groupEditable(groupId)).toBe('editable');
    expect((await api('GET', `/v1/contact-groups/${groupId}`)).json()).toMatchObject({ campaign: null, locked: false });
    // Hidden from the list unless asked for.
    expect(await listIds('/v1/dialer/campaigns?limit=100')).not.toContain(id);
    expect(await listIds('/v1/dialer/campaigns?limit=100&archived=true')).toEqual([id]);
    // Archiving again answers it again.
    expect((await api('POST', `/v1/dialer/campaigns/${id}/archive`)).json()).toMatchObject({ id, archivedAt: archived.json().archivedAt });

    const attempts = await stack.database.db.selectFrom('dial_attempts').select('id').where('campaign_id', '=', id).execute();
    expect(attempts).toHaveLength(3);
    const report = await api('GET', `/v1/dialer/reports/calls?campaignId=${id}`);
    const [header, ...lines] = report.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n')
      .map((l) => l.split(';'));
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l[header.indexOf('campanha')])).toEqual(['Arquivar concluída', 'Arquivar concluída', 'Arquivar concluída']);
    // A new campaign may take the freed group.
    const next = await createDialerCampaign('Nova no mesmo grupo', groupId);
    expect(await groupEditable(groupId)).toBe('GROUP_LOCKED');
    expect((await api('DELETE', `/v1/dialer/campaigns/${next}`)).statusCode).toBe(204);
  });

  it('a draft is deleted outright: its workflow ends, it is gone, its group editable', async () => {
    const groupId = await dialerGroup(2);
    const id = await createDialerCampaign('Rascunho', groupId);
    expect(await workflowStatus(dialerCampaignWorkflowId(id))).toBe('RUNNING');
    expect(await groupEditable(groupId)).toBe('GROUP_LOCKED');
    const res = await api('DELETE', `/v1/dialer/campaigns/${id}`);
    expect(res.statusCode).toBe(204);
    expect((await api('GET', `/v1/dialer/campaigns/${id}`)).statusCode).toBe(404);
    expect(await workflowStatus(dialerCampaignWorkflowId(id))).toBe('COMPLETED');
    expect(await groupEditable(groupId)).toBe('editable');
    expect(await listIds('/v1/dialer/campaigns?limit=100&archived=true')).not.toContain(id);
  });

  it('deleting a campaign that placed calls archives it instead (200), so its attempts keep its name', async () => {
    const groupId = await dialerGroup(2);
    const id = await createDialerCampaign('Excluir com chamadas', groupId);
    await api('POST', `/v1/dialer/campaigns/${id}/start`);
    await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id)).result();
    const res = await api('DELETE', `/v1/dialer/campaigns/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: 'completed', archivedAt: expect.any(String) });
    expect((await api('GET', `/v1/dialer/campaigns/${id}`)).statusCode).toBe(200);
    expect(await stack.database.db.selectFrom('dial_attempts').select('id').where('campaign_id', '=', id).execute()).toHaveLength(2);
    expect(await groupEditable(groupId)).toBe('editable');
  });

  it('a running, paused or scheduled campaign answers 409 CAMPAIGN_IN_PROGRESS and keeps its group; stopped, it may go', async () => {
    const groupId = await dialerGroup(40);
    const id = await createDialerCampaign('Em andamento', groupId);
    expect((await api('POST', `/v1/dialer/campaigns/${id}/start`)).json()).toMatchObject({ status: 'running' });
    for (const res of [await api('POST', `/v1/dialer/campaigns/${id}/archive`), await api('DELETE', `/v1/dialer/campaigns/${id}`)]) {
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'CAMPAIGN_IN_PROGRESS' });
    }
    expect((await api('POST', `/v1/dialer/campaigns/${id}/pause`)).json()).toMatchObject({ status: 'paused' });
    expect((await api('POST', `/v1/dialer/campaigns/${id}/archive`)).json()).toMatchObject({ code: 'CAMPAIGN_IN_PROGRESS' });
    expect(await campaign(id)).toMatchObject({ status: 'paused', archivedAt: null });
    expect(await groupEditable(groupId)).toBe('GROUP_LOCKED');
    expect((await api('POST', `/v1/dialer/campaigns/${id}/stop`)).statusCode).toBe(200);
    expect((await api('POST', `/v1/dialer/campaigns/${id}/archive`)).json()).toMatchObject({ status: 'stopped', archivedAt: expect.any(String) });
    expect(await workflowStatus(dialerCampaignWorkflowId(id))).toBe('COMPLETED');

    const scheduledGroup = await dialerGroup(1);
    const scheduled = await createDialerCampaign('Agendada', scheduledGroup, { startAt: new Date(Date.now() + 3600_000).toISOString() });
    const refused = await api('DELETE', `/v1/dialer/campaigns/${scheduled}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'CAMPAIGN_IN_PROGRESS' });
    // Stopped, its start Schedule is gone with it.
    await api('POST', `/v1/dialer/campaigns/${scheduled}/stop`);
    expect((await api('DELETE', `/v1/dialer/campaigns/${scheduled}`)).statusCode).toBe(204);
    await expect(stack.temporal.schedule.getHandle(`dialer-start-${scheduled}`).describe()).rejects.toThrow();
    expect(await groupEditable(scheduledGroup)).toBe('editable');
  });
});

describe('a dialer campaign paused on an inactive group', () => {
  it('pauses again (group_inactive) when resumed, by the API or by signal, while its group is still inactive', async () => {
    const groupId = await dialerGroup(1);
    const id = await createDialerCampaign('Grupo inativo', groupId);
    // Behind the API's back (the API refuses it on a linked group): the start checks the group.
    await stack.database.db.updateTable('contact_groups').set({ status: 'inactive' }).where('id', '=', groupId).execute();
    expect((await api('POST', `/v1/dialer/campaigns/${id}/start`)).statusCode).toBe(200);
    const autoPauses = async () =>
      (await stack.database.db.selectFrom('audit_log').select('id').where('target_id', '=', id).where('action', '=', 'dialer_campaign.auto_pause').execute())
        .length;
    await waitFor(async () => (await autoPauses()) === 1, 'the first auto-pause', 20_000);
    expect(await campaign(id)).toMatchObject({ status: 'paused', pauseReason: 'group_inactive' });

    expect((await api('POST', `/v1/dialer/campaigns/${id}/resume`)).statusCode).toBe(200);
    await waitFor(async () => (await autoPauses()) === 2, 'the auto-pause after the API resume', 20_000);
    expect(await campaign(id)).toMatchObject({ status: 'paused', pauseReason: 'group_inactive' });

    await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id)).signal(actSignal('resume'), { by: 'plantão' });
    await waitFor(async () => (await autoPauses()) === 3, 'the auto-pause after the signalled resume', 20_000);
    expect(await campaign(id)).toMatchObject({ status: 'paused', pauseReason: 'group_inactive' });

    // Active again: a resume dials.
    await stack.database.db.updateTable('contact_groups').set({ status: 'active' }).where('id', '=', groupId).execute();
    expect((await api('POST', `/v1/dialer/campaigns/${id}/resume`)).statusCode).toBe(200);
    expect((await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(id)).result()).status).toBe('completed');
    expect(await stack.database.db.selectFrom('dial_attempts').select('id').where('campaign_id', '=', id).execute()).toHaveLength(1);
  });
});

describe('broadcast campaign lifecycle', () => {
  let groups = 0;
  const broadcastGroup = (n: number) =>
    createGroup(
      stack,
      tenant,
      `Broadcast ${++groups}`,
      contactsCsv(n, (i) => mobile(groups * 100 + i)),
    );
  const newSend = async (campaignId: string, groupId: string, over: { startAt?: string; paceMps?: number } = {}) => {
    const res = await api('POST', `/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      ...over,
    });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };

  it('archiving frees the groups of every send once all are over; a send not over answers 409; reports stay', async () => {
    const campaignId = await createCampaign(stack, tenant, channelId, 'Arquivar broadcast');
    const doneGroup = await broadcastGroup(3);
    const waitingGroup = await broadcastGroup(2);
    const done = await newSend(campaignId, doneGroup);
    await waitSendFinished(stack, done);
    const waiting = await newSend(campaignId, waitingGroup, { startAt: new Date(Date.now() + 3600_000).toISOString() });

    for (const res of [await api('POST', `/v1/broadcast/campaigns/${campaignId}/archive`), await api('DELETE', `/v1/broadcast/campaigns/${campaignId}`)]) {
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'CAMPAIGN_IN_PROGRESS', sends: [waiting] });
    }
    expect(await groupEditable(doneGroup)).toBe('GROUP_LOCKED');

    expect((await api('POST', `/v1/broadcast/sends/${waiting}/stop`)).statusCode).toBe(200);
    await waitSendFinished(stack, waiting);
    const archived = await api('POST', `/v1/broadcast/campaigns/${campaignId}/archive`);
    expect(archived.statusCode).toBe(200);
    expect(archived.json()).toMatchObject({ id: campaignId, archivedAt: expect.any(String) });
    expect(await groupEditable(doneGroup)).toBe('editable');
    expect(await groupEditable(waitingGroup)).toBe('editable');
    expect(await workflowStatus(sendWorkflowId(done))).toBe('COMPLETED');
    expect(await workflowStatus(sendWorkflowId(waiting))).toBe('COMPLETED');

    expect(await listIds('/v1/broadcast/campaigns?limit=100')).not.toContain(campaignId);
    expect(await listIds('/v1/broadcast/campaigns?limit=100&archived=true')).toContain(campaignId);
    const report = await api('GET', `/v1/broadcast/sends/${done}/reports/detalhado.csv`);
    expect(report.statusCode).toBe(200);
    expect(
      report.body
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\r\n'),
    ).toHaveLength(4);
    const consolidated = await api('GET', `/v1/broadcast/campaigns/${campaignId}/reports/consolidado.csv`);
    expect(consolidated.statusCode).toBe(200);
    expect(consolidated.body).toContain('Arquivar broadcast');
    // An archived campaign takes no new send.
    const refused = await api('POST', `/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId: doneGroup,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'CAMPAIGN_ARCHIVED' });
    // Deleting it now (it has sends) keeps it archived.
    expect((await api('DELETE', `/v1/broadcast/campaigns/${campaignId}`)).statusCode).toBe(200);
  });

  it('a running send answers 409; a campaign with no send is deleted outright', async () => {
    const campaignId = await createCampaign(stack, tenant, channelId, 'Envio em andamento');
    const groupId = await broadcastGroup(8);
    // One message a second: still running when asked.
    const sendId = await newSend(campaignId, groupId, { paceMps: 1 });
    expect((await api('GET', `/v1/broadcast/sends/${sendId}`)).json()).toMatchObject({ status: 'running' });
    const res = await api('DELETE', `/v1/broadcast/campaigns/${campaignId}`);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'CAMPAIGN_IN_PROGRESS', sends: [sendId] });
    expect(await groupEditable(groupId)).toBe('GROUP_LOCKED');
    expect((await api('POST', `/v1/broadcast/sends/${sendId}/stop`)).json()).toMatchObject({ status: 'stopped' });
    // Archived right after the stop: the send's workflow has closed by the answer.
    expect((await api('POST', `/v1/broadcast/campaigns/${campaignId}/archive`)).statusCode).toBe(200);
    expect(await workflowStatus(sendWorkflowId(sendId))).toBe('COMPLETED');
    expect(await groupEditable(groupId)).toBe('editable');

    const empty = await createCampaign(stack, tenant, channelId, 'Sem envios');
    expect((await api('DELETE', `/v1/broadcast/campaigns/${empty}`)).statusCode).toBe(204);
    expect((await api('GET', `/v1/broadcast/campaigns/${empty}`)).statusCode).toBe(404);
  });
});
