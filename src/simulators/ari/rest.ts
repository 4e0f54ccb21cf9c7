import type { Answer, CallSimulator, OriginateParams } from './calls';
import { problem, reply, type Reply } from './http-kit';
import type { BridgeSimulator } from './bridges';
import type { PlaybackSimulator } from './playbacks';

const originateKeys = ['endpoint', 'app', 'appArgs', 'extension', 'context', 'priority', 'callerId', 'timeout', 'channelId'] as const;

/**
 * The ARI routes the dialer uses: originate, get, list and hang up channels, play prompts and stop
 * them, bridge channels (Asterisk `rest-api/api-docs/channels.json`, `playbacks.json`, `bridges.json`).
 */
export function ariRoute(
  calls: CallSimulator,
  playbacks: PlaybackSimulator,
  bridges: BridgeSimulator,
  method: string,
  url: URL,
  rawBody: string,
  asteriskId: string,
): Reply {
  const path = url.pathname.replace(/\/+$/, '');
  if (path.startsWith('/ari/bridges')) return bridgeRoute(bridges, method, path, url);
  const play = /^\/ari\/channels\/([^/]+)\/play(?:\/([^/]+))?$/.exec(path);
  if (play) {
    if (method !== 'POST') return problem(405, 'Invalid method');
    // `media` is allowMultiple: repeated, or comma-separated.
    const media = url.searchParams
      .getAll('media')
      .flatMap((m) => m.split(','))
      .filter(Boolean);
    return answer(playbacks.play(decodeURIComponent(play[1] as string), play[2] === undefined ? undefined : decodeURIComponent(play[2]), media));
  }
  const playback = /^\/ari\/playbacks\/([^/]+)$/.exec(path);
  if (playback) {
    const id = decodeURIComponent(playback[1] as string);
    if (method === 'GET') return answer(playbacks.get(id));
    if (method === 'DELETE') return answer(playbacks.stop(id));
    return problem(405, 'Invalid method');
  }
  if (path === '/ari/channels') {
    if (method === 'GET') return reply(200, calls.list());
    if (method === 'POST') return originate(calls, url, rawBody, undefined);
    return problem(405, 'Invalid method');
  }
  const one = /^\/ari\/channels\/([^/]+)$/.exec(path);
  if (one) {
    const channelId = decodeURIComponent(one[1]);
    if (method === 'GET') return answer(calls.get(channelId));
    if (method === 'POST') return originate(calls, url, rawBody, channelId);
    if (method === 'DELETE') {
      return answer(calls.hangup(channelId, url.searchParams.get('reason') ?? undefined, url.searchParams.get('reason_code') ?? undefined));
    }
    return problem(405, 'Invalid method');
  }
  const sub = /^\/ari\/channels\/([^/]+)\/(continue|variable)$/.exec(path);
  if (sub) {
    const channelId = decodeURIComponent(sub[1]);
    const q = (name: string) => url.searchParams.get(name) ?? undefined;
    if (sub[2] === 'continue' && method === 'POST') return answer(calls.continueInDialplan(channelId, q('context'), q('extension'), q('priority')));
    if (sub[2] === 'variable' && method === 'GET') return answer(calls.getVariable(channelId, q('variable')));
    return problem(405, 'Invalid method');
  }
  const subscription = /^\/ari\/applications\/([^/]+)\/subscription$/.exec(path);
  if (subscription && method === 'POST') return subscribe(calls, decodeURIComponent(subscription[1] as string), url.searchParams.get('eventSource'));
  if (path === '/ari/asterisk/ping' && method === 'GET') {
    return reply(200, { asterisk_id: asteriskId, ping: 'pong', timestamp: new Date().toISOString() });
  }
  return problem(404, 'Resource not found');
}

function bridgeRoute(bridges: BridgeSimulator, method: string, path: string, url: URL): Reply {
  const q = (name: string) => url.searchParams.get(name) ?? undefined;
  if (path === '/ari/bridges') {
    if (method === 'GET') return reply(200, bridges.list());
    if (method === 'POST') return answer(bridges.create(q('bridgeId'), q('type'), q('name'), false));
    return problem(405, 'Invalid method');
  }
  const one = /^\/ari\/bridges\/([^/]+)$/.exec(path);
  if (one) {
    const id = decodeURIComponent(one[1] as string);
    if (method === 'GET') return answer(bridges.get(id));
    if (method === 'POST') return answer(bridges.create(id, q('type'), q('name'), true));
    if (method === 'DELETE') return answer(bridges.destroy(id));
    return problem(405, 'Invalid method');
  }
  const member = /^\/ari\/bridges\/([^/]+)\/(addChannel|removeChannel)$/.exec(path);
  if (member) {
    if (method !== 'POST') return problem(405, 'Invalid method');
    const id = decodeURIComponent(member[1] as string);
    // `channel` is allowMultiple: repeated, or comma-separated.
    const channels = url.searchParams
      .getAll('channel')
      .flatMap((c) => c.split(','))
      .filter(Boolean);
    return answer(member[2] === 'addChannel' ? bridges.addChannels(id, channels) : bridges.removeChannels(id, channels));
  }
  return problem(404, 'Resource not found');
}

/** Query parameters, plus the JSON body: `variables`, and any other key read as a parameter. */
function originate(calls: CallSimulator, url: URL, rawBody: string, pathChannelId: string | undefined): Reply {
  let body: Record<string, unknown> = {};
  if (rawBody.trim() !== '') {
    try {
      body = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      return problem(400, 'Request body is not valid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return problem(400, 'Request body must be a JSON object');
    }
  }
  const params: OriginateParams = {};
  for (const key of originateKeys) {
    const value = url.searchParams.get(key) ?? body[key];
    if (value !== undefined && value !== null) params[key] = String(value);
  }
  if (pathChannelId !== undefined) params.channelId = pathChannelId;
  if (body.variables !== undefined) {
    const variables = body.variables;
    if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
      return problem(400, 'variables must be an object');
    }
    params.variables = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)]));
  }
  return answer(calls.originate(params));
}

/** Only `channel:{id}` sources are simulated; answers the Application as Asterisk does. */
function subscribe(calls: CallSimulator, app: string, eventSource: string | null): Reply {
  if (!eventSource) return problem(400, 'Missing parameter eventSource');
  const ids: string[] = [];
  for (const source of eventSource.split(',')) {
    const channel = /^channel:(.+)$/.exec(source);
    if (!channel) return problem(400, `Invalid event source URI scheme: ${source}`);
    const done = calls.subscribe(app, channel[1] as string);
    if ('message' in done) return problem(done.status, done.message);
    ids.push(channel[1] as string);
  }
  return reply(200, { name: app, channel_ids: ids, bridge_ids: [], endpoint_ids: [], device_names: [], events_allowed: [], events_disallowed: [] });
}

function answer(result: Answer<unknown>): Reply {
  return 'message' in result ? problem(result.status, result.message) : reply(result.status, result.body);
}
