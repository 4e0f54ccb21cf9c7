import type { SimConfigPatch } from './config';
import { startAriSimulator } from './server';

/**
 * The ARI simulator as its own process: `tsx src/simulators/ari/main.ts`.
 * ARI_SIM_PORT (8088), ARI_SIM_HOST (127.0.0.1), ARI_SIM_USER / ARI_SIM_PASSWORD (omni / omni),
 * ARI_SIM_CONFIG (optional JSON, the same shape as `PUT /_sim/config`), ARI_AMD_CONTEXT (omni-amd).
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
  config: {
    // Plays AMD() for the same dialplan context the worker sends answered calls to.
    ...(process.env.ARI_AMD_CONTEXT ? { amdContext: process.env.ARI_AMD_CONTEXT } : {}),
    ...(process.env.ARI_SIM_CONFIG ? (JSON.parse(process.env.ARI_SIM_CONFIG) as SimConfigPatch) : {}),
  },
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
