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
  // A second group, free for the send the browser creates through the forms.
  await createGroup(stack, tenant, 'Clientes Janeiro', contactsCsv(7));
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

  it('creates a campaign and a send through the forms and follows its funnel up to read', async () => {
    const page = await signedInPage(browser, baseUrl, email, password);
    await page.getByRole('link', { name: 'Broadcast' }).click();
    await page.getByRole('button', { name: 'Nova campanha de broadcast' }).click();
    const campaignForm = page.getByRole('form', { name: 'Nova campanha de broadcast' });
    await campaignForm.getByLabel('Nome').fill('Cobrança Janeiro');
    await campaignForm.getByLabel('Canal WhatsApp').selectOption({ label: 'Central (554830000000)' });
    await campaignForm.getByRole('button', { name: 'Criar campanha' }).click();
    await page.getByRole('heading', { name: 'Envios de Cobrança Janeiro' }).waitFor();

    await page.getByRole('button', { name: 'Novo envio' }).click();
    const sendForm = page.getByRole('form', { name: 'Novo envio' });
    await sendForm.getByLabel('Grupo de contatos').selectOption({ label: 'Clientes Janeiro (7 contatos)' });
    await sendForm.getByLabel('Modelo (HSM) aprovado').selectOption({ label: 'lembrete_pagamento (pt_BR)' });
    // A pace above the channel's limit (80 msg/s) is refused next to its field.
    await sendForm.getByLabel(/Ritmo/).fill('500');
    await sendForm.getByLabel('Coluna para {{1}}').selectOption('nome');
    await sendForm.getByLabel('Coluna para {{2}}').selectOption('vencimento');
    await sendForm.getByRole('button', { name: 'Criar envio' }).click();
    await expect.poll(() => sendForm.locator('#sd-pace-error').textContent()).toContain('limite do canal');
    // Sending hours that end before they begin: the API's error shows next to them.
    await sendForm.getByLabel(/Ritmo/).fill('50');
    await sendForm.getByLabel('Envio a partir de').fill('18:00');
    await sendForm.getByLabel('Envio até').fill('08:00');
    await sendForm.getByRole('button', { name: 'Criar envio' }).click();
    await expect.poll(() => sendForm.locator('#sd-hours-error').textContent()).toContain('before');
    await expectAccessible(page, 'Broadcast: novo envio');
    // Any time of day (a window would make the test depend on the clock); then the send goes out now.
    await sendForm.getByLabel('Envio a partir de').fill('');
    await sendForm.getByLabel('Envio até').fill('');
    await screenshot(page, 'broadcast-envio');
    await sendForm.getByRole('button', { name: 'Criar envio' }).click();

    const monitor = page.getByRole('region', { name: 'Envio lembrete_pagamento' });
    const read = monitor.locator('.card', { hasText: 'Lidas' }).locator('.value');
    await expect.poll(() => read.textContent(), { timeout: 60_000 }).toBe('7');
    expect(await monitor.locator('.card', { hasText: 'Entregues' }).locator('.value').textContent()).toBe('7');
    await page.context().close();
  });
});
