import { createAriClient, type AriClient } from '../../src/integrations/ari/client';
import type { AriEvent, OtherAriEvent } from '../../src/integrations/ari/types';
import type { SimConfigPatch } from '../../src/simulators/ari/config';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { waitFor } from './worker-process';

/** The simulator's default credentials, as a Basic header for its `/ari` and `/_sim` routes. */
export const simAuth = { authorization: `Basic ${Buffer.from('omni:omni').toString('base64')}` };

export interface SimulatorAndClient {
  sim: AriSimulator;
  client: AriClient;
  stop(): Promise<void>;
}

/**
 * An ARI simulator where every call is answered and stays up (20 s), and our ARI client on it with its
 * event stream connected, so a test can drive channels at once. `config` adds to (or overrides) that.
 */
export async function startSimulatorAndClient(
  app: string,
  config: SimConfigPatch,
  onEvent: (event: AriEvent | OtherAriEvent) => void,
): Promise<SimulatorAndClient> {
  const sim = await startAriSimulator({
    config: { ringMs: [5, 5], talkMs: [20_000, 20_000], rules: [{ match: '.', mix: [{ outcome: 'answered', weight: 1 }] }], ...config },
  });
  const client = createAriClient({
    baseUrl: sim.url,
    username: 'omni',
    password: 'omni',
    app,
    requestTimeoutMs: 2_000,
    reconnect: { minDelayMs: 10, maxDelayMs: 50 },
  });
  const stream = client.events();
  stream.on('event', onEvent);
  await waitFor(async () => stream.isConnected || undefined, 'events connected', 5_000, 10);
  return {
    sim,
    client,
    async stop() {
      await client.close();
      await sim.stop();
    },
  };
}
