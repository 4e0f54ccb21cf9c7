import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import { type BroadcastBed, contactsCsv, createGroup, mobile, reminderVariables, startBroadcastBed, waitSendFinished } from '../helpers/broadcast';
import { waitFor } from '../helpers/worker-process';

/** Changes that can free a waiting or slow send take effect at once: sending hours and pace edited on a started send. */

let bed: BroadcastBed;
let sim: WhatsAppSimulator;
let stack: TestStack;
let tenant: TestTenant;
let campaignId: string;

beforeAll(async () => {
  bed = await startBroadcastBed({
    name: 'broadcast_wake',
    tenant: 'Acordar',
    campaign: 'Despertar',
    sim: { webhook: { deliveredDelayMs: 20, readDelayMs: 40 } },
    env: { BROADCAST_UNKNOWN_AFTER_MS: '3000' },
  });
  ({ sim, stack, tenant, campaignId } = bed);
});
afterAll(async () => {
  await bed?.close();
});

const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: bearer(tenant.viewerKey) });
const post = (url: string, payload?: unknown) => stack.app.inject({ method: 'POST', url, headers: bearer(tenant.supervisorKey), payload: payload as never });
const patch = (url: string, payload: unknown) => stack.app.inject({ method: 'PATCH', url, headers: bearer(tenant.supervisorKey), payload: payload as never });
/** São Paulo's weekday now (UTC−03:00). */
const dayNow = () => new Date(Date.now() - 3 * 3600_000).getUTCDay();

describe('edits that free a started send wake it at once', () => {
  it('a send waiting on its sending hours moves its wait to new closed hours, and goes within seconds of hours that are open', async () => {
    const groupId = await createGroup(
      stack,
      tenant,
      'Horário',
      contactsCsv(5, (i) => mobile(100 + i)),
    );
    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      sendingHours: [{ days: [(dayNow() + 1) % 7], from: '08:00', to: '18:00' }],
    });
    expect(res.statusCode).toBe(201);
    const url = `/v1/broadcast/sends/${res.json().id}`;
    await waitFor(async () => (await get(url)).json().status === 'waiting', 'the send to wait for its hours', 20_000);
    const firstUntil = (await get(url)).json().statusUntil;

    // Still closed (two days on): it keeps waiting, and says until when it now waits.
    const later = await patch(url, { sendingHours: [{ days: [(dayNow() + 2) % 7], from: '09:00', to: '10:00' }] });
    expect(later.statusCode).toBe(200);
    await waitFor(
      async () => {
        const send = (await get(url)).json();
        return send.status === 'waiting' && send.statusUntil !== firstUntil;
      },
      'the wait to follow the new hours',
      10_000,
    );
    expect(Date.parse((await get(url)).json().statusUntil) - Date.parse(firstUntil)).toBe(86_400_000 + 3600_000);

    // Open now: it sends at once, not when the old hours open.
    const edited = Date.now();
    const open = await patch(url, { sendingHours: [{ days: [0, 1, 2, 3, 4, 5, 6], from: '00:00', to: '24:00' }] });
    expect(open.statusCode).toBe(200);
    expect((await waitSendFinished(stack, res.json().id)).state).toBe('completed');
    expect(Date.now() - edited).toBeLessThan(10_000);
    const monitor = (await get(`${url}/monitor`)).json();
    expect(monitor.totals.pending + monitor.totals.sending + monitor.totals.skipped).toBe(0);
  });

  it('a running send takes a new pace mid-page; its template cannot change once started', async () => {
    const N = 60;
    const groupId = await createGroup(
      stack,
      tenant,
      'Ritmo',
      contactsCsv(N, (i) => mobile(200 + i)),
    );
    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      paceMps: 2,
    });
    expect(res.statusCode).toBe(201);
    const sendId = res.json().id;
    const url = `/v1/broadcast/sends/${sendId}`;
    const accepted = async () => (await get(`${url}/monitor`)).json().totals.total - (await get(`${url}/monitor`)).json().totals.pending;
    await waitFor(async () => (await accepted()) >= 2, 'the first messages at 2 msg/s', 20_000);

    const refused = await patch(url, { template: { name: 'oferta_renovacao', language: 'pt_BR' }, variables: { ...reminderVariables, '3': { text: '5%' } } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'SEND_NOT_EDITABLE', sendStatus: 'running' });

    // At 2 msg/s the 60 messages would take 30 s; at 80 the rest go in about a second.
    const edited = Date.now();
    const faster = await patch(url, { paceMps: 80 });
    expect(faster.statusCode).toBe(200);
    expect(faster.json()).toMatchObject({ paceMps: 80, status: 'running' });
    expect((await waitSendFinished(stack, sendId)).state).toBe('completed');
    expect(Date.now() - edited).toBeLessThan(10_000);
    const audit = (await stack.app.inject({ method: 'GET', url: '/v1/audit-log?limit=100', headers: bearer(tenant.adminKey) })).json();
    expect(audit.items.find((e: { action: string; targetId: string }) => e.action === 'broadcast_send.update' && e.targetId === sendId)).toMatchObject({
      details: { changed: ['paceMps'], before: { pace_mps: 2 } },
    });
  });

  it('an opt-out lifted from a company contact gives its skipped message back to an unfinished send, which sends it', async () => {
    const lifted = mobile(301);
    const contact = await post('/v1/company-contacts', { name: 'Volta', phones: [lifted], optOutWhatsapp: true });
    expect(contact.statusCode).toBe(201);
    const groupId = await createGroup(
      stack,
      tenant,
      'Opt-out retirado',
      contactsCsv(8, (i) => mobile(300 + i)),
    );
    const res = await post(`/v1/broadcast/campaigns/${campaignId}/sends`, {
      groupId,
      template: { name: 'lembrete_pagamento' },
      variables: reminderVariables,
      paceMps: 1,
    });
    expect(res.statusCode).toBe(201);
    const sendId = res.json().id;
    await waitFor(
      async () => (await get(`/v1/broadcast/sends/${sendId}/monitor`)).json().totals.skippedByReason.opt_out === 1,
      'the opted-out contact skipped',
      20_000,
    );

    const lift = await patch(`/v1/company-contacts/${contact.json().id}`, { optOutWhatsapp: false });
    expect(lift.statusCode).toBe(200);
    expect((await waitSendFinished(stack, sendId)).state).toBe('completed');
    const monitor = (await get(`/v1/broadcast/sends/${sendId}/monitor`)).json();
    expect(monitor.totals).toMatchObject({ total: 8, skipped: 0, pending: 0 });
    expect((sim.stats().acceptedByRecipient ?? {})[lifted]).toBe(1);
  });
});
