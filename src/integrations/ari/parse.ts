import { z } from 'zod';
import type { AriEvent, Bridge, Channel, OtherAriEvent, Playback } from './types';

/**
 * Runtime checks for what Asterisk sends us. Lenient on purpose (loose objects, defaults for
 * optional text): newer Asterisk versions add fields, and a missing `language` must not lose a call.
 */
const callerId = z.looseObject({ name: z.string().default(''), number: z.string().default('') });

export const channelSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().default(''),
  state: z.string(),
  caller: callerId.default({ name: '', number: '' }),
  connected: callerId.default({ name: '', number: '' }),
  accountcode: z.string().default(''),
  dialplan: z
    .looseObject({
      context: z.string().default(''),
      exten: z.string().default(''),
      priority: z.number().default(1),
      app_name: z.string().optional(),
      app_data: z.string().optional(),
    })
    .default({ context: '', exten: '', priority: 1 }),
  creationtime: z.string().default(''),
  language: z.string().default(''),
  channelvars: z.record(z.string(), z.string()).optional(),
});

export const playbackSchema = z.looseObject({
  id: z.string().min(1),
  media_uri: z.string(),
  next_media_uri: z.string().optional(),
  target_uri: z.string(),
  language: z.string().optional(),
  state: z.string(),
});

export const bridgeSchema = z.looseObject({
  id: z.string().min(1),
  technology: z.string().default(''),
  bridge_type: z.string().default('mixing'),
  bridge_class: z.string().default(''),
  creator: z.string().optional(),
  name: z.string().optional(),
  channels: z.array(z.string()).default([]),
  creationtime: z.string().optional(),
});

const base = {
  application: z.string().default(''),
  timestamp: z.string().default(''),
  asterisk_id: z.string().optional(),
};
const withChannel = { ...base, channel: channelSchema };

const eventSchemas = {
  StasisStart: z.looseObject({
    ...withChannel,
    type: z.literal('StasisStart'),
    args: z.array(z.string()).default([]),
    replace_channel: channelSchema.optional(),
  }),
  StasisEnd: z.looseObject({ ...withChannel, type: z.literal('StasisEnd') }),
  ChannelCreated: z.looseObject({ ...withChannel, type: z.literal('ChannelCreated') }),
  ChannelStateChange: z.looseObject({ ...withChannel, type: z.literal('ChannelStateChange') }),
  ChannelHangupRequest: z.looseObject({
    ...withChannel,
    type: z.literal('ChannelHangupRequest'),
    cause: z.number().optional(),
    soft: z.boolean().optional(),
  }),
  ChannelDestroyed: z.looseObject({
    ...withChannel,
    type: z.literal('ChannelDestroyed'),
    cause: z.number(),
    cause_txt: z.string().default(''),
  }),
  PlaybackStarted: z.looseObject({ ...base, type: z.literal('PlaybackStarted'), playback: playbackSchema }),
  PlaybackFinished: z.looseObject({ ...base, type: z.literal('PlaybackFinished'), playback: playbackSchema }),
  ChannelDtmfReceived: z.looseObject({
    ...withChannel,
    type: z.literal('ChannelDtmfReceived'),
    digit: z.string().regex(/^[0-9A-D#*]$/),
    duration_ms: z.number().default(0),
  }),
  ChannelEnteredBridge: z.looseObject({ ...withChannel, type: z.literal('ChannelEnteredBridge'), bridge: bridgeSchema }),
  ChannelLeftBridge: z.looseObject({ ...withChannel, type: z.literal('ChannelLeftBridge'), bridge: bridgeSchema }),
  BridgeDestroyed: z.looseObject({ ...base, type: z.literal('BridgeDestroyed'), bridge: bridgeSchema }),
  ApplicationReplaced: z.looseObject({ ...base, type: z.literal('ApplicationReplaced') }),
} satisfies Record<AriEvent['type'], z.ZodType>;

export function parsePlayback(raw: unknown): Playback {
  return playbackSchema.parse(raw);
}

export function parseBridge(raw: unknown): Bridge {
  return bridgeSchema.parse(raw);
}

export function parseChannel(raw: unknown): Channel {
  return channelSchema.parse(raw);
}

export type ParsedEvent = { known: true; event: AriEvent } | { known: false; event: OtherAriEvent } | { known: false; event: undefined; problem: string };

/** Parses one WebSocket message; events of other types pass through untyped. */
export function parseAriEvent(text: string): ParsedEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { known: false, event: undefined, problem: 'message is not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') {
    return { known: false, event: undefined, problem: 'message has no type' };
  }
  const type = (raw as { type: string }).type;
  const schema = (eventSchemas as Record<string, z.ZodType>)[type];
  if (!schema) return { known: false, event: raw as OtherAriEvent };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return { known: false, event: undefined, problem: `${type}: ${z.prettifyError(parsed.error)}` };
  }
  return { known: true, event: parsed.data as AriEvent };
}

/** Asterisk writes offsets without a colon (`-0300`); JavaScript's Date accepts both forms. */
export function parseAriTime(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
