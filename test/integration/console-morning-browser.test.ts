import path from 'node:path';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer } from '../helpers/app';
import { expectAccessible, newConsolePage, screenshot, signedInPage } from '../helpers/browser';
import { type ConsoleTestStack, saoPauloLocal, startConsoleTestStack, streamBytes } from '../helpers/console-stack';

/**
 * Issue 16's "Done when", as a supervisor's morning: invited by the admin, she has never seen the
 * API. She imports the contact file she keeps in Excel (Windows-1252, `;`, CRLF, accented
 * Portuguese headers, phones written every way Brazilians write them, a few bad rows) without
 * touching it, schedules a campaign, watches it start by itself, pauses and resumes it from
 * Monitoramento, and downloads the calls report.
 */
const heldFile = path.resolve(import.meta.dirname, '../fixtures/contacts/planilha-supervisora.csv');

let c: ConsoleTestStack;
beforeAll(async () => {
  // Calls ring and talk for a while, so the campaign is still dialling when it is paused.
  c = await startConsoleTestStack('console-morning', 'Cobrança Paulista', {
    seed: 11,
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
}, 60_000);
afterAll(async () => {
  await c?.close();
});

/** The admin's part (API): a supervisor user and her invite link, sent to her by e-mail. */
async function inviteSupervisor(email: string): Promise<string> {
  const created = await c.stack.app.inject({
    method: 'POST',
    url: '/v1/users',
    headers: bearer(c.tenant.adminKey),
    payload: { name: 'Célia Supervisora', email, role: 'supervisor' },
  });
  expect(created.statusCode, created.body).toBe(201);
  const invite = await c.stack.app.inject({ method: 'POST', url: `/v1/users/${created.json().id}/invites`, headers: bearer(c.tenant.adminKey) });
  return new URL(invite.json().inviteUrl).hash;
}

async function acceptInvite(hash: string, password: string) {
  const page = await newConsolePage(c.browser, c.baseUrl);
  await page.goto(`/console/${hash}`);
  await page.getByLabel('Nova senha (mínimo 10 caracteres)').fill(password);
  await page.getByLabel('Repita a senha').fill(password);
  await expectAccessible(page, 'Convite');
  await page.getByRole('button', { name: 'Aceitar convite e entrar' }).click();
  await page.getByText('Célia Supervisora · Cobrança Paulista').waitFor();
  await page.context().close();
}

async function importHeldFile(page: Page) {
  await page.getByRole('button', { name: 'Novo grupo (importar CSV)' }).click();
  await expect.poll(() => page.getByRole('link', { name: 'Baixar modelo (CSV)' }).getAttribute('href')).toBe('/v1/contact-groups/template.csv');
  await page.getByLabel('Nome do grupo').fill('Carteira Dezembro');
  await page.getByLabel('Arquivo CSV').setInputFiles(heldFile);
  await page.getByRole('button', { name: 'Importar', exact: true }).click();
  await expect.poll(() => page.getByTestId('rows-imported').textContent(), { timeout: 30_000 }).toBe('40');
  await expect.poll(() => page.getByTestId('rows-rejected').textContent()).toBe('4');
  const rejected = page.getByRole('table', { name: 'Linhas rejeitadas e motivos' });
  await expect.poll(() => rejected.locator('tbody tr').count(), { timeout: 10_000 }).toBe(4);
  const reasons = await rejected.textContent();
  for (const why of ['O nome é obrigatório', 'O DDD 20 não existe', 'notação científica', 'Nenhum telefone preenchido']) expect(reasons).toContain(why);
  await expect.poll(() => page.getByRole('table', { name: 'Grupos de contatos' }).textContent()).toContain('Carteira Dezembro');
  await expectAccessible(page, 'Grupos de Contatos com importação');
  await screenshot(page, 'grupos-importacao');
}

/** Around the clock (the test runs whenever it runs); busy lines retried at once, no answer ends the contact. */
async function createStrategy(page: Page) {
  await page.getByRole('link', { name: 'Estratégias' }).click();
  await page.getByRole('button', { name: 'Nova estratégia' }).click();
  await page.getByLabel('Nome', { exact: true }).fill('Cobrança manhã');
  await page.getByLabel('Horário de discagem: das').fill('00:00');
  await page.getByLabel('às', { exact: true }).fill('23:59');
  for (const day of ['Dom', 'Seg', 'Ter', 'Qua', 'Qui', 'Sex', 'Sáb']) await page.getByLabel(day, { exact: true }).check();
  await page.getByLabel('Não discar em feriados nacionais').uncheck();
  await page.getByLabel('Canais simultâneos').fill('2');
  await page.getByLabel('Chamadas por segundo').fill('1');
  await page.getByLabel('Minutos até nova tentativa para Ocupado').fill('0');
  await page.getByLabel('Ação para Não atende').selectOption('finish');
  await page.getByRole('button', { name: 'Salvar estratégia' }).click();
  await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Cobrança manhã');
}

/** A campaign whose start is a few seconds ahead, set through the form's schedule field. */
async function scheduleCampaign(page: Page): Promise<string> {
  await page.getByRole('link', { name: 'Campanhas' }).click();
  await page.getByRole('button', { name: 'Nova campanha' }).click();
  await page.getByLabel('Nome', { exact: true }).fill('Dezembro manhã');
  await page.getByLabel('Grupo de contatos').selectOption({ label: 'Carteira Dezembro (40 contatos)' });
  await page.getByLabel('Estratégia').selectOption({ label: 'Cobrança manhã' });
  await page.getByLabel('Início agendado (opcional)').fill(saoPauloLocal(new Date(Date.now() + 10_000)));
  await expectAccessible(page, 'Nova campanha');
  await page.getByRole('button', { name: 'Criar campanha' }).click();
  await page.getByRole('heading', { name: 'Monitoramento: Dezembro manhã' }).waitFor();
  return new URL(page.url()).hash.split('/').pop() as string;
}

async function control(page: Page, button: string, confirm: string, expected: string) {
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.getByRole('dialog').waitFor();
  await page.getByRole('button', { name: confirm }).click();
  await expect.poll(() => page.getByTestId('campaign-status').textContent(), { timeout: 30_000 }).toBe(expected);
}

async function downloadCallsReport(page: Page): Promise<string[]> {
  await page.getByRole('link', { name: 'Relatórios' }).click();
  await page.getByLabel('Relatório', { exact: true }).selectOption('calls');
  await page.getByLabel('Campanha do Discador').selectOption({ label: 'Dezembro manhã' });
  await page.getByRole('button', { name: 'Gerar relatório' }).click();
  const link = page.getByRole('link', { name: /^Baixar relatorio-chamadas/ });
  await link.waitFor({ timeout: 60_000 });
  await expectAccessible(page, 'Relatórios');
  await screenshot(page, 'relatorios');
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const bytes = await streamBytes(await file.createReadStream());
  expect([...bytes.subarray(0, 3)], 'UTF-8 BOM, so Excel shows the accents').toEqual([0xef, 0xbb, 0xbf]);
  return bytes.subarray(3).toString('utf8').split('\r\n').filter(Boolean);
}

it('a supervisor who never saw the API imports her file as it is, schedules a campaign, pauses and resumes it, and downloads the calls report', async () => {
  const email = `celia-${Date.now()}@cobranca.test`;
  const password = 'bom-dia-supervisora';
  await acceptInvite(await inviteSupervisor(email), password);

  const page = await signedInPage(c.browser, c.baseUrl, email, password);
  await importHeldFile(page);
  await createStrategy(page);
  const campaignId = await scheduleCampaign(page);

  const status = page.getByTestId('campaign-status');
  await expect.poll(() => status.textContent()).toBe('Agendada');
  expect(await page.getByTestId('scheduled-start').textContent()).toMatch(/Início agendado: \d{2}\/\d{2}\/\d{4}/);
  await expectAccessible(page, 'Monitoramento agendado');
  await screenshot(page, 'campanha-agendada');
  // Nobody presses Iniciar: the schedule starts it.
  await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe('Em andamento');
  const finished = page.locator('.card', { hasText: 'Finalizados' }).locator('.value');
  await expect.poll(async () => Number(await finished.textContent()), { timeout: 60_000 }).toBeGreaterThan(0);
  await screenshot(page, 'monitoramento');

  await control(page, 'Pausar', 'Sim, pausar', 'Pausada');
  await expectAccessible(page, 'Monitoramento pausado');
  await screenshot(page, 'monitoramento-pausado');
  const whilePaused = Number(await finished.textContent());
  expect(whilePaused).toBeLessThan(40);
  await control(page, 'Retomar', 'Sim, retomar', 'Em andamento');
  await expect.poll(async () => Number(await finished.textContent()), { timeout: 60_000 }).toBeGreaterThan(whilePaused);
  await expect.poll(() => status.textContent(), { timeout: 120_000 }).toBe('Concluído');

  const [header, ...rows] = await downloadCallsReport(page);
  expect(header.split(';').slice(0, 9)).toEqual([
    'quando',
    'campanha',
    'campanha_id',
    'contato_id',
    'contato',
    'telefone',
    'tentativa',
    'discagem',
    'resultado',
  ]);
  const { rows: calls } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM dial_attempts WHERE campaign_id = ${campaignId}`.execute(c.stack.database.db);
  expect(rows).toHaveLength(calls[0].n);
  expect(rows.length).toBeGreaterThanOrEqual(40);
  expect(rows.every((r) => r.split(';')[1] === 'Dezembro manhã')).toBe(true);
  // The file's Windows-1252 accents and its national phones came through without a hand fix.
  const ana = rows.find((r) => r.includes('Ana Beatriz Conceição'));
  expect(ana?.split(';')[5]).toMatch(/^(5511987650000|551135601000)$/);
  await page.context().close();
}, 300_000);
