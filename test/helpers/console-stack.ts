import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import type { SimConfigPatch } from '../../src/simulators/ari/config';
import { launchBrowser } from './browser';
import { type DialerTestStack, startDialerTestStack } from './dialer-stack';

export interface ConsoleTestStack extends DialerTestStack {
  browser: Browser;
  /** Where the API (and so the console at /console) listens. */
  baseUrl: string;
}

/** A dialer stack whose API listens on a real port, a tenant named as a customer would be, and chromium. */
export async function startConsoleTestStack(name: string, tenantName: string, simConfig: SimConfigPatch): Promise<ConsoleTestStack> {
  const dialer = await startDialerTestStack(name, simConfig);
  const { stack, tenant } = dialer;
  await stack.database.db.updateTable('tenants').set({ name: tenantName }).where('id', '=', tenant.tenantId).execute();
  await stack.app.listen({ host: '127.0.0.1', port: 0 });
  const baseUrl = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  const browser = await launchBrowser();
  return {
    ...dialer,
    browser,
    baseUrl,
    close: async () => {
      await browser.close();
      await dialer.close();
    },
  };
}

/** The text of a file the browser downloaded, as bytes (so a BOM is still there). */
export async function streamBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/**
 * A datetime-local value (YYYY-MM-DDTHH:mm:ss) for `at` in São Paulo, the console page's time
 * zone: UTC−3 all year since daylight saving time ended in 2019.
 */
export const saoPauloLocal = (at: Date): string => new Date(at.getTime() - 3 * 3_600_000).toISOString().slice(0, 19);
