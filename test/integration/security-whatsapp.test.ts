import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageKey } from '../../src/domain/broadcast';
import { signBody } from '../../src/integrations/whatsapp/webhook';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import {
  contactsCsv,
  createCampaign,
  createGroup,
  PHONE_NUMBER_ID,
  reminderVariables,
  SECRETS_KEY,
  SIM_SECRET,
  SIM_TOKEN,
  startBroadcastStack,
  syncTemplates,
  waitAllFinal,
  waitSendFinished,
  WABA_ID,
} from '../helpers/broadcast';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';
import { waitFor } from '../helpers/worker-process';

let sim: WhatsAppSimulator;
let stack: TestStack;
let worker: RunningWorker;
let webhookUrl: (channelId: string) => string;
let tenant: TestTenant;
let rival: TestTenant;
const SECOND_NUMBER = '200000000001';

beforeAll(async () => {
  ({ sim, stack, webhookUrl } = await startBroadcastStack({
    name: 'security-wa',
    mps: 80,
    sim: { pairWindowMs: 0, webhook: { deliveredDelayMs: 10, readDelayMs: 20 } },
  }));
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    broadcast: { graphUrl: sim.url, secretsKey: SECRETS_KEY },
  });
  tenant = await stack.createTenant('Dona do número');
  rival = await stack.createTenant('Concorrente');
});
afterAll(async () => {
  await worker?.stop();
  await stack?.close();
  await sim?.stop();
});

const channelBody = (over: Record<string, unknown> = {}) => ({
  name: 'Central',
  phoneNumberId: PHONE_NUMBER_ID,
  wabaId: WABA_ID,
  displayNumber: '554830000000',
  accessToken: SIM_TOKEN,
  appSecret: 'segredo-do-canal-x',
  mpsLimit: 80,
  messagingLimitTier: 'TIER_UNLIMITED',
  ...over,
});
const createChannelAs = (t: TestTenant, body: Record<string, unknown>) =>
  stack.app.inject({ method: 'POST', url: '/v1/whatsapp/channels', headers: bearer(t.adminKey), payload: body });

describe('the Graph API simulator lists the WABA numbers with its token checks', () => {
  it('GET /{waba-id}/phone_numbers and GET /{phone-number-id} answer as the Cloud API does', async () => {
    const list = await fetch(`${sim.url}/v21.0/${WABA_ID}/phone_numbers?limit=1`, { headers: { authorization: `Bearer ${SIM_TOKEN}` } });
    expect(list.status).toBe(200);
    const page = (await list.json()) as {
      data: { id: string; display_phone_number: string; verified_name: string }[];
      paging: { next?: string; cursors: { after: string } };
    };
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toMatchObject({
      id: expect.any(String),
      display_phone_number: expect.any(String),
      verified_name: expect.any(String),
      quality_rating: 'GREEN',
    });
    expect(page.paging.next).toBeDefined();
    const wrongToken = await fetch(`${sim.url}/v21.0/${WABA_ID}/phone_numbers`, { headers: { authorization: 'Bearer outro' } });
    expect(wrongToken.status).toBe(401);
    expect(((await wrongToken.json()) as { error: { code: number } }).error.code).toBe(190);
    const otherWaba = await fetch(`${sim.url}/v21.0/999999999/phone_numbers`, { headers: { authorization: `Bearer ${SIM_TOKEN}` } });
    expect(otherWaba.status).toBe(400);
    expect(((await otherWaba.json()) as { error: { code: number } }).error.code).toBe(100);
    const node = await fetch(`${sim.url}/v21.0/${PHONE_NUMBER_ID}?fields=verified_name`, { headers: { authorization: `Bearer ${SIM_TOKEN}` } });
    expect(await node.json()).toEqual({ id: PHONE_NUMBER_ID, verified_name: expect.any(String) });
  });
});

describe('a phone number belongs to one tenant', () => {
  it('refuses a channel whose number the token cannot read under the WABA, and a number another tenant registered', async () => {
    const wrongToken = await createChannelAs(tenant, channelBody({ accessToken: 'token-de-outra-empresa' }));
    expect(wrongToken.statusCode).toBe(422);
    expect(wrongToken.json()).toMatchObject({ code: 'WHATSAPP_TOKEN_INVALID', whatsappCode: 190 });
    const otherWaba = await createChannelAs(tenant, channelBody({ wabaId: '999999999' }));
    expect(otherWaba.json()).toMatchObject({ status: 422, code: 'WHATSAPP_ACCOUNT_NOT_ACCESSIBLE', whatsappCode: 100 });
    const notInWaba = await createChannelAs(tenant, channelBody({ phoneNumberId: '555555555555' }));
    expect(notInWaba.json()).toMatchObject({ status: 422, code: 'WHATSAPP_NUMBER_NOT_IN_ACCOUNT' });

    const owned = await createChannelAs(tenant, channelBody());
    expect(owned.statusCode).toBe(201);
    // The rival holds a valid token (same WABA here) and still cannot register the number again.
    const taken = await createChannelAs(rival, channelBody({ mpsLimit: 1 }));
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('CHANNEL_NUMBER_TAKEN');
    const rows = await stack.database.db.selectFrom('whatsapp_channels').select('tenant_id').where('phone_number_id', '=', PHONE_NUMBER_ID).execute();
    expect(rows).toEqual([{ tenant_id: tenant.tenantId }]);
    // A new access token is checked the same way.
    const badRotation = await stack.app.inject({
      method: 'PATCH',
      url: `/v1/whatsapp/channels/${owned.json().id}`,
      headers: bearer(tenant.adminKey),
      payload: { accessToken: 'token-de-outra-empresa' },
    });
    expect(badRotation.json()).toMatchObject({ status: 422, code: 'WHATSAPP_TOKEN_INVALID' });
  });
});

describe('a webhook and a pace window belong to their channel', () => {
  it("paces a send on the channel's own id, and a payload signed for channel X leaves channel Y's messages alone", async () => {
    const x = (await stack.database.db.selectFrom('whatsapp_channels').select(['id']).where('phone_number_id', '=', PHONE_NUMBER_ID).executeTakeFirstOrThrow())
      .id;
    const created = await createChannelAs(
      tenant,
      channelBody({ name: 'Y', phoneNumberId: SECOND_NUMBER, displayNumber: '554830000001', appSecret: SIM_SECRET }),
    );
    expect(created.statusCode).toBe(201);
    const y = created.json().id as string;
    sim.configure({ webhook: { url: webhookUrl(y) } });
    await syncTemplates(stack, tenant, y);
    const campaignId = await createCampaign(stack, tenant, y, 'Campanha Y');
    const groupId = await createGroup(stack, tenant, 'Grupo Y', contactsCsv(3));
    const started = await stack.app.inject({
      method: 'POST',
      url: `/v1/broadcast/campaigns/${campaignId}/sends`,
      headers: bearer(tenant.supervisorKey),
      payload: { groupId, template: { name: 'lembrete_pagamento' }, variables: reminderVariables },
    });
    expect(started.statusCode).toBe(201);
    const sendId = started.json().id as string;
    await waitSendFinished(stack, sendId);
    await sim.webhooksIdle();
    await waitAllFinal(stack, sendId);

    const windows = await stack.database.db.selectFrom('rate_windows').select('key').execute();
    expect(windows.map((w) => w.key)).toContain(`channel:${y}`);
    expect(windows.filter((w) => w.key.startsWith('wa:'))).toEqual([]);

    const message = await stack.database.db.selectFrom('broadcast_messages').selectAll().where('send_id', '=', sendId).orderBy('id').executeTakeFirstOrThrow();
    expect(message.state).toBe('read');
    const forged = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: WABA_ID,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '554830000000', phone_number_id: PHONE_NUMBER_ID },
                statuses: [
                  {
                    id: message.wamid,
                    status: 'failed',
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    recipient_id: message.wa_id ?? message.phone,
                    biz_opaque_callback_data: messageKey(sendId, message.contact_id),
                    errors: [{ code: 131049, title: 'This message was not delivered to maintain healthy ecosystem engagement.' }],
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    const post = (channelId: string, secret: string) =>
      stack.app.inject({
        method: 'POST',
        url: `/v1/webhooks/whatsapp/${channelId}`,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(forged, secret) },
        payload: forged,
      });
    const appliedAll = (channelId: string) =>
      waitFor(
        async () =>
          (await stack.database.db.selectFrom('webhook_events').select('id').where('channel_id', '=', channelId).where('applied_at', 'is', null).execute())
            .length === 0,
        'the webhook to be applied',
        20_000,
        100,
      );
    const blocks = () => stack.database.db.selectFrom('whatsapp_recipient_blocks').selectAll().execute();

    expect((await post(x, 'segredo-do-canal-x')).statusCode).toBe(200);
    await appliedAll(x);
    const after = await stack.database.db.selectFrom('broadcast_messages').selectAll().where('id', '=', message.id).executeTakeFirstOrThrow();
    expect({ state: after.state, error: after.error_code }).toEqual({ state: 'read', error: null });
    expect(await blocks()).toEqual([]);
    expect(await stack.database.db.selectFrom('webhook_orphan_statuses').select(['channel_id']).execute()).toEqual([{ channel_id: x }]);

    // The same payload through Y's own webhook does apply (the block is Meta's 24 h cap on Y).
    expect((await post(y, SIM_SECRET)).statusCode).toBe(200);
    await appliedAll(y);
    expect((await blocks()).map((b) => ({ channel: b.channel_id, code: b.error_code }))).toEqual([{ channel: y, code: 131049 }]);
  });
});
