import { AriError } from './errors';
import type { AriResponse, Query } from './http';
import { parseBridge } from './parse';
import type { Bridge } from './types';

type Request = (operation: string, method: 'GET' | 'POST' | 'DELETE', path: string, query?: Query) => Promise<AriResponse>;

/** What adding channels to a bridge came to (Asterisk `bridges.json`, addChannel). */
export type AddToBridgeResult =
  | 'added'
  /** 404: the bridge does not exist (destroyed). */
  | 'bridge_gone'
  /** 400: a channel does not exist (hung up). */
  | 'channel_gone'
  /** 422: a channel is not in a Stasis application. */
  | 'not_in_stasis'
  /** 409: a channel is in another bridge. */
  | 'in_other_bridge';

export type RemoveFromBridgeResult = 'removed' | 'bridge_gone' | 'channel_gone' | 'not_in_bridge';

export interface AriBridges {
  /**
   * A mixing bridge under our own id (`POST /ari/bridges/{bridgeId}`: creates it, or answers the one
   * already there), so a retried request or another worker never makes a second bridge for a call.
   */
  createBridge(bridgeId: string, options?: { type?: 'mixing' | 'holding'; name?: string }): Promise<Bridge>;
  /** The bridge, or undefined once it was destroyed. */
  getBridge(bridgeId: string): Promise<Bridge | undefined>;
  /** True when destroyed now, false when it was already gone. Its channels leave it, they are not hung up. */
  destroyBridge(bridgeId: string): Promise<boolean>;
  /** Joins channels to the bridge; one already in it stays (a repeat is harmless). */
  addToBridge(bridgeId: string, channelIds: string[]): Promise<AddToBridgeResult>;
  removeFromBridge(bridgeId: string, channelIds: string[]): Promise<RemoveFromBridgeResult>;
}

/** The Bridges part of ARI (shared/ari-contract.md, "Connecting an answered call"), over the client's HTTP. */
export function ariBridges(request: Request): AriBridges {
  const path = (id: string) => `/ari/bridges/${encodeURIComponent(id)}`;
  const bridgeFrom = (operation: string, body: string) => {
    try {
      return parseBridge(JSON.parse(body));
    } catch (error) {
      throw new AriError(`ARI ${operation}: unreadable bridge in response`, 200, false, 'BAD_RESPONSE', { cause: error });
    }
  };
  return {
    async createBridge(bridgeId, options = {}) {
      const { status, body } = await request('create bridge', 'POST', path(bridgeId), { type: options.type ?? 'mixing', name: options.name });
      if (status === 200) return bridgeFrom('create bridge', body);
      throw AriError.fromStatus('create bridge', status, body);
    },
    async getBridge(bridgeId) {
      const { status, body } = await request('get bridge', 'GET', path(bridgeId));
      if (status === 200) return bridgeFrom('get bridge', body);
      if (status === 404) return undefined;
      throw AriError.fromStatus('get bridge', status, body);
    },
    async destroyBridge(bridgeId) {
      const { status, body } = await request('destroy bridge', 'DELETE', path(bridgeId));
      if (status === 204 || status === 200) return true;
      if (status === 404) return false;
      throw AriError.fromStatus('destroy bridge', status, body);
    },
    async addToBridge(bridgeId, channelIds) {
      const { status, body } = await request('add to bridge', 'POST', `${path(bridgeId)}/addChannel`, { channel: channelIds.join(',') });
      if (status === 204 || status === 200) return 'added';
      if (status === 404) return 'bridge_gone';
      if (status === 400) return 'channel_gone';
      if (status === 422) return 'not_in_stasis';
      if (status === 409) return 'in_other_bridge';
      throw AriError.fromStatus('add to bridge', status, body);
    },
    async removeFromBridge(bridgeId, channelIds) {
      const { status, body } = await request('remove from bridge', 'POST', `${path(bridgeId)}/removeChannel`, { channel: channelIds.join(',') });
      if (status === 204 || status === 200) return 'removed';
      if (status === 404) return 'bridge_gone';
      if (status === 400) return 'channel_gone';
      if (status === 422) return 'not_in_bridge';
      throw AriError.fromStatus('remove from bridge', status, body);
    },
  };
}
