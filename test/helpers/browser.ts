import { mkdirSync } from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import { createUser } from '../../src/db/accounts';
import type { Database } from '../../src/db/schema';
import { hashPassword } from '../../src/db/sessions';

/** Debian's chromium (`.ci/run` installs it when missing); playwright-core drives it, no browser download. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--lang=pt-BR'] });

/** The supervisor's screen: 1366×768, Brazilian locale and time zone. */
export const newConsolePage = async (browser: Browser, baseUrl: string): Promise<Page> => {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1366, height: 768 }, locale: 'pt-BR', timezoneId: 'America/Sao_Paulo' });
  return context.newPage();
};

/** axe-core's WCAG A/AA rules on the page as it is; any violation fails with its rule and nodes. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  await page.addScriptTag({ content: axe.source });
  // Runs in the page (the test's tsconfig has no DOM types): the script tag put `axe` on the window.
  const result = await page.evaluate(() =>
    (globalThis as unknown as { axe: typeof axe }).axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  const violations = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(violations, `accessibility of ${screen}`).toEqual([]);
}

const shots = path.resolve(import.meta.dirname, '../../docs/screenshots');

/** Screenshots for the README and the issue note, taken as the tests pass. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

/** A person of the tenant who signs in to the console with this password (set directly, as an accepted invite would). */
export async function createConsoleUser(db: Kysely<Database>, tenantId: string, person: { name: string; email: string; password: string }): Promise<void> {
  const user = await createUser(db, { tenantId, name: person.name, email: person.email, role: 'supervisor' });
  await db
    .updateTable('users')
    .set({ password_hash: await hashPassword(person.password) })
    .where('id', '=', user.id)
    .execute();
}

/** A new page at 1366×768, signed in through the console's own form, on Grupos de Contatos. */
export async function signedInPage(browser: Browser, baseUrl: string, email: string, password: string): Promise<Page> {
  const page = await newConsolePage(browser, baseUrl);
  await page.goto('/console/');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Senha').fill(password);
  await page.getByRole('button', { name: 'Entrar' }).click();
  await page.getByRole('heading', { name: 'Grupos de Contatos' }).waitFor();
  return page;
}
