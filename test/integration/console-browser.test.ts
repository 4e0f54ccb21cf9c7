import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../src/db/accounts';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import { createConsoleUser, expectAccessible, newConsolePage, screenshot, signedInPage as signedIn } from '../helpers/browser';
import { type ConsoleTestStack, startConsoleTestStack } from '../helpers/console-stack';
import { fastStrategy, importDialerGroup, phoneOf } from '../helpers/dialer';

// The supervisor's whole morning (invite, the held file, a scheduled campaign, pause/resume, the
// calls report) is console-morning-browser.test.ts; these are the screens' other cases.
let c: ConsoleTestStack;
let stack: TestStack;
let tenant: TestTenant;
let browser: Browser;
let baseUrl: string;
const password = 'supervisora-2026';
let email: string;

beforeAll(async () => {
  c = await startConsoleTestStack('console-browser', 'Central Floripa', { seed: 7, rules: [{ match: '.', mix: [{ outcome: 'answered', weight: 1 }] }] });
  ({ stack, tenant, browser, baseUrl } = c);
  email = `ana-${Date.now()}@floripa.test`;
  await createConsoleUser(stack.database.db, tenant.tenantId, { name: 'Ana Supervisora', email, password });
}, 60_000);
afterAll(async () => {
  await c?.close();
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

  it('shows the agents panel on Monitoramento once the campaign has agents, and none without', async () => {
    await importDialerGroup(stack, tenant, 'Carteira Agentes', [[phoneOf(1, 5)]]);
    const strategy = await c.api('POST', '/v1/dialer/strategies', fastStrategy('Com agentes'));
    const agents = [];
    for (const n of [1, 2]) {
      const res = await c.api('POST', '/v1/agents', {
        name: `Agente ${n}`,
        email: `agente${n}-${Date.now()}@floripa.test`,
        sipEndpoint: `PJSIP/ramal-${200 + n}`,
      });
      expect(res.statusCode, res.body).toBe(201);
      agents.push(res.json());
    }
    const page = await signedInPage();
    await page.getByRole('link', { name: 'Campanhas' }).click();
    await page.getByRole('button', { name: 'Nova campanha' }).click();
    await page.getByLabel('Nome', { exact: true }).fill('Receptivo Sul');
    await page.getByLabel('Grupo de contatos').selectOption({ label: 'Carteira Agentes (1 contatos)' });
    await page.getByLabel('Estratégia').selectOption({ label: 'Com agentes' });
    for (const a of agents) await page.getByLabel(a.name, { exact: true }).check();
    await page.getByRole('button', { name: 'Criar campanha' }).click();
    await page.getByRole('heading', { name: 'Monitoramento: Receptivo Sul' }).waitFor();
    const campaignId = new URL(page.url()).hash.split('/').pop();
    const assigned = (await c.api('GET', `/v1/agents?campaignId=${campaignId}`)).json().items.map((a: { id: string }) => a.id);
    expect(assigned.sort()).toEqual(agents.map((a) => a.id).sort());
    // Agente 1 logs in from the agent desktop (its own key); Agente 2 stays offline.
    const key = await issueApiKey(stack.database.db, { tenantId: tenant.tenantId, userId: agents[0].userId, name: 'desktop' });
    const login = await stack.app.inject({ method: 'POST', url: '/v1/agents/me/state', headers: bearer(key.key), payload: { state: 'available' } });
    expect(login.statusCode, login.body).toBe(200);

    const byState = page.getByRole('table', { name: 'Agentes por estado' });
    await byState.waitFor({ timeout: 15_000 });
    const counts = async () => {
      const heads = await byState.locator('th').allTextContents();
      const values = await byState.locator('td').allTextContents();
      return Object.fromEntries(heads.map((h, i) => [h, values[i]]));
    };
    await expect.poll(counts, { timeout: 10_000 }).toMatchObject({ Disponíveis: '1', Deslogados: '1', 'Em ligação': '0' });
    const panel = page.getByRole('region', { name: 'Agentes' });
    for (const name of ['Em espera', 'Maior espera', 'Nível de discagem', 'Ocupação', 'TMA/ASA']) await panel.locator('.card', { hasText: name }).waitFor();
    expect(await page.getByRole('table', { name: 'Taxa de abandono' }).textContent()).toMatch(/1 min.*15 min.*Hoje.*Campanha/);
    await expectAccessible(page, 'Monitoramento com agentes');
    await screenshot(page, 'monitoramento-agentes');

    const without = await c.api('POST', '/v1/dialer/campaigns', {
      name: 'Sem agentes',
      groupId: await importDialerGroup(stack, tenant, 'Carteira Solo', [[phoneOf(2, 5)]]),
      strategyId: strategy.json().id,
    });
    await page.goto(`/console/#/campanhas/${without.json().id}`);
    await page.getByRole('heading', { name: 'Monitoramento: Sem agentes' }).waitFor();
    await page.locator('.card', { hasText: 'Contatos pendentes' }).waitFor();
    expect(await page.getByRole('region', { name: 'Agentes' }).count()).toBe(0);
    await page.context().close();
  });
});
