import { seedTemplates } from './seed-templates';
import { startWhatsAppSimulator } from './server';

/**
 * The WhatsApp Cloud API simulator as its own process:
 * WA_SIM_PORT (8089), WA_SIM_ACCESS_TOKEN, WA_SIM_APP_SECRET, WA_SIM_WEBHOOK_URL, WA_SIM_MPS (80).
 */
const env = process.env;
const port = Number(env.WA_SIM_PORT ?? 8089);
const mps = Number(env.WA_SIM_MPS ?? 80);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`WA_SIM_PORT is not a port: ${env.WA_SIM_PORT}`);
if (!(mps > 0)) throw new Error(`WA_SIM_MPS must be a positive number: ${env.WA_SIM_MPS}`);

const simulator = await startWhatsAppSimulator({
  port,
  host: env.WA_SIM_HOST ?? '127.0.0.1',
  accessToken: env.WA_SIM_ACCESS_TOKEN || undefined,
  appSecret: env.WA_SIM_APP_SECRET || undefined,
  webhookUrl: env.WA_SIM_WEBHOOK_URL || undefined,
  mps,
  templates: seedTemplates,
});

const { webhook, wabaId } = simulator.config();
console.log(`WhatsApp Cloud API simulator on ${simulator.url} (WABA ${wabaId}, ${mps} msg/s, webhooks → ${webhook.url ?? 'none'})`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`WhatsApp simulator: ${signal}, stopping`);
  await simulator.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
