import type { SimConfigPatch } from './config';
import { startAriSimulator } from './server';

/**
 * The ARI simulator as its own process: `tsx src/simulators/ari/main.ts`.
 * ARI_SIM_PORT (8088), ARI_SIM_HOST (127.0.0.1), ARI_SIM_USER / ARI_SIM_PASSWORD (omni / omni),
 * ARI_SIM_CONFIG (optional JSON, the same shape as `PUT /_sim/config`).
 */
const port = Number(process.env.ARI_SIM_PORT ?? 8088);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`ARI_SIM_PORT must be a port number, got ${process.env.ARI_SIM_PORT}`);
  process.exit(2);
}

const simulator = await startAriSimulator({
  port,
  host: process.env.ARI_SIM_HOST || '127.0.0.1',
  username: process.env.ARI_SIM_USER || 'omni',
  password: process.env.ARI_SIM_PASSWORD || 'omni',
  config: process.env.ARI_SIM_CONFIG ? (JSON.parse(process.env.ARI_SIM_CONFIG) as SimConfigPatch) : undefined,
});
console.log(`ARI simulator listening on ${simulator.url} (control API under ${simulator.url}/_sim)`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`ARI simulator stopping (${signal})`);
  await simulator.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
