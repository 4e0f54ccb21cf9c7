import { startMercadoLivreSimulator } from './server';

/**
 * The Mercado Livre simulator as its own process: ML_SIM_PORT (8090), ML_SIM_CLIENT_ID,
 * ML_SIM_CLIENT_SECRET, ML_SIM_WEBHOOK_URL (our notifications URL), ML_SIM_TOKEN_SECONDS (21600).
 */
const env = process.env;
const port = Number(env.ML_SIM_PORT ?? 8090);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`ML_SIM_PORT is not a port: ${env.ML_SIM_PORT}`);

const simulator = await startMercadoLivreSimulator({
  port,
  host: env.ML_SIM_HOST ?? '127.0.0.1',
  clientId: env.ML_SIM_CLIENT_ID || undefined,
  clientSecret: env.ML_SIM_CLIENT_SECRET || undefined,
  accessTokenSeconds: env.ML_SIM_TOKEN_SECONDS ? Number(env.ML_SIM_TOKEN_SECONDS) : undefined,
  webhook: { url: env.ML_SIM_WEBHOOK_URL || undefined },
});
console.log(
  `Mercado Livre simulator on ${simulator.url} (authorize at ${simulator.url}/authorization, ` +
    `control API under /_sim, notifications → ${simulator.webhook.settings.url ?? 'none'})`,
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`Mercado Livre simulator: ${signal}, stopping`);
  await simulator.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
