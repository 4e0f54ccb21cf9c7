import { z } from 'zod';
import type { SimConfig, SimConfigPatch } from './config';
import { problem, reply, type Reply } from './http-kit';

/** What the control API can do; `startAriSimulator` provides it. */
export interface SimControls {
  config(): SimConfig;
  configure(patch: SimConfigPatch): SimConfig;
  stats(): unknown;
  reset(): void;
  dropWebSockets(): void;
  refuseConnections(ms?: number): Promise<void>;
  acceptedOriginates(channelId: string): number;
  playbacks(channelId?: string): unknown[];
  bridges(): unknown[];
}

/** A reply, and something to do once it has been sent (refusing connections cuts our own). */
export type ControlReply = Reply & { afterSent?: () => void };

/**
 * `/_sim/*`: lets tests in other processes steer the simulator.
 * GET/PUT /_sim/config, GET /_sim/stats, POST /_sim/reset, POST /_sim/drop-websockets,
 * POST /_sim/refuse-connections?ms=N, GET /_sim/originates/{channelId},
 * GET /_sim/playbacks[?channelId=] (every playback asked for, in order), GET /_sim/bridges (every
 * bridge made, live or destroyed, with each channel's entry and exit times). Agents' phones are
 * part of the config (`agents`). Keypad scripts and media
 * durations are part of the config (`keypad`, `media`, `keyDelayMs`, `interDigitMs`).
 */
export function controlRoute(sim: SimControls, method: string, url: URL, rawBody: string): ControlReply {
  const path = url.pathname.replace(/\/+$/, '');
  const is = (m: string, p: string) => method === m && path === p;

  if (is('GET', '/_sim/config')) return reply(200, sim.config());
  if (is('PUT', '/_sim/config')) {
    try {
      return reply(200, sim.configure(JSON.parse(rawBody || '{}') as SimConfigPatch));
    } catch (error) {
      const message = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
      return problem(400, message);
    }
  }
  if (is('GET', '/_sim/stats')) return reply(200, sim.stats());
  if (is('GET', '/_sim/playbacks')) return reply(200, sim.playbacks(url.searchParams.get('channelId') ?? undefined));
  if (is('GET', '/_sim/bridges')) return reply(200, sim.bridges());
  if (is('POST', '/_sim/reset')) {
    sim.reset();
    return reply(204);
  }
  if (is('POST', '/_sim/drop-websockets')) {
    sim.dropWebSockets();
    return reply(204);
  }
  if (is('POST', '/_sim/refuse-connections')) {
    const ms = Number(url.searchParams.get('ms') ?? '1000');
    if (!Number.isInteger(ms) || ms <= 0) return problem(400, 'ms must be a positive integer');
    return { ...reply(202, { refusingForMs: ms }), afterSent: () => void sim.refuseConnections(ms) };
  }
  const originates = /^\/_sim\/originates\/([^/]+)$/.exec(path);
  if (originates && method === 'GET') {
    const channelId = decodeURIComponent(originates[1]);
    return reply(200, { channelId, accepted: sim.acceptedOriginates(channelId) });
  }
  return problem(404, 'Resource not found');
}
