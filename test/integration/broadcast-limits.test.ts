import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/database';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { sendWorkflowId } from '../../src/workflows/broadcast/messages';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import {
  contactsCsv,
  createCampaign,
  createChannel,
  createGroup,
  mobile,
  reminderVariables,
  SECRETS_KEY,
  SIM_TOKEN,
  startBroadcastStack,
  syncTemplates,
  WABA_ID,
  waitAllFinal,
  waitSendFinished,
} from '../helpers/broadcast';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/worker-process';

let sim: WhatsAppSimulator;
let stack: TestStack;
let worker: RunningWorker;
let tenant: TestTenant;
let channel: Awaited<ReturnType<typeof createChannel>>;
let campaignId: string;
const others: Db[] = [];

beforeAll(async () => {
  let webhookUrl: (channelId: string) => string;
  ({ sim, stack, webhookUrl } = await startBroadcastStack({
    name: 'limits',
    mps: 200,
    sim: { pairWindowMs: 0, webhook: { deliveredDelayMs: 20, readDelayMs: 40 } },
    env: { BROADCAST_UNKNOWN_AFTER_MS: '3000' },
  }));
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    broadcast: { graphUrl: sim.url, secretsKey: SECRETS_KEY },
  });
  tenant = await stack.createTenant('Limites');
  channel = await createChannel(stack, tenant, 80, { messagingLimitTier: 'TIER_250' });
  sim.configure({ webhook: { url: webhookUrl(channel.id) } });
  sim.setTemplateStatus('oferta_renovacao', 'pt_BR', 'APPROVED');
  await syncTemplates(stack, tenant, channel.id);
  campaignId = await createCampaign(stack, tenant, channel.id, 'Limites de mensagens');
});
afterAll(async () => {
  for (const o of others) await o.close();
  await worker?.stop();
  await stack?.close();
  await sim?.stop();
});

const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: bearer(tenant.viewerKey) });
const post = (url: string, payload?: unknown) => stack.app.inject({ method: 'POST', url, headers: bearer(tenant.adminKey), payload: payload as never });
const patch = (url: string, payload: unknown) => stack.app.inject({ method: 'PATCH', url, headers: bearer(tenant.adminKey), payload: payload as never });
const phoneKey = (phone: string) => `${phone.slice(0, 4)}${phone.slice(5)}`;

describe('messaging limit (unique users per rolling 24 h)', () => {
  it("gives a channel Meta's starting tier unless told, and changes it on the channel API", async () => {
    const res = await post('/v1/whatsapp/channels', {
      name: 'Outro',
      phoneNumberId: '200000000001',
      wabaId: WABA_ID,
      displayNumber: '554830000001',
      accessToken: SIM_TOKEN,
      appSecret: 'segredo-1',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ messagingLimitTier: 'TIER_250', messagingLimit: 250 });
    const changed = await patch(`/v1/whatsapp/channels/${res.json().id}`, { messagingLimitTier: 'TIER_100K' });
    expect(changed.json()).toMatchObject({ messagingLimitTier: 'TIER_100K', messagingLimit: 100_000 });
    expect((await patch(`/v1/whatsapp/channels/${res.json().id}`, { messagingLimitTier: 'TIER_5' })).statusCode).toBe(400);
    expect(channel).toMatchObject({ messagingLimitTier: 'TIER_250', messagingLimit: 250 });
  });

  it('admits no more unique users than the tier across concurrent workers, and a user in the window does not count again', async () => {
    const created = await post('/v1/whatsapp/channels', {
      name: 'Concorrente',
      phoneNumberId: '200000000002',
      wabaId: WABA_ID,
      displayNumber: '554830000002',
      accessToken: SIM_TOKEN,
      appSecret: 'segredo-2',
    });
    const channelId = created.json().id as string;
    const dbs = [
      stack.database.db,
      ...Array.from({ length: 3 }, () => {
        const other = createDb({ connectionString: stack.database.url, schema: stack.database.schema, poolSize: 2 });
        others.push(other);
        return other.db;
      }),
    ];
    // 4 workers × 20 batches of 10 users drawn from 300, overlapping.
    const admittedBy = await Promise.all(
      dbs.map(async (db, w) => {
        const mine: string[] = [];
        for (let b = 0; b < 20; b++) {
          const users = Array.from({ length: 10 }, (_, i) => `u${(w * 37 + b * 10 + i) % 300}`);
          const { rows } = await sql<{ admitted: string[] }>`SELECT admitted FROM whatsapp_limit_admit(${channelId}::uuid, 250, ${users}::text[])`.execute(db);
          mine.push(...rows[0].admitted);
        }
        return mine;
      }),
    );
    const distinct = new Set(admittedBy.flat());
    expect(distinct.size).toBe(250);
    const usage = await stack.database.db.selectFrom('whatsapp_limit_usage').select('used').where('channel_id', '=', channelId).executeTakeFirstOrThrow();
    expect(usage.used).toBe(250);
    // Full: a new user is refused with when the first slot frees; one already counted still passes.
    const known = [...distinct][0];
    const { rows } = await sql<{
      admitted: string[];
      frees_at: Date;
    }>`SELECT * FROM whatsapp_limit_admit(${channelId}::uuid, 250, ${['novo', known]}::text[])`.execute(stack.database.db);
    expect(rows[0].admitted).toEqual([known]);
    expect(rows[0].frees_at.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
  });

  it('waits with the reason and the time capacity frees, then goes on; users already in the window go out without counting', async () => {
    const N = 20;
    const phones = Array.from({ length: N }, (_, i) => mobile(4000 + i + 1));
    const groupId = await createGroup(
      stack,
      tenant,
      'Limite diário',
      contactsCsv(N, (i) => mobile(4000 + i)),
    );
    // The channel already reached 245 users today: 242 whose window ends in 12 s, and 3 of this group an hour ago.
    const expiresAt = new Date(Date.now() + 12_000);
    const db = stack.database.db;
    const old = Array.from({ length: 242 }, (_, i) => ({
      channel_id: channel.id,
      user_key: `antigo-${i}`,
      window_start: new Date(expiresAt.getTime() - 86_400_000),
      counted: true,
    }));
    const recent = phones
      .slice(0, 3)
      .map((p) => ({ channel_id: channel.id, user_key: phoneKey(p), window_start: new Date(Date.now() - 3600_000), counted: true }));
    await db
      .insertInto('whatsapp_limit_users')
      .values([...old, ...recent])
      .execute();
    await db.insertInto('whatsapp_limit_usage').values({ channel_id: channel.id, used: 245 }).execute();
    await sim.webhooksIdle();
    sim.reset();

    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, { groupId, template: { name: 'lembrete_pagamento' }, variables: reminderVariables });
    expect(res.statusCode).toBe(201);
    const sendId = res.json().id;
    await waitFor(
      async () => (await get(`/v1/broadcast/sends/${sendId}`)).json().status === 'waiting',
      'the send to wait for messaging-limit capacity',
      10_000,
      100,
    );
    const waiting = (await get(`/v1/broadcast/sends/${sendId}`)).json();
    expect(waiting).toMatchObject({ status: 'waiting', statusReason: 'waiting_messaging_limit' });
    expect(Math.abs(Date.parse(waiting.statusUntil) - expiresAt.getTime())).toBeLessThan(1000);
    const monitor = (await get(`/v1/broadcast/sends/${sendId}/monitor`)).json();
    expect(monitor).toMatchObject({ state: 'waiting', reason: 'waiting_messaging_limit', until: waiting.statusUntil, totals: { pending: N - 8 } });
    // The 3 already in the window plus the 5 left of 250; nothing failed.
    expect(sim.stats({ detail: false }).accepted).toBe(8);
    for (const p of phones.slice(0, 3)) expect(sim.stats().acceptedByRecipient?.[p]).toBe(1);

    expect((await waitSendFinished(stack, sendId)).state).toBe('completed');
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    const stats = sim.stats();
    expect(stats.accepted).toBe(N);
    expect(stats.duplicateRecipients).toEqual([]);
    // The old users left the window; this group's 20 are counted once each.
    expect((await db.selectFrom('whatsapp_limit_usage').select('used').where('channel_id', '=', channel.id).executeTakeFirstOrThrow()).used).toBe(N);
    await sim.webhooksIdle();
    await waitAllFinal(stack, sendId, 20_000);
  });
});

describe('131049, the per-user marketing cap', () => {
  it('fails that message with its code and skips the user in every send of the channel for 24 h', async () => {
    await patch(`/v1/whatsapp/channels/${channel.id}`, { messagingLimitTier: 'TIER_UNLIMITED' });
    const capped = mobile(5001);
    const cappedLater = mobile(5002); // capped in the status webhook, after the send was accepted
    sim.configure({
      injections: [
        { pattern: `^${capped}$`, code: 131049 },
        { pattern: `^${cappedLater}$`, code: 131049, stage: 'status' },
      ],
    });
    try {
      const first = await createGroup(
        stack,
        tenant,
        'Marketing 1',
        contactsCsv(6, (i) => mobile(5000 + i)),
      );
      const a = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
        groupId: first,
        template: { name: 'lembrete_pagamento' },
        variables: reminderVariables,
      });
      expect((await waitSendFinished(stack, a.json().id)).state).toBe('completed');
      await sim.webhooksIdle();
      await waitAllFinal(stack, a.json().id, 20_000);
      const rows = await stack.database.db.selectFrom('broadcast_messages').selectAll().where('send_id', '=', a.json().id).execute();
      expect(rows.find((r) => r.phone === capped)).toMatchObject({ state: 'failed', error_code: 131049, attempts: 1 });
      expect(rows.find((r) => r.phone === cappedLater)).toMatchObject({ state: 'failed', error_code: 131049 });
      const blocks = await stack.database.db
        .selectFrom('whatsapp_recipient_blocks')
        .selectAll()
        .where('channel_id', '=', channel.id)
        .orderBy('phone_key')
        .execute();
      expect(blocks.map((b) => b.phone_key)).toEqual([phoneKey(capped), phoneKey(cappedLater)]);
      for (const b of blocks) {
        expect(b).toMatchObject({ reason: 'marketing_cap_per_user', error_code: 131049, send_id: a.json().id });
        expect(Math.abs(b.until.getTime() - (Date.now() + 86_400_000))).toBeLessThan(60_000);
      }

      // Another send of the channel the same day: those two are skipped, never called.
      const accepted = sim.stats().acceptedByRecipient ?? {};
      const before = { capped: accepted[capped] ?? 0, cappedLater: accepted[cappedLater] ?? 0 };
      const second = await createGroup(
        stack,
        tenant,
        'Marketing 2',
        contactsCsv(4, (i) => mobile(5000 + i)),
      );
      const b = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
        groupId: second,
        template: { name: 'oferta_renovacao' },
        variables: { ...reminderVariables, '3': { text: '20%' } },
      });
      expect((await waitSendFinished(stack, b.json().id)).state).toBe('completed');
      const after = sim.stats().acceptedByRecipient ?? {};
      expect({ capped: after[capped] ?? 0, cappedLater: after[cappedLater] ?? 0 }).toEqual(before);
      const monitor = (await get(`/v1/broadcast/sends/${b.json().id}/monitor`)).json();
      expect(monitor.totals).toMatchObject({ skipped: 2, skippedByReason: { skipped_user_cap: 2 } });
      const report = (await get(`/v1/broadcast/sends/${b.json().id}/reports/detalhado.csv`)).body;
      expect(report.split('\r\n').filter((l) => l.includes(';skipped;skipped_user_cap;'))).toHaveLength(2);
    } finally {
      sim.configure({ injections: [] });
    }
  });
});

describe('editing a send before it starts', () => {
  it('re-checks template, mapping and pace, re-arms the start time, audits the change, and refuses once started', async () => {
    const N = 12;
    const groupId = await createGroup(
      stack,
      tenant,
      'Editável',
      contactsCsv(N, (i) => mobile(6000 + i)),
    );
    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      startAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(res.json()).toMatchObject({ status: 'scheduled' });
    const url = `/v1/broadcast/sends/${res.json().id}`;

    // The new template has 3 placeholders: the old mapping (2) no longer fits.
    const wrong = await patch(url, { template: { name: 'oferta_renovacao', language: 'pt_BR' } });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json()).toMatchObject({ code: 'TEMPLATE_VARIABLES_MISMATCH', missing: ['3'] });
    expect((await patch(url, { paceMps: 81 })).json()).toMatchObject({ status: 422, code: 'PACE_ABOVE_CHANNEL_LIMIT' });
    expect((await patch(url, { template: { name: 'pesquisa_satisfacao', language: 'pt_BR' }, variables: { '1': { column: 'nome' } } })).json()).toMatchObject({
      code: 'TEMPLATE_NOT_APPROVED',
    });
    expect((await patch(url, { variables: { ...reminderVariables, '2': { column: 'inexistente' } } })).json()).toMatchObject({
      code: 'VARIABLE_COLUMN_UNKNOWN',
    });
    expect((await patch(url, {})).statusCode).toBe(400);
    expect((await get(url)).json()).toMatchObject({ template: { name: 'lembrete_pagamento' }, paceMps: 80 });

    const startAt = new Date(Date.now() + 2000).toISOString();
    const edited = await patch(url, {
      template: { name: 'oferta_renovacao', language: 'pt_BR' },
      variables: { ...reminderVariables, '3': { text: '15%' } },
      paceMps: 30,
      startAt,
      gradual: null,
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({
      status: 'scheduled',
      template: { name: 'oferta_renovacao' },
      paceMps: 30,
      startAt,
      variables: { '3': { text: '15%' } },
    });

    // The workflow took the new start (not the hour it had) and the new template with its 3 parameters.
    const result = await waitSendFinished(stack, res.json().id);
    expect(result.state).toBe('completed');
    const send = (await get(url)).json();
    expect(Date.parse(send.startedAt)).toBeGreaterThanOrEqual(Date.parse(startAt) - 1000);
    expect(Date.parse(send.startedAt)).toBeLessThan(Date.parse(startAt) + 30_000);
    const messages = await stack.database.db.selectFrom('broadcast_messages').select(['state', 'error_code']).where('send_id', '=', res.json().id).execute();
    expect(messages.filter((m) => m.error_code !== null)).toEqual([]);
    expect(messages).toHaveLength(N);

    const audit = (await stack.app.inject({ method: 'GET', url: '/v1/audit-log?limit=200', headers: bearer(tenant.adminKey) })).json();
    const entry = audit.items.find((e: { action: string; targetId: string }) => e.action === 'broadcast_send.update' && e.targetId === res.json().id);
    expect(entry).toBeDefined();
    expect([...entry.details.changed].sort()).toEqual(['gradual', 'paceMps', 'startAt', 'template', 'variables']);
    expect(entry.details).toMatchObject({ before: { template_name: 'lembrete_pagamento', pace_mps: 80 } });

    const late = await patch(url, { paceMps: 10 });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'SEND_NOT_EDITABLE', sendStatus: 'completed' });
  });

  it('on a paused send takes a new pace but refuses (409) a new template, changing nothing', async () => {
    const groupId = await createGroup(
      stack,
      tenant,
      'Pausado',
      contactsCsv(2, (i) => mobile(6100 + i)),
    );
    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      startAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const url = `/v1/broadcast/sends/${res.json().id}`;
    expect((await post(`${url}/pause`)).json()).toMatchObject({ status: 'paused' });
    const refused = await patch(url, { paceMps: 10, template: { name: 'oferta_renovacao', language: 'pt_BR' } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'SEND_NOT_EDITABLE', sendStatus: 'paused', liveEditable: ['paceMps', 'sendingHours'] });
    expect((await get(url)).json()).toMatchObject({ paceMps: 80, template: { name: 'lembrete_pagamento' } });
    const paced = await patch(url, { paceMps: 10 });
    expect(paced.statusCode).toBe(200);
    expect(paced.json()).toMatchObject({ paceMps: 10, status: 'paused' });
    await post(`${url}/stop`);
    expect((await stack.temporal.workflow.getHandle(sendWorkflowId(res.json().id)).result()).state).toBe('stopped');
  });
});
