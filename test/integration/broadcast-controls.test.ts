import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/integrations/whatsapp/webhook';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
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
  SIM_SECRET,
  startBroadcastStack,
  syncTemplates,
  waitAllFinal,
  waitSendFinished,
  WABA_ID,
} from '../helpers/broadcast';
import { fastStrategy, importDialerGroup, phoneOf } from '../helpers/dialer';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/worker-process';

/** Controls that do what they say (issue 11): wake-ups, compensated starts, schedulable times. */
let sim: WhatsAppSimulator;
let stack: TestStack;
let worker: RunningWorker;
let tenant: TestTenant;
let channel: Awaited<ReturnType<typeof createChannel>>;
let campaignId: string;

beforeAll(async () => {
  let webhookUrl: (channelId: string) => string;
  ({ sim, stack, webhookUrl } = await startBroadcastStack({
    name: 'controls',
    mps: 200,
    sim: { pairWindowMs: 0, webhook: { deliveredDelayMs: 20, readDelayMs: 40 } },
    env: { BROADCAST_UNKNOWN_AFTER_MS: '3000' },
  }));
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    broadcast: { graphUrl: sim.url, secretsKey: SECRETS_KEY },
  });
  tenant = await stack.createTenant('Controles');
  channel = await createChannel(stack, tenant, 80);
  sim.configure({ webhook: { url: webhookUrl(channel.id) } });
  await syncTemplates(stack, tenant, channel.id);
  campaignId = await createCampaign(stack, tenant, channel.id, 'Controles');
});
afterAll(async () => {
  await worker?.stop();
  await stack?.close();
  await sim?.stop();
});

const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: bearer(tenant.viewerKey) });
const post = (url: string, payload?: unknown) => stack.app.inject({ method: 'POST', url, headers: bearer(tenant.supervisorKey), payload: payload as never });
const patch = (url: string, payload: unknown) => stack.app.inject({ method: 'PATCH', url, headers: bearer(tenant.supervisorKey), payload: payload as never });
let groups = 0;
const auditOf = async (targetId: string): Promise<{ action: string; actorKind: string; summary: string; details: Record<string, unknown> }[]> =>
  (await stack.app.inject({ method: 'GET', url: `/v1/audit-log?targetId=${targetId}&limit=100`, headers: bearer(tenant.adminKey) })).json().items;
const newGroup = (n: number, from: number) =>
  createGroup(
    stack,
    tenant,
    `Controles ${++groups}`,
    contactsCsv(n, (i) => mobile(from + i)),
  );

describe('a change that can free a waiting send wakes it', () => {
  it('a higher messaging tier frees a send waiting on the limit at once, not when its 24 h window ends', async () => {
    const db = stack.database.db;
    await patch(`/v1/whatsapp/channels/${channel.id}`, { messagingLimitTier: 'TIER_250' });
    // 248 users today, whose windows end in 20 hours.
    const windowStart = new Date(Date.now() - 4 * 3600_000);
    await db
      .insertInto('whatsapp_limit_users')
      .values(Array.from({ length: 248 }, (_, i) => ({ channel_id: channel.id, user_key: `hoje-${i}`, window_start: windowStart, counted: true })))
      .execute();
    await db
      .insertInto('whatsapp_limit_usage')
      .values({ channel_id: channel.id, used: 248 })
      .onConflict((oc) => oc.column('channel_id').doUpdateSet({ used: 248 }))
      .execute();
    const N = 10;
    const groupId = await newGroup(N, 7000);
    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, { groupId, template: { name: 'lembrete_pagamento' }, variables: reminderVariables });
    expect(res.statusCode).toBe(201);
    const sendId = res.json().id;
    await waitFor(async () => (await get(`/v1/broadcast/sends/${sendId}`)).json().status === 'waiting', 'the send to wait for capacity', 15_000, 100);
    const waiting = (await get(`/v1/broadcast/sends/${sendId}`)).json();
    expect(waiting.statusReason).toBe('waiting_messaging_limit');
    expect(Date.parse(waiting.statusUntil)).toBeGreaterThan(Date.now() + 19 * 3600_000);

    const upgraded = await patch(`/v1/whatsapp/channels/${channel.id}`, { messagingLimitTier: 'TIER_2K' });
    expect(upgraded.statusCode).toBe(200);
    const t0 = Date.now();
    await waitFor(async () => (await get(`/v1/broadcast/sends/${sendId}`)).json().status === 'completed', 'the woken send to complete', 20_000, 100);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect((await waitSendFinished(stack, sendId)).state).toBe('completed');
    await sim.webhooksIdle();
    await waitAllFinal(stack, sendId, 20_000);
    const sent = await db.selectFrom('broadcast_messages').select('state').where('send_id', '=', sendId).where('state', '=', 'read').execute();
    expect(sent).toHaveLength(N);
    await patch(`/v1/whatsapp/channels/${channel.id}`, { messagingLimitTier: 'TIER_UNLIMITED' });
  });
});

describe('a failed workflow start leaves nothing half-alive', () => {
  it('a broadcast send: 503 JOB_NOT_STARTED, no send row, the group free again; an export ends failed', async () => {
    const groupId = await newGroup(2, 7100);
    const db = stack.database.db;
    const start = stack.temporal.workflow.start;
    stack.temporal.workflow.start = (async () => {
      throw new Error('Temporal indisponível');
    }) as typeof start;
    try {
      const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
        groupId,
        template: { name: 'lembrete_pagamento' },
        variables: reminderVariables,
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'JOB_NOT_STARTED' });
      expect(await db.selectFrom('broadcast_sends').select('id').where('group_id', '=', groupId).execute()).toEqual([]);
      expect((await get(`/v1/contact-groups/${groupId}`)).json()).toMatchObject({ campaign: null, locked: false });

      const exp = await post('/v1/exports/activity-report', { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' });
      expect(exp.statusCode).toBe(503);
      const rows = await db.selectFrom('exports').select(['status', 'error']).where('tenant_id', '=', tenant.tenantId).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'failed' });
      expect(rows[0].error).toMatch(/could not be started/);
    } finally {
      stack.temporal.workflow.start = start;
    }
    // The group can be used again at once.
    const again = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
    });
    expect(again.statusCode).toBe(201);
    expect((await waitSendFinished(stack, again.json().id)).state).toBe('completed');
    const audit = (await stack.app.inject({ method: 'GET', url: '/v1/audit-log?limit=100', headers: bearer(tenant.adminKey) })).json();
    expect(audit.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['broadcast_send.start_failed', 'export.start_failed']));
  });
});

describe('times Temporal cannot act at are refused at the API', () => {
  it('startAt after 2100: 422 SCHEDULE_TIME_OUT_OF_RANGE for a send, its edit and a dialer campaign; nothing is created', async () => {
    const groupId = await newGroup(1, 7200);
    const late = '2101-01-01T00:00:00Z';
    const send = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      startAt: late,
    });
    expect(send.statusCode).toBe(422);
    expect(send.json()).toMatchObject({ code: 'SCHEDULE_TIME_OUT_OF_RANGE', field: 'startAt' });
    expect((await get(`/v1/contact-groups/${groupId}`)).json()).toMatchObject({ campaign: null, locked: false });

    const scheduled = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      startAt: '2100-06-01T12:00:00Z',
    });
    expect(scheduled.statusCode).toBe(201);
    expect(scheduled.json()).toMatchObject({ status: 'scheduled' });
    const edit = await patch(`/v1/broadcast/sends/${scheduled.json().id}`, { startAt: late });
    expect(edit.json()).toMatchObject({ status: 422, code: 'SCHEDULE_TIME_OUT_OF_RANGE' });
    await post(`/v1/broadcast/sends/${scheduled.json().id}/stop`);

    const dialer = await post('/v1/dialer/campaigns', { name: 'Longe demais', groupId, strategyId: groupId, startAt: late });
    expect(dialer.statusCode).toBe(422);
    expect(dialer.json()).toMatchObject({ code: 'SCHEDULE_TIME_OUT_OF_RANGE', field: 'startAt' });
    const endLate = await post('/v1/dialer/campaigns', { name: 'Fim longe demais', groupId, strategyId: groupId, endAt: '2150-01-01T00:00:00Z' });
    expect(endLate.json()).toMatchObject({ code: 'SCHEDULE_TIME_OUT_OF_RANGE', field: 'endAt' });
  });

  it('the schedule activity: the last year Temporal takes is created; a refused spec is a non-retryable failure', async () => {
    const { syncStartSchedule } = await import('../../src/activities/dialer/start-schedule');
    const { ApplicationFailure } = await import('@temporalio/common');
    const id = crypto.randomUUID();
    const ok = await syncStartSchedule(stack.temporal, stack.config.TEMPORAL_TASK_QUEUE, { campaignId: id, startAt: '2100-12-31T12:00:00Z', state: 'active' });
    expect(ok.nextRunAt).toBe('2100-12-31T12:00:00.000Z');
    await syncStartSchedule(stack.temporal, stack.config.TEMPORAL_TASK_QUEUE, { campaignId: id, startAt: '2100-12-31T12:00:00Z', state: 'deleted' });
    const refused = await syncStartSchedule(stack.temporal, stack.config.TEMPORAL_TASK_QUEUE, {
      campaignId: crypto.randomUUID(),
      startAt: '2101-03-01T12:00:00Z',
      state: 'active',
    }).catch((e) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ nonRetryable: true, type: 'SCHEDULE_REFUSED' });
  });
});

describe('the group lock: one rule, checked again when a campaign starts', () => {
  it('a linked group answers 409 GROUP_LOCKED to PATCH {status} and in batch-status; a free one changes', async () => {
    const linked = await newGroup(1, 7300);
    const free = await newGroup(1, 7310);
    const send = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId: linked,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      startAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(send.statusCode).toBe(201);
    for (const status of ['inactive', 'active']) {
      const res = await patch(`/v1/contact-groups/${linked}`, { status });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'GROUP_LOCKED', campaign: { id: campaignId } });
    }
    const batch = await post('/v1/contact-groups/batch-status', { ids: [linked, free], status: 'inactive' });
    expect(batch.statusCode).toBe(200);
    expect(batch.json().results).toEqual([
      expect.objectContaining({ id: linked, ok: false, code: 'GROUP_LOCKED' }),
      { id: free, ok: true, status: 'inactive' },
    ]);
    expect((await get(`/v1/contact-groups/${linked}`)).json()).toMatchObject({ status: 'active' });
    await post(`/v1/broadcast/sends/${send.json().id}/stop`);
    await waitSendFinished(stack, send.json().id);
  });

  it('a scheduled send whose group became inactive pauses with group_inactive when it starts, and sends nothing', async () => {
    const groupId = await newGroup(3, 7400);
    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      startAt: new Date(Date.now() + 1500).toISOString(),
    });
    expect(res.statusCode).toBe(201);
    // Behind the API's back (the API refuses it): the start must check again.
    await stack.database.db.updateTable('contact_groups').set({ status: 'inactive' }).where('id', '=', groupId).execute();
    const sendId = res.json().id;
    await waitFor(async () => (await get(`/v1/broadcast/sends/${sendId}`)).json().status === 'paused', 'the send to pause', 20_000, 100);
    expect((await get(`/v1/broadcast/sends/${sendId}`)).json()).toMatchObject({ status: 'paused', statusReason: 'group_inactive' });
    const sent = await stack.database.db.selectFrom('broadcast_messages').select('id').where('send_id', '=', sendId).where('state', '!=', 'pending').execute();
    expect(sent).toEqual([]);
    // The system's acts are audited as the system's.
    expect(await auditOf(sendId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'broadcast_send.scheduled_start', actorKind: 'system' }),
        expect.objectContaining({ action: 'broadcast_send.auto_pause', actorKind: 'system', details: expect.objectContaining({ reason: 'group_inactive' }) }),
      ]),
    );
    await post(`/v1/broadcast/sends/${sendId}/stop`);
    await waitSendFinished(stack, sendId);
  });

  it('a dialer campaign started on a group that became inactive pauses with group_inactive, before any call', async () => {
    const groupId = await importDialerGroup(stack, tenant, 'Discador inativo', [[phoneOf(1, 0)]]);
    const strategy = (await post('/v1/dialer/strategies', fastStrategy('Controles'))).json();
    const campaign = await post('/v1/dialer/campaigns', { name: 'Grupo inativo', groupId, strategyId: strategy.id });
    expect(campaign.statusCode).toBe(201);
    await stack.database.db.updateTable('contact_groups').set({ status: 'inactive' }).where('id', '=', groupId).execute();
    const started = await post(`/v1/dialer/campaigns/${campaign.json().id}/start`);
    expect(started.statusCode).toBe(200);
    await waitFor(async () => (await get(`/v1/dialer/campaigns/${campaign.json().id}`)).json().status === 'paused', 'the campaign to pause', 20_000, 100);
    expect((await get(`/v1/dialer/campaigns/${campaign.json().id}`)).json()).toMatchObject({ status: 'paused', pauseReason: 'group_inactive' });
    const contacts = await stack.database.db.selectFrom('dialer_contacts').select('contact_id').where('campaign_id', '=', campaign.json().id).execute();
    expect(contacts).toEqual([]);
    // A resume by Temporal signal is operations' act.
    await stack.temporal.workflow.getHandle(dialerCampaignWorkflowId(campaign.json().id)).signal(actSignal('resume'), { by: 'plantão' });
    await waitFor(async () => (await auditOf(campaign.json().id)).some((e) => e.action === 'dialer_campaign.resume'), 'the resume entry', 20_000, 100);
    const entries = await auditOf(campaign.json().id);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'dialer_campaign.start', actorKind: 'user' }),
        expect.objectContaining({ action: 'dialer_campaign.resume', actorKind: 'operations', summary: expect.stringContaining('plantão') }),
        expect.objectContaining({ action: 'dialer_campaign.auto_pause', actorKind: 'system', details: expect.objectContaining({ reason: 'group_inactive' }) }),
      ]),
    );
    await post(`/v1/dialer/campaigns/${campaign.json().id}/stop`);
  });
});

describe('template status → halt: one rule, one delivery', () => {
  const templateWebhook = (event: string) => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: WABA_ID,
          changes: [
            {
              field: 'message_template_status_update',
              value: { event, message_template_id: 1, message_template_name: 'lembrete_pagamento', message_template_language: 'pt_BR' },
            },
          ],
        },
      ],
    });
    return stack.app.inject({
      method: 'POST',
      url: `/v1/webhooks/whatsapp/${channel.id}`,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, SIM_SECRET) },
      payload: body,
    });
  };

  it('a template approved again by webhook resumes the sends its pause paused, as a manual sync does', async () => {
    const N = 40;
    const groupId = await newGroup(N, 7500);
    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      paceMps: 5,
    });
    const sendId = res.json().id;
    await waitFor(async () => (await get(`/v1/broadcast/sends/${sendId}`)).json().status === 'running', 'the send to run', 20_000);
    expect((await templateWebhook('PAUSED')).statusCode).toBe(200);
    await waitFor(async () => (await get(`/v1/broadcast/sends/${sendId}`)).json().statusReason === 'template_paused', 'the pause from the webhook', 20_000);
    expect((await get(`/v1/broadcast/sends/${sendId}`)).json().status).toBe('paused');
    expect((await templateWebhook('APPROVED')).statusCode).toBe(200);
    await waitFor(async () => (await get(`/v1/broadcast/sends/${sendId}`)).json().status !== 'paused', 'the resume from the webhook', 20_000);
    expect((await waitSendFinished(stack, sendId)).state).toBe('completed');
    const templates = (await get(`/v1/whatsapp/channels/${channel.id}/templates?name=lembrete`)).json();
    expect(templates.items[0]).toMatchObject({ status: 'APPROVED' });
    await sim.webhooksIdle();
  });
});

describe('operations are audited', () => {
  it('a pause by Temporal signal is labelled and audited as operations, not as the supervisor', async () => {
    const groupId = await newGroup(30, 7600);
    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      paceMps: 2,
    });
    const sendId = res.json().id;
    await waitFor(async () => (await get(`/v1/broadcast/sends/${sendId}`)).json().status === 'running', 'the send to run', 20_000);
    await stack.temporal.workflow.getHandle(sendWorkflowId(sendId)).signal(actSignal('pause'), { by: 'plantão' });
    await waitFor(async () => (await get(`/v1/broadcast/sends/${sendId}`)).json().status === 'paused', 'the pause by signal', 20_000);
    expect((await get(`/v1/broadcast/sends/${sendId}`)).json().statusReason).toBe('operations:plantão');
    await waitFor(async () => (await auditOf(sendId)).some((e) => e.action === 'broadcast_send.pause'), 'the audit entry', 10_000);
    expect((await auditOf(sendId)).find((e) => e.action === 'broadcast_send.pause')).toMatchObject({
      actorKind: 'operations',
      summary: expect.stringContaining('sinal do Temporal'),
    });
    await post(`/v1/broadcast/sends/${sendId}/stop`);
    expect((await auditOf(sendId)).find((e) => e.action === 'broadcast_send.stop')).toMatchObject({ actorKind: 'user' });
    await waitSendFinished(stack, sendId);
  });
});
