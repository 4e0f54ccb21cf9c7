import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import {
  contactsCsv,
  createCampaign,
  createChannel,
  createGroup,
  reminderVariables,
  SECRETS_KEY,
  startBroadcastStack,
  syncTemplates,
} from '../helpers/broadcast';
import { createConsoleUser, expectAccessible, launchBrowser, screenshot, signedInPage } from '../helpers/browser';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';

let sim: WhatsAppSimulator;
let stack: TestStack;
let worker: RunningWorker;
let tenant: TestTenant;
let browser: Browser;
let baseUrl: string;
const email = `bia-${Date.now()}@floripa.test`;
const password = 'broadcast-2026';

beforeAll(async () => {
  let webhookUrl: (channelId: string) => string;
  ({ sim, stack, webhookUrl } = await startBroadcastStack({
    name: 'console-broadcast',
    mps: 200,
    sim: { pairWindowMs: 0, webhook: { deliveredDelayMs: 20, readDelayMs: 40 } },
  }));
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    broadcast: { graphUrl: sim.url, secretsKey: SECRETS_KEY },
  });
  tenant = await stack.createTenant('Broadcast Floripa');
  await createConsoleUser(stack.database.db, tenant.tenantId, { name: 'Bia Supervisora', email, password });
  const channel = await createChannel(stack, tenant, 80);
  sim.configure({ webhook: { url: webhookUrl(channel.id) } });
  await syncTemplates(stack, tenant, channel.id);
  const campaignId = await createCampaign(stack, tenant, channel.id, 'Lembretes Dezembro');
  const groupId = await createGroup(stack, tenant, 'Clientes Broadcast', contactsCsv(12));
  const send = await stack.app.inject({
    method: 'POST',
    url: `/v1/broadcast/campaigns/${campaignId}/sends`,
    headers: bearer(tenant.supervisorKey),
    payload: { groupId, template: { name: 'lembrete_pagamento' }, variables: reminderVariables },
  });
  expect(send.statusCode).toBe(201);
  baseUrl = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await stack?.close();
  await sim?.stop();
});

describe('Broadcast in the browser', () => {
  it("shows the channel's templates and a send's live funnel up to read", async () => {
    const page = await signedInPage(browser, baseUrl, email, password);
    await page.getByRole('link', { name: 'Broadcast' }).click();
    await page.getByRole('button', { name: 'Central' }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Modelos do canal Central' }).textContent()).toContain('lembrete_pagamento');
    await page.getByRole('button', { name: 'Lembretes Dezembro' }).click();
    const read = page.locator('.card', { hasText: 'Lidas' }).locator('.value');
    await expect.poll(() => read.textContent(), { timeout: 60_000 }).toBe('12');
    expect(await page.locator('.card', { hasText: 'Entregues' }).locator('.value').textContent()).toBe('12');
    await expectAccessible(page, 'Broadcast');
    await screenshot(page, 'broadcast');
    await page.context().close();
  });
});
