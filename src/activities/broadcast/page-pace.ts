import { channelPaceKey, paceWindow, tenthWindow, type PaceWindow } from './limiter';

/** The windows a page's calls take slots in, and how many slots it asks for at once. */
export interface PagePace {
  windows: PaceWindow[];
  keys: string[];
  /** Fewest slots worth a round trip to the limiter. */
  least: number;
  /** Most slots taken at once. */
  most: number;
}

/**
 * The pace of a page: the channel's number and the send (never faster than the number). Keyed by
 * our channel id, which no other tenant can name (a number is registered once, so the channel
 * stands for its number); a key built from the number let another tenant's channel of the same id
 * share the window and set its limit. Slots come in small batches: at least a hundredth of the
 * window (not polling for each one), at most a fortieth, so no batch's calls reach the API bunched
 * up, later one time than another.
 */
export function pagePace(channel: { id: string; mps_limit: number }, send: { id: string; pace_mps: number }, windowMarginMs?: number): PagePace {
  const numberWindow = paceWindow(channelPaceKey(channel.id), channel.mps_limit, windowMarginMs);
  const numberTenth = tenthWindow(channelPaceKey(channel.id), channel.mps_limit, windowMarginMs);
  const sendWindow = paceWindow(`send:${send.id}`, Math.min(send.pace_mps, channel.mps_limit), windowMarginMs);
  return {
    windows: [numberWindow, numberTenth, sendWindow],
    keys: [numberWindow.key, numberTenth.key, sendWindow.key],
    least: Math.max(1, Math.min(10, Math.floor(sendWindow.limit / 100))),
    most: Math.max(1, Math.floor(sendWindow.limit / 40)),
  };
}
