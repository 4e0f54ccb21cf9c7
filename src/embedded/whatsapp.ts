import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Config } from '../config';
import type { Database } from '../db/schema';
import { createSecretBox, generateSecretsKey, parseSecretsKey } from '../db/secrets';
import { templatePlaceholders } from '../integrations/whatsapp/templates';
import { seedTemplates } from '../simulators/whatsapp/seed-templates';
import { runManaged, type ManagedProcess } from './child-process';

const SIM_TOKEN = 'sim-access-token';
const SIM_SECRET = 'sim-app-secret';
const SIM_PHONE_NUMBER_ID = '106540352242922';
const SIM_WABA_ID = '102290129340398';

/** SECRETS_KEY for the embedded stack: the configured one, or one generated once and kept in DATA_DIR. */
export function ensureSecretsKey(config: Config, dataDir: string): string {
  if (config.SECRETS_KEY) return config.SECRETS_KEY;
  const file = join(dataDir, 'secrets.key');
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    parseSecretsKey(key);
    return key;
  }
  const key = generateSecretsKey();
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return key;
}

/**
 * With no real WhatsApp configured (WHATSAPP_GRAPH_URL unset), `npm start` runs the Cloud API
 * simulator and gives the first tenant a channel on it (with the simulator's templates), so a
 * broadcast can be tried end to end: the simulator's status webhooks come back to our API.
 */
export async function prepareEmbeddedWhatsApp(db: Kysely<Database>, config: Config, dataDir: string, say: (line: string) => void) {
  const secretsKey = ensureSecretsKey(config, dataDir);
  const env: Record<string, string> = { SECRETS_KEY: secretsKey };
  if (config.WHATSAPP_GRAPH_URL) return { env, start: (): ManagedProcess[] => [] };

  const port = Number(process.env.WA_SIM_PORT ?? 8089);
  env.WHATSAPP_GRAPH_URL = `http://127.0.0.1:${port}`;
  const tenant = await db.selectFrom('tenants').select(['id', 'name']).orderBy('created_at').limit(1).executeTakeFirst();
  let webhookUrl: string | undefined;
  if (tenant) {
    const box = createSecretBox(secretsKey);
    let channel = await db
      .selectFrom('whatsapp_channels')
      .select('id')
      .where('tenant_id', '=', tenant.id)
      .where('phone_number_id', '=', SIM_PHONE_NUMBER_ID)
      .executeTakeFirst();
    if (!channel) {
      channel = await db
        .insertInto('whatsapp_channels')
        .values({
          tenant_id: tenant.id,
          name: 'Simulador WhatsApp',
          phone_number_id: SIM_PHONE_NUMBER_ID,
          waba_id: SIM_WABA_ID,
          display_number: '551140040000',
          access_token_enc: box.seal(SIM_TOKEN),
          app_secret_enc: box.seal(SIM_SECRET),
          verify_token: randomBytes(18).toString('base64url'),
          mps_limit: 80,
          templates_synced_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const t of seedTemplates) {
        const template = { components: t.components ?? [], parameter_format: t.parameter_format };
        await db
          .insertInto('whatsapp_templates')
          .values({
            channel_id: channel.id,
            name: String(t.name),
            language: String(t.language),
            meta_id: String(t.id ?? ''),
            status: String(t.status ?? 'APPROVED'),
            category: String(t.category ?? 'UTILITY'),
            quality: t.quality_score?.score ?? null,
            parameter_format: t.parameter_format ?? 'POSITIONAL',
            components: JSON.stringify(template.components),
            placeholders: templatePlaceholders(template as never),
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      say(`created the WhatsApp channel "Simulador WhatsApp" (${channel.id}) for "${tenant.name}", on the simulator`);
    }
    webhookUrl = `http://127.0.0.1:${config.API_PORT}/v1/webhooks/whatsapp/${channel.id}`;
  }
  const simEnv = {
    WA_SIM_PORT: String(port),
    WA_SIM_ACCESS_TOKEN: SIM_TOKEN,
    WA_SIM_APP_SECRET: SIM_SECRET,
    ...(webhookUrl ? { WA_SIM_WEBHOOK_URL: webhookUrl } : {}),
  };
  return {
    env,
    start: (base: NodeJS.ProcessEnv): ManagedProcess[] => {
      say(`WhatsApp Cloud API simulator on ${env.WHATSAPP_GRAPH_URL} (control API under /_sim; webhooks → ${webhookUrl ?? 'none'})`);
      return [runManaged('whatsapp-sim', 'src/simulators/whatsapp/main.ts', { ...base, ...simEnv }, say)];
    },
  };
}
