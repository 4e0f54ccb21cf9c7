import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { type BridgeRecord, BridgeSimulator, type BridgeStats } from './bridges';
import { CallSimulator, type CallStats, type DialplanContinue } from './calls';
import { defaultSimConfig, mergeConfig, type SimConfig, type SimConfigPatch, type SimFaults } from './config';
import { controlRoute, type ControlReply, type SimControls } from './control';
import { EventHub } from './event-hub';
import { isAuthorized, problem, readBody, refuseUpgrade, send } from './http-kit';
import { type PlaybackRecord, PlaybackSimulator, type PlaybackStats } from './playbacks';
import { ariRoute } from './rest';

export interface AriSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  username?: string;
  password?: string;
  /** Starting configuration, over `defaultSimConfig`. */
  config?: SimConfigPatch;
}

export interface AriSimulatorStats extends CallStats, PlaybackStats, BridgeStats {
  webSocketsConnected: number;
  eventsSent: number;
}

export interface AriSimulator {
  /** `http://host:port`, what the ARI client takes as `baseUrl`. */
  url: string;
  port: number;
  stop(): Promise<void>;
  stats(): AriSimulatorStats;
  config(): SimConfig;
  configure(patch: SimConfigPatch): SimConfig;
  setFaults(faults: Partial<SimFaults>): void;
  /** Forgets calls (no events) and counts, clears faults, reseeds; keeps the outcome mix and durations. */
  reset(): void;
  /** How many originates with this channel id were accepted (more than 1 = a duplicate call). */
  acceptedOriginates(channelId: string): number;
  /** Cuts every events WebSocket now. */
  dropWebSockets(): void;
  /** Every playback asked for (of one channel, if given), in order. */
  playbacks(channelId?: string): PlaybackRecord[];
  /** Every bridge made (live and destroyed) with who was in it and when. */
  bridges(): BridgeRecord[];
  /** Every continue into the dialplan (of one channel, if given), in order. */
  continues(channelId?: string): DialplanContinue[];
  /** Stops listening and cuts open connections; listens again after `ms`, if given. */
  refuseConnections(ms?: number): Promise<void>;
  acceptConnections(): Promise<void>;
}

const ASTERISK_ID = '02:42:ac:11:00:02';

/** An Asterisk ARI stand-in: the channel subset a dialer uses, with seedable calls and faults. */
export async function startAriSimulator(options: AriSimulatorOptions = {}): Promise<AriSimulator> {
  const host = options.host ?? '127.0.0.1';
  const username = options.username ?? 'omni';
  const password = options.password ?? 'omni';
  let config = mergeConfig(defaultSimConfig, options.config ?? {});
  const hub = new EventHub(ASTERISK_ID);
  const calls = new CallSimulator(
    () => config,
    (app, event) => hub.publish(app, event),
    (event) => hub.publishToAll(event),
  );
  const prompts = new PlaybackSimulator(calls, () => config);
  const bridges = new BridgeSimulator(calls, (app, event) => hub.publish(app, event));
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<Socket>();
  let listening = false;
  let dropTimer: NodeJS.Timeout | undefined;
  let resumeTimer: NodeJS.Timeout | undefined;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => send(res, problem(500, error.message)));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname.replace(/\/+$/, '') !== '/ari/events') return refuseUpgrade(socket, 404, 'Resource not found');
    if (!isAuthorized(req, url, username, password)) return refuseUpgrade(socket, 401, 'Authentication required');
    const apps = url.searchParams
      .getAll('app')
      .flatMap((a) => a.split(','))
      .filter(Boolean);
    if (apps.length === 0) return refuseUpgrade(socket, 400, "Missing param 'app'");
    const subscribeAll = ['true', 'yes', '1'].includes(url.searchParams.get('subscribeAll') ?? '');
    wss.handleUpgrade(req, socket, head, (ws) => hub.attach(ws, apps, subscribeAll));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    if (!isAuthorized(req, url, username, password)) {
      return send(res, problem(401, 'Authentication required'), { 'www-authenticate': 'Basic realm="Asterisk REST Interface"' });
    }
    const body = await readBody(req);
    if (url.pathname.startsWith('/ari/')) {
      const answer = ariRoute(calls, prompts, bridges, method, url, body, ASTERISK_ID);
      // Slow answers: the work is done (a call may be placed) before the late response.
      if (config.faults.responseDelayMs > 0) await sleep(config.faults.responseDelayMs);
      return send(res, answer);
    }
    if (url.pathname.startsWith('/_sim/')) {
      const answer: ControlReply = controlRoute(controls, method, url, body);
      if (answer.afterSent) res.once('finish', answer.afterSent);
      return send(res, answer);
    }
    send(res, problem(404, 'Resource not found'));
  }

  function listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  }

  function stopListening(): Promise<void> {
    if (!listening) return Promise.resolve();
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    hub.dropAll();
    for (const socket of sockets) socket.destroy();
    return closed;
  }

  function applyConfig(next: SimConfig): SimConfig {
    const reseed = next.seed !== config.seed;
    config = next;
    if (reseed) calls.reseed();
    clearInterval(dropTimer);
    dropTimer = undefined;
    if (config.faults.dropWebSocketsEveryMs > 0) {
      dropTimer = setInterval(() => hub.dropAll(), config.faults.dropWebSocketsEveryMs);
      dropTimer.unref();
    }
    return config;
  }

  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  applyConfig(config);

  const controls: SimControls & AriSimulator = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    config: () => config,
    configure: (patch) => applyConfig(mergeConfig(config, patch)),
    setFaults: (faults) => void applyConfig(mergeConfig(config, { faults })),
    stats: () => ({ ...calls.stats(), ...prompts.stats(), ...bridges.stats(), webSocketsConnected: hub.connections, eventsSent: hub.eventsSent }),
    playbacks: (channelId) => prompts.list(channelId),
    bridges: () => bridges.records(),
    continues: (channelId) => calls.dialplanContinues(channelId),
    reset() {
      calls.reset();
      prompts.reset();
      bridges.reset();
      hub.eventsSent = 0;
      applyConfig({ ...config, faults: defaultSimConfig.faults });
    },
    acceptedOriginates: (channelId) => calls.acceptedOriginates(channelId),
    dropWebSockets: () => hub.dropAll(),
    async refuseConnections(ms) {
      clearTimeout(resumeTimer);
      await stopListening();
      if (ms) {
        resumeTimer = setTimeout(() => void controls.acceptConnections(), ms);
        resumeTimer.unref();
      }
    },
    async acceptConnections() {
      clearTimeout(resumeTimer);
      if (!listening) await listen(port);
    },
    async stop() {
      clearTimeout(resumeTimer);
      clearInterval(dropTimer);
      calls.stop();
      await stopListening();
      wss.close();
    },
  };
  return controls;
}
