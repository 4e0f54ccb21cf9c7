import { randomBytes } from 'node:crypto';
import { AnsweringMachineDetector, CallTracker, createAriClient, type AriClient } from '../../integrations/ari';

/** Where the worker reaches Asterisk (ARI_URL, ARI_USERNAME, ARI_PASSWORD, ARI_APP). */
export interface AriSettings {
  url: string;
  username: string;
  password: string;
  /** Stasis application name prefix; each worker process adds its own suffix. */
  app: string;
  /** Dialplan context that runs AMD() and returns to Stasis (integrations/ari/amd-protocol.ts). */
  amdContext?: string;
}

export interface AriSession {
  client: AriClient;
  tracker: CallTracker;
  /** Also completes the detection of calls taken over from a dead worker (lane.ts). */
  amd: AnsweringMachineDetector;
}

/**
 * One ARI client, one events WebSocket and one call tracker per worker process, shared by every
 * dialing lane it runs. Asterisk sends a Stasis app's events to one WebSocket, so each process
 * registers its own app name (`<ARI_APP>-<random>`): two workers never steal each other's events.
 */
export function createAriSessionProvider(settings: AriSettings): () => Promise<AriSession> {
  let session: Promise<AriSession> | undefined;
  return () => {
    session ??= (async () => {
      const client = createAriClient({
        baseUrl: settings.url,
        username: settings.username,
        password: settings.password,
        app: `${settings.app}-${randomBytes(4).toString('hex')}`,
        requestTimeoutMs: 5_000,
        reconnect: { minDelayMs: 50, maxDelayMs: 2_000 },
      });
      const events = client.events();
      // Listen before any originate: a call's first events can beat the HTTP answer.
      const tracker = new CallTracker(events, { getChannel: (id) => client.getChannel(id) });
      // Only acts on calls originated with detectMachine (the strategy's AMD switch).
      const amd = new AnsweringMachineDetector(events, client, tracker, { context: settings.amdContext });
      await events.ready(15_000);
      return { client, tracker, amd };
    })().catch((error) => {
      session = undefined;
      throw error;
    });
    return session;
  };
}
