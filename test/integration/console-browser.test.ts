import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import { createConsoleUser, expectAccessible, launchBrowser, newConsolePage, screenshot, signedInPage as signedIn } from '../helpers/browser';
import { importDialerGroup, phoneOf } from '../helpers/dialer';
import { type DialerTestStack, startDialerTestStack } from '../helpers/dialer-stack';

let dialer: DialerTestStack;
let stack: TestStack;
let tenant: TestTenant;
let browser: Browser;
let baseUrl: string;
const password = 'supervisora-2026';
let email: string;

beforeAll(async () => {
  // Calls ring and talk for a while, so a campaign is still dialling when it is paused and resumed.
  dialer = await startDialerTestStack('console-browser', {
    seed: 7,
    ringMs: [200, 400],
    talkMs: [300, 800],
    rules: [
      {
        match: '.',
        mix: [
          { outcome: 'answered', weight: 3 },
          { outcome: 'busy', weight: 1 },
          { outcome: 'no_answer', weight: 1 },
        ],
      },
    ],
  });
  stack = dialer.stack;
  tenant = dialer.tenant;
  await stack.database.db.updateTable('tenants').set({ name: 'Central Floripa' }).where('id', '=', tenant.tenantId).execute();
  email = `ana-${Date.now()}@floripa.test`;
  await createConsoleUser(stack.database.db, tenant.tenantId, { name: 'Ana Supervisora', email, password });
  await stack.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await dialer?.close();
});

const signedInPage = () => signedIn(browser, baseUrl, email, password);

describe('console in the browser', () => {
  it('signs in, refusing a wrong password first, and signs out', async () => {
    const page = await newConsolePage(browser, baseUrl);
    await page.goto('/console/');
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Senha').fill('senha-errada');
    await expectAccessible(page, 'Entrar');
    await screenshot(page, 'entrar');
    await page.getByRole('button', { name: 'Entrar' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('E-mail ou senha incorretos');
    await page.getByLabel('Senha').fill(password);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByRole('heading', { name: 'Grupos de Contatos' }).waitFor();
    await page.getByRole('button', { name: 'Sair' }).click();
    await page.getByRole('button', { name: 'Entrar' }).waitFor();
    await page.context().close();
  });

  it('accepts an invite: the invited user chooses a password and lands signed in', async () => {
    const created = await stack.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(tenant.adminKey),
      payload: { name: 'Beto Convidado', email: `beto-${Date.now()}@floripa.test`, role: 'viewer' },
    });
    const invite = await stack.app.inject({ method: 'POST', url: `/v1/users/${created.json().id}/invites`, headers: bearer(tenant.adminKey) });
    const link = new URL(invite.json().inviteUrl);
    const page = await newConsolePage(browser, baseUrl);
    await page.goto(`/console/${link.hash}`);
    await page.getByLabel('Nova senha (mínimo 10 caracteres)').fill('beto-senha-forte');
    await page.getByLabel('Repita a senha').fill('beto-senha-forte');
    await expectAccessible(page, 'Convite');
    await page.getByRole('button', { name: 'Aceitar convite e entrar' }).click();
    await page.getByText('Beto Convidado · Central Floripa').waitFor();
    await page.context().close();
  });

  it('imports a CSV from the "+" and shows its progress and the rejected rows with their reasons', async () => {
    const page = await signedInPage();
    await page.getByRole('button', { name: 'Novo grupo (importar CSV)' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'Baixar modelo (CSV)' }).getAttribute('href')).toBe('/v1/contact-groups/template.csv');
    await page.getByLabel('Nome do grupo').fill('Clientes Março');
    await page.getByLabel('Arquivo CSV').setInputFiles({
      name: 'clientes.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('nome;telefone1\nJoão;5548998288774\nMaria;5521987654321\n;5548998281111\nRui;999\n'),
    });
    await page.getByRole('button', { name: 'Importar', exact: true }).click();
    await expect.poll(() => page.getByTestId('rows-imported').textContent(), { timeout: 30_000 }).toBe('2');
    await expect.poll(() => page.getByTestId('rows-rejected').textContent()).toBe('2');
    const rejected = page.getByRole('table', { name: 'Linhas rejeitadas e motivos' });
    await expect.poll(() => rejected.textContent(), { timeout: 10_000 }).toContain('O nome é obrigatório');
    expect(await rejected.textContent()).toContain('telefone1');
    await expect.poll(() => page.getByRole('table', { name: 'Grupos de contatos' }).textContent()).toContain('Clientes Março');
    await expectAccessible(page, 'Grupos de Contatos com importação');
    await screenshot(page, 'grupos-importacao');
    await page.context().close();
  });

  it('filters the groups and deactivates a batch of them', async () => {
    const page = await signedInPage();
    for (const name of ['Lote Sul A', 'Lote Sul B']) {
      await page.getByRole('button', { name: 'Novo grupo (importar CSV)' }).click();
      await page.getByLabel('Nome do grupo').fill(name);
      await page.getByLabel('Arquivo CSV').setInputFiles({ name: 'a.csv', mimeType: 'text/csv', buffer: Buffer.from('nome;telefone1\nJoão;5548998288774\n') });
      await page.getByRole('button', { name: 'Importar', exact: true }).click();
      await expect.poll(() => page.getByTestId('rows-imported').textContent(), { timeout: 30_000 }).toBe('1');
      await page.getByRole('button', { name: 'Novo grupo (importar CSV)' }).click();
    }
    await page.getByRole('searchbox', { name: 'Nome' }).fill('lote sul');
    const table = page.getByRole('table', { name: 'Grupos de contatos' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    await page.getByLabel('Selecionar Lote Sul A').check();
    await page.getByLabel('Selecionar Lote Sul B').check();
    await page.getByRole('button', { name: 'Inativar' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('2 grupo(s) inativado(s)');
    await page.getByRole('combobox', { name: 'Status' }).selectOption('inactive');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    await expectAccessible(page, 'Grupos de Contatos');
    await screenshot(page, 'grupos');
    await page.context().close();
  });

  it("creates a strategy, showing the API's validation errors next to their fields", async () => {
    const page = await signedInPage();
    await page.getByRole('link', { name: 'Estratégias' }).click();
    await page.getByRole('button', { name: 'Nova estratégia' }).click();
    await page.getByLabel('Nome', { exact: true }).fill('Cobrança Sul');
    await page.getByLabel('Canais simultâneos').fill('0');
    await page.getByRole('button', { name: 'Salvar estratégia' }).click();
    const channels = page.getByLabel('Canais simultâneos');
    await expect.poll(() => channels.getAttribute('aria-invalid')).toBe('true');
    await channels.fill('3');
    await page.getByLabel('Telemarketing ativo').check();
    await page.getByLabel('Bina (caller id)').fill('4833334444');
    await page.getByRole('button', { name: 'Salvar estratégia' }).click();
    await expect.poll(() => page.locator('#st-caller-error').textContent()).toContain('0303');
    await expectAccessible(page, 'Estratégias com erros');
    await page.getByRole('heading', { name: 'Nova estratégia' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'estrategias-erros');
    await page.getByLabel('Bina (caller id)').fill('03034833334444');
    await page.getByRole('button', { name: 'Salvar estratégia' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Estratégia "Cobrança Sul" salva (versão 1)');
    await page.getByRole('button', { name: 'Editar Cobrança Sul' }).click();
    await page.getByLabel('Tentativas por contato').fill('4');
    await page.getByRole('button', { name: 'Salvar estratégia' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('(versão 2)');
    await page.context().close();
  });

  it('creates a campaign, starts, pauses and resumes it with confirmations while the monitor changes, then runs the calls report', async () => {
    const phones = Array.from({ length: 60 }, (_, i) => [phoneOf(i, 5)]);
    await importDialerGroup(stack, tenant, 'Carteira Norte', phones);
    const page = await signedInPage();
    await page.getByRole('link', { name: 'Estratégias' }).click();
    await page.getByRole('button', { name: 'Nova estratégia' }).click();
    await page.getByLabel('Nome', { exact: true }).fill('Dia inteiro');
    // Any time of any day, holidays too: the test runs whenever it runs.
    await page.getByLabel('Horário de discagem: das').fill('00:00');
    await page.getByLabel('às', { exact: true }).fill('23:59');
    for (const day of ['Dom', 'Seg', 'Ter', 'Qua', 'Qui', 'Sex', 'Sáb']) await page.getByLabel(day, { exact: true }).check();
    await page.getByLabel('Não discar em feriados nacionais').uncheck();
    await page.getByLabel('Canais simultâneos').fill('2');
    await page.getByLabel('Chamadas por segundo').fill('1');
    await page.getByRole('button', { name: 'Salvar estratégia' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Dia inteiro');

    await page.getByRole('link', { name: 'Campanhas' }).click();
    await page.getByRole('button', { name: 'Nova campanha' }).click();
    await page.getByLabel('Nome', { exact: true }).fill('Norte Dezembro');
    await page.getByLabel('Grupo de contatos').selectOption({ label: 'Carteira Norte (60 contatos)' });
    await page.getByLabel('Estratégia').selectOption({ label: 'Dia inteiro' });
    await expectAccessible(page, 'Nova campanha');
    await page.getByRole('button', { name: 'Criar campanha' }).click();
    await page.getByRole('heading', { name: 'Monitoramento: Norte Dezembro' }).waitFor();
    const status = page.getByTestId('campaign-status');
    await expect.poll(() => status.textContent()).toBe('Rascunho');

    const control = async (button: string, confirm: string, expected: string) => {
      await page.getByRole('button', { name: button, exact: true }).click();
      await page.getByRole('dialog').waitFor();
      await page.getByRole('button', { name: confirm }).click();
      await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe(expected);
    };
    await control('Iniciar', 'Sim, iniciar', 'Em andamento');
    const finished = page.locator('.card', { hasText: 'Finalizados' }).locator('.value');
    await expect.poll(async () => Number(await finished.textContent()), { timeout: 60_000 }).toBeGreaterThan(0);
    await control('Pausar', 'Sim, pausar', 'Pausada');
    await expectAccessible(page, 'Monitoramento');
    await screenshot(page, 'monitoramento');
    const whilePaused = Number(await finished.textContent());
    await control('Retomar', 'Sim, retomar', 'Em andamento');
    await expect.poll(async () => Number(await finished.textContent()), { timeout: 60_000 }).toBeGreaterThan(whilePaused);

    await page.getByRole('link', { name: 'Relatórios' }).click();
    await page.getByLabel('Relatório', { exact: true }).selectOption('calls');
    await page.getByRole('button', { name: 'Gerar relatório' }).click();
    const download = page.getByRole('link', { name: /^Baixar relatorio-chamadas/ });
    await download.waitFor({ timeout: 60_000 });
    await expectAccessible(page, 'Relatórios');
    await screenshot(page, 'relatorios');
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    const text = await streamText(await file.createReadStream());
    expect(text).toContain('Norte Dezembro');
    await page.context().close();
  });
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
