import { AMD_APP_VARIABLE, AMD_START_ARG } from './amd-protocol';
import { ariBridges, type AriBridges } from './bridges';
import { AriError } from './errors';
import { AriEventStream, type AriEventStreamOptions } from './events';
import { createAriHttp, type AriHttpOptions } from './http';
import { parseChannel } from './parse';
import { ariPrompts, type AriPrompts } from './prompts';
import type { Channel, HangupReason } from './types';

export interface AriClientOptions extends AriHttpOptions, AriEventStreamOptions {
  /** Our Stasis application: originated channels report to it; the WebSocket subscribes to it. */
  app: string;
  /**
   * `subscribeAll=true` on the events WebSocket: the application receives every Asterisk event,
   * not only those of its own channels (the event recorder listens this way).
   */
  subscribeAll?: boolean;
}

export interface OriginateRequest {
  /** e.g. `PJSIP/5548998288774@trunk`. */
  endpoint: string;
  /** e.g. `"Omni" <03033334444>` or just the number. */
  callerId: string;
  /** Ring timeout; -1 for none. */
  timeoutSec: number;
  /** Our attempt key: Asterisk refuses a second live channel with it (HTTP 409). */
  channelId: string;
  variables?: Record<string, string>;
  appArgs?: string;
  /**
   * Answering-machine detection: the answered call enters our app with the argument `amd`, which
   * the AnsweringMachineDetector sends through the dialplan's `AMD()` (see amd.ts).
   */
  detectMachine?: boolean;
}

export type OriginateResult = { status: 'placed'; channel: Channel } | { status: 'already_exists' };

export interface AriClient extends AriPrompts, AriBridges {
  readonly app: string;
  originate(request: OriginateRequest): Promise<OriginateResult>;
  /** The live channel, or undefined once Asterisk no longer knows it (hung up and destroyed). */
  getChannel(channelId: string): Promise<Channel | undefined>;
  listChannels(): Promise<Channel[]>;
  /** Leaves Stasis for the dialplan; false when the channel is gone or not in Stasis. */
  continueInDialplan(channelId: string, target: { context: string; extension?: string; priority?: number }): Promise<boolean>;
  /** A channel variable (e.g. AMDSTATUS), or undefined when the channel or the variable is not there. */
  getVariable(channelId: string, variable: string): Promise<string | undefined>;
  /**
   * Subscribes our application to a channel's events (`POST /ari/applications/{app}/subscription`):
   * a worker taking over another's call then hears its keys and playbacks. False when the channel is gone.
   */
  subscribeToChannel(channelId: string): Promise<boolean>;
  /** True when Asterisk hung the channel up, false when it was already gone. */
  hangup(channelId: string, reason?: HangupReason): Promise<boolean>;
  /** The application's event stream; one per client, opened on first use. */
  events(): AriEventStream;
  close(): Promise<void>;
}

/**
 * Client for the ARI subset a dialer needs (shared/ari-contract.md). It does not retry: errors
 * carry `retryable` and the caller's retry policy (Temporal's) decides.
 */
export function createAriClient(options: AriClientOptions): AriClient {
  const http = createAriHttp(options);
  let stream: AriEventStream | undefined;
  const channelPath = (id: string) => `/ari/channels/${encodeURIComponent(id)}`;

  function failure(operation: string, status: number, body: string): AriError {
    return AriError.fromStatus(operation, status, body);
  }

  function channelFrom(operation: string, body: string): Channel {
    try {
      return parseChannel(JSON.parse(body));
    } catch (error) {
      throw new AriError(`ARI ${operation}: unreadable channel in response`, 200, false, 'BAD_RESPONSE', { cause: error });
    }
  }

  return {
    app: options.app,
    ...ariPrompts(http.request),
    ...ariBridges(http.request),

    async originate(request) {
      // The AMD dialplan returns the call to `Stasis(${OMNI_APP},amd-done)`: it needs our app's name.
      const variables = request.detectMachine ? { ...request.variables, [AMD_APP_VARIABLE]: options.app } : request.variables;
      const { status, body } = await http.request(
        'originate',
        'POST',
        '/ari/channels',
        {
          endpoint: request.endpoint,
          app: options.app,
          appArgs: request.detectMachine ? AMD_START_ARG : request.appArgs,
          callerId: request.callerId,
          timeout: request.timeoutSec,
          channelId: request.channelId,
        },
        variables ? { variables } : undefined,
      );
      if (status === 200) return { status: 'placed', channel: channelFrom('originate', body) };
      // The channel id is taken by a live channel: our earlier request got through. Never re-place it.
      if (status === 409) return { status: 'already_exists' };
      throw failure('originate', status, body);
    },

    async getChannel(channelId) {
      const { status, body } = await http.request('get channel', 'GET', channelPath(channelId));
      if (status === 200) return channelFrom('get channel', body);
      if (status === 404) return undefined;
      throw failure('get channel', status, body);
    },

    async listChannels() {
      const { status, body } = await http.request('list channels', 'GET', '/ari/channels');
      if (status !== 200) throw failure('list channels', status, body);
      const raw = JSON.parse(body) as unknown[];
      return raw.map((item) => parseChannel(item));
    },

    async continueInDialplan(channelId, target) {
      const { status, body } = await http.request('continue', 'POST', `${channelPath(channelId)}/continue`, {
        context: target.context,
        extension: target.extension ?? 's',
        priority: target.priority ?? 1,
      });
      if (status === 204 || status === 200) return true;
      if (status === 404 || status === 409) return false;
      throw failure('continue', status, body);
    },

    async getVariable(channelId, variable) {
      const { status, body } = await http.request('get variable', 'GET', `${channelPath(channelId)}/variable`, { variable });
      if (status === 200) {
        const value = (JSON.parse(body) as { value?: unknown }).value;
        return typeof value === 'string' ? value : undefined;
      }
      if (status === 404 || status === 409) return undefined;
      throw failure('get variable', status, body);
    },

    async subscribeToChannel(channelId) {
      const path = `/ari/applications/${encodeURIComponent(options.app)}/subscription`;
      const { status, body } = await http.request('subscribe', 'POST', path, { eventSource: `channel:${channelId}` });
      if (status === 200) return true;
      if (status === 404 || status === 422) return false;
      throw failure('subscribe', status, body);
    },

    async hangup(channelId, reason) {
      const { status, body } = await http.request('hangup', 'DELETE', channelPath(channelId), { reason });
      if (status === 204 || status === 200) return true;
      if (status === 404) return false;
      throw failure('hangup', status, body);
    },

    events() {
      if (!stream) {
        const url = new URL(`${http.root.replace(/^http/, 'ws')}/ari/events`);
        url.searchParams.set('app', options.app);
        if (options.subscribeAll) url.searchParams.set('subscribeAll', 'true');
        url.searchParams.set('api_key', `${options.username}:${options.password}`);
        stream = new AriEventStream(url.toString(), options);
      }
      return stream;
    },

    async close() {
      await stream?.close();
      await http.close();
    },
  };
}
