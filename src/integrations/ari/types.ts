/**
 * The ARI data models the dialer uses (Asterisk `rest-api/api-docs/channels.json`, `events.json`).
 * Shared by the client and the simulator so both speak the same shapes.
 */

/** `Channel.state`; open-ended because newer Asterisk versions may add states. */
export type ChannelState =
  | 'Down'
  | 'Rsrved'
  | 'OffHook'
  | 'Dialing'
  | 'Ring'
  | 'Ringing'
  | 'Up'
  | 'Busy'
  | 'Dialing Offhook'
  | 'Pre-ring'
  | 'Unknown'
  | (string & {});

export interface CallerId {
  name: string;
  number: string;
}

export interface DialplanCep {
  context: string;
  exten: string;
  priority: number;
  app_name?: string;
  app_data?: string;
}

export interface Channel {
  id: string;
  name: string;
  state: ChannelState;
  caller: CallerId;
  connected: CallerId;
  accountcode: string;
  dialplan: DialplanCep;
  /** Asterisk format, e.g. `2026-03-05T10:11:12.345-0300`. */
  creationtime: string;
  language: string;
  channelvars?: Record<string, string>;
}

/** Reasons `DELETE /ari/channels/{id}` accepts. */
export const HANGUP_REASONS = [
  'normal',
  'busy',
  'congestion',
  'no_answer',
  'timeout',
  'rejected',
  'unallocated',
  'normal_unspecified',
  'number_incomplete',
  'codec_mismatch',
  'interworking',
  'failure',
  'answered_elsewhere',
] as const;
export type HangupReason = (typeof HANGUP_REASONS)[number];

interface AriEventBase {
  application: string;
  /** Asterisk format, e.g. `2026-03-05T10:11:12.345-0300`. */
  timestamp: string;
  asterisk_id?: string;
}

interface ChannelEventBase extends AriEventBase {
  channel: Channel;
}

/** The call was answered and entered our Stasis application. */
export interface StasisStartEvent extends ChannelEventBase {
  type: 'StasisStart';
  args: string[];
  replace_channel?: Channel;
}

export interface StasisEndEvent extends ChannelEventBase {
  type: 'StasisEnd';
}

export interface ChannelCreatedEvent extends ChannelEventBase {
  type: 'ChannelCreated';
}

export interface ChannelStateChangeEvent extends ChannelEventBase {
  type: 'ChannelStateChange';
}

export interface ChannelHangupRequestEvent extends ChannelEventBase {
  type: 'ChannelHangupRequest';
  cause?: number;
  soft?: boolean;
}

export interface ChannelDestroyedEvent extends ChannelEventBase {
  type: 'ChannelDestroyed';
  /** Q.850 cause code. */
  cause: number;
  cause_txt: string;
}

/** `Playback.state` (Asterisk `playbacks.json`); open-ended for newer versions. */
export type PlaybackState = 'queued' | 'playing' | 'continuing' | 'paused' | 'done' | 'failed' | (string & {});

/** A prompt playing on a channel (`POST /ari/channels/{id}/play/{playbackId}`). */
export interface Playback {
  id: string;
  media_uri: string;
  next_media_uri?: string;
  /** `channel:<id>` or `bridge:<id>`. */
  target_uri: string;
  language?: string;
  state: PlaybackState;
}

export interface PlaybackStartedEvent extends AriEventBase {
  type: 'PlaybackStarted';
  playback: Playback;
}

/** The playback ended: played to its end, stopped (`DELETE /ari/playbacks/{id}`) or its channel went. */
export interface PlaybackFinishedEvent extends AriEventBase {
  type: 'PlaybackFinished';
  playback: Playback;
}

/** A key pressed on the channel. */
export interface ChannelDtmfReceivedEvent extends ChannelEventBase {
  type: 'ChannelDtmfReceived';
  /** 0–9, A–D, `#`, `*`. */
  digit: string;
  duration_ms: number;
}

/** A bridge (`bridges.json`): the channels in it hear each other when it is `mixing`. */
export interface Bridge {
  id: string;
  technology: string;
  bridge_type: string;
  bridge_class: string;
  creator?: string;
  name?: string;
  channels: string[];
  creationtime?: string;
}

export interface ChannelEnteredBridgeEvent extends ChannelEventBase {
  type: 'ChannelEnteredBridge';
  bridge: Bridge;
}

export interface ChannelLeftBridgeEvent extends ChannelEventBase {
  type: 'ChannelLeftBridge';
  bridge: Bridge;
}

export interface BridgeDestroyedEvent extends AriEventBase {
  type: 'BridgeDestroyed';
  bridge: Bridge;
}

/** Another WebSocket registered the same application name and now receives its events. */
export interface ApplicationReplacedEvent extends AriEventBase {
  type: 'ApplicationReplaced';
}

export type AriEvent =
  | StasisStartEvent
  | StasisEndEvent
  | ChannelCreatedEvent
  | ChannelStateChangeEvent
  | ChannelHangupRequestEvent
  | ChannelDestroyedEvent
  | PlaybackStartedEvent
  | PlaybackFinishedEvent
  | ChannelDtmfReceivedEvent
  | ChannelEnteredBridgeEvent
  | ChannelLeftBridgeEvent
  | BridgeDestroyedEvent
  | ApplicationReplacedEvent;

export type AriEventType = AriEvent['type'];

/** Any event type the client does not model (Dial, ChannelVarset, …), passed through as is. */
export interface OtherAriEvent extends Partial<AriEventBase> {
  type: string;
  [field: string]: unknown;
}

export type AriEventsByType = { [E in AriEvent as E['type']]: E };
