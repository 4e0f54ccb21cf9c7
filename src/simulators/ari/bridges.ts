import type { Answer, CallSimulator, Publish } from './calls';
import { asteriskTime } from './format';

/**
 * Bridges (Asterisk `bridges.json`): `POST /ari/bridges[/{bridgeId}]`, `GET`/`DELETE
 * /ari/bridges/{bridgeId}`, `POST …/addChannel` and `…/removeChannel`, with the events
 * `ChannelEnteredBridge`, `ChannelLeftBridge` and `BridgeDestroyed`. A channel that hangs up leaves
 * its bridge first; a destroyed bridge lets its channels go without hanging them up. Every bridge
 * ever made stays on record (`/_sim/bridges`) with who was in it and when.
 */

/** The ARI Bridge object. */
export interface Bridge {
  id: string;
  technology: string;
  bridge_type: 'mixing' | 'holding';
  bridge_class: string;
  creator: string;
  name: string;
  channels: string[];
  creationtime: string;
  video_mode: string;
}

/** One channel's stay in a bridge. */
export interface BridgeMember {
  channelId: string;
  enteredAt: string;
  leftAt: string | null;
}

/** A bridge as `/_sim/bridges` shows it. */
export interface BridgeRecord {
  id: string;
  name: string;
  type: 'mixing' | 'holding';
  createdAt: string;
  destroyedAt: string | null;
  /** In it now. */
  channels: string[];
  /** Everyone who was ever in it, in order of entry. */
  members: BridgeMember[];
}

export interface BridgeStats {
  bridgesCreated: number;
  bridgesDestroyed: number;
  bridgesLive: number;
}

const TYPES = ['mixing', 'holding', 'dtmf_events', 'proxy_media', 'video_sfu', 'video_single'];
const HISTORY_LIMIT = 20_000;

export class BridgeSimulator {
  private readonly live = new Map<string, BridgeRecord>();
  /** Channel id → the bridge it is in now. */
  private readonly bridgeOf = new Map<string, string>();
  /** Applications that heard of a bridge (its channels'), for BridgeDestroyed. */
  private readonly appsOf = new Map<string, Set<string>>();
  private history: BridgeRecord[] = [];
  private counters = { created: 0, destroyed: 0 };
  private sequence = 0;

  constructor(
    private readonly calls: CallSimulator,
    private readonly publish: Publish,
  ) {
    calls.onEnding((channelId) => this.channelEnding(channelId));
  }

  /**
   * `POST /ari/bridges` (`upsert` false) or `POST /ari/bridges/{bridgeId}` (`upsert` true: "create a
   * new bridge or update an existing one", so asking again with the same id answers the same bridge).
   */
  create(bridgeId: string | undefined, type: string | undefined, name: string | undefined, upsert: boolean): Answer<Bridge> {
    const kinds = (type ?? 'mixing').split(',').filter(Boolean);
    if (kinds.some((k) => !TYPES.includes(k)) || (kinds.includes('mixing') && kinds.includes('holding'))) {
      return { status: 400, message: 'Invalid bridge type' };
    }
    const existing = bridgeId ? this.live.get(bridgeId) : undefined;
    if (existing) return upsert ? { status: 200, body: toAri(existing) } : { status: 409, message: 'Bridge with given unique ID already exists' };
    const id = bridgeId || `${Date.now()}.${++this.sequence}`;
    const record: BridgeRecord = {
      id,
      name: name ?? '',
      type: kinds.includes('holding') ? 'holding' : 'mixing',
      createdAt: new Date().toISOString(),
      destroyedAt: null,
      channels: [],
      members: [],
    };
    this.live.set(id, record);
    this.appsOf.set(id, new Set());
    this.history.push(record);
    if (this.history.length > HISTORY_LIMIT) this.history = this.history.slice(-HISTORY_LIMIT / 2);
    this.counters.created++;
    return { status: 200, body: toAri(record) };
  }

  get(bridgeId: string): Answer<Bridge> {
    const record = this.live.get(bridgeId);
    return record ? { status: 200, body: toAri(record) } : { status: 404, message: 'Bridge not found' };
  }

  list(): Bridge[] {
    return [...this.live.values()].map(toAri);
  }

  /** `DELETE /ari/bridges/{id}`: its channels leave (not hung up), then BridgeDestroyed. */
  destroy(bridgeId: string): Answer<never> {
    const record = this.live.get(bridgeId);
    if (!record) return { status: 404, message: 'Bridge not found' };
    for (const channelId of [...record.channels]) this.leave(record, channelId);
    record.destroyedAt = new Date().toISOString();
    this.live.delete(bridgeId);
    this.counters.destroyed++;
    for (const app of this.appsOf.get(bridgeId) ?? []) this.publish(app, { type: 'BridgeDestroyed', bridge: toAri(record) });
    this.appsOf.delete(bridgeId);
    return { status: 204 };
  }

  /**
   * `addChannel?channel=a,b`: 400 a channel does not exist, 404 no such bridge, 422 a channel is not
   * in a Stasis application, 409 a channel is in another bridge. All are checked before any joins.
   * A channel already in this bridge stays (a repeated request changes nothing).
   */
  addChannels(bridgeId: string, channelIds: string[]): Answer<never> {
    if (channelIds.length === 0) return { status: 400, message: 'channel: Missing value' };
    const record = this.live.get(bridgeId);
    if (!record) return { status: 404, message: 'Bridge not found' };
    for (const channelId of channelIds) {
      const call = this.calls.handle(channelId);
      if (!call) return { status: 400, message: 'Channel not found' };
      if (!call.inStasis()) return { status: 422, message: 'Channel not in Stasis application' };
      const current = this.bridgeOf.get(channelId);
      if (current !== undefined && current !== bridgeId) return { status: 409, message: 'Channel is already in a bridge' };
    }
    for (const channelId of channelIds) {
      if (this.bridgeOf.get(channelId) === bridgeId) continue;
      const call = this.calls.handle(channelId)!;
      this.bridgeOf.set(channelId, bridgeId);
      record.channels.push(channelId);
      record.members.push({ channelId, enteredAt: new Date().toISOString(), leftAt: null });
      const app = call.app();
      if (app) this.appsOf.get(bridgeId)?.add(app);
      call.emit('ChannelEnteredBridge', { bridge: toAri(record) });
    }
    return { status: 204 };
  }

  /** `removeChannel?channel=…`: 400 unknown channel, 404 no such bridge, 422 the channel is not in this bridge. */
  removeChannels(bridgeId: string, channelIds: string[]): Answer<never> {
    if (channelIds.length === 0) return { status: 400, message: 'channel: Missing value' };
    const record = this.live.get(bridgeId);
    if (!record) return { status: 404, message: 'Bridge not found' };
    for (const channelId of channelIds) {
      if (!this.calls.handle(channelId)) return { status: 400, message: 'Channel not found' };
      if (this.bridgeOf.get(channelId) !== bridgeId) return { status: 422, message: 'Channel not in this bridge' };
    }
    for (const channelId of channelIds) this.leave(record, channelId);
    return { status: 204 };
  }

  /** Every bridge made (live and destroyed), oldest first. */
  records(): BridgeRecord[] {
    return this.history.map((r) => ({ ...r, channels: [...r.channels], members: r.members.map((m) => ({ ...m })) }));
  }

  stats(): BridgeStats {
    return { bridgesCreated: this.counters.created, bridgesDestroyed: this.counters.destroyed, bridgesLive: this.live.size };
  }

  reset(): void {
    this.live.clear();
    this.bridgeOf.clear();
    this.appsOf.clear();
    this.history = [];
    this.counters = { created: 0, destroyed: 0 };
  }

  private leave(record: BridgeRecord, channelId: string): void {
    record.channels = record.channels.filter((id) => id !== channelId);
    this.bridgeOf.delete(channelId);
    const stay = [...record.members].reverse().find((m) => m.channelId === channelId && m.leftAt === null);
    if (stay) stay.leftAt = new Date().toISOString();
    this.calls.handle(channelId)?.emit('ChannelLeftBridge', { bridge: toAri(record) });
  }

  /** A hangup: the channel leaves its bridge before it leaves Stasis (as in Asterisk). */
  private channelEnding(channelId: string): void {
    const bridgeId = this.bridgeOf.get(channelId);
    const record = bridgeId === undefined ? undefined : this.live.get(bridgeId);
    if (record) this.leave(record, channelId);
  }
}

function toAri(record: BridgeRecord): Bridge {
  return {
    id: record.id,
    technology: record.type === 'holding' ? 'holding_bridge' : 'simple_bridge',
    bridge_type: record.type,
    bridge_class: 'stasis',
    creator: 'Stasis',
    name: record.name,
    channels: [...record.channels],
    creationtime: asteriskTime(new Date(record.createdAt)),
    video_mode: 'none',
  };
}
