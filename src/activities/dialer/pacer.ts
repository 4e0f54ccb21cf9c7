import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import type { CallOutcome } from '../../domain/call-outcome';
import type { StrategyConfig } from '../../domain/dialer/strategy';

/**
 * How fast a dialing lane places calls. The lane asks the pacer before every originate and tells
 * it what happened to each call; the pacer owns every rule about "how many, how fast". Today's
 * mode is `power` (fixed channels and calls per second, below); modes that pace by agents (progressive,
 * predictive) implement the same interface and call `host.wake()` when their capacity grows by
 * itself (an agent became available, the dial level was recomputed). pacers.ts picks one by
 * `pacing.mode`.
 */
export interface Pacer {
  /**
   * How many of `wanted` new calls may start now, with `inFlight` calls being placed or up. The
   * grant is taken (a rate budget is spent). `retryInMs`: nothing (or less than possible) was
   * granted because of the rate, not the lines: ask again after that long.
   */
  grant(wanted: number, inFlight: number, now: number): PacerGrant;
  /** The most calls this pacer may ever have in flight now: sizes the lane's claims. */
  ceiling(): number;
  /** A call was originated (adaptive modes measure ring times and answer rates). */
  callPlaced(key: string, now: number): void;
  /** A call ended (whether it was answered, and how long it rang and talked). */
  callEnded(call: EndedCall): void;
  /** The strategy changed under a running lane (an edit); the pacer takes the new settings. */
  configure(strategy: StrategyConfig): void;
  /** The lane stops; release timers and subscriptions. */
  close(): void;
}

export interface PacerGrant {
  granted: number;
  retryInMs?: number;
}

export interface EndedCall {
  key: string;
  outcome: CallOutcome;
  /** Not seen by this lane while live (taken over after a restart): no timings to learn from. */
  lost: boolean;
  ringMs: number;
  talkMs: number;
  endedAt: Date;
}

/** What the lane offers a pacer: a way to be asked again at once. */
export interface PacerHost {
  wake(): void;
  campaignId: string;
  /** The agent modes read the campaign's agents and write their live state (pacers.ts). */
  db?: Kysely<Database>;
}

export type PacerFactory = (strategy: StrategyConfig, host: PacerHost) => Pacer;

/** How long lines freed one by one are gathered before they are granted together (at most). */
export const GATHER_MS = 20;
/** Lines enough to grant at once without gathering: a fiftieth of the channels (so below 100 channels, never gathers). */
const gatherEnough = (channels: number) => Math.max(1, Math.floor(channels / 50));

/**
 * `power`: at most `channels` calls at once and `callsPerSecond` new ones, a token bucket whose
 * burst is the smaller of the two (at least one call). On many lines, lines freed one at a time
 * are gathered for up to GATHER_MS (or until a fiftieth of the lines is free), so their attempts
 * are recorded in one round trip instead of one each: at 1,000 channels that round trip per call
 * was most of the worker's CPU per call (measured: docs/scaling.md).
 */
export class PowerPacer implements Pacer {
  private tokens = 1;
  private tokensAt: number;
  private pacing: StrategyConfig['pacing'];
  /** Since when lines have been free and not granted (undefined: none waiting). */
  private freeSince: number | undefined;

  constructor(strategy: StrategyConfig, now: number = performance.now()) {
    this.pacing = strategy.pacing;
    this.tokensAt = now;
  }

  grant(wanted: number, inFlight: number, now: number): PacerGrant {
    const { channels, callsPerSecond } = this.pacing;
    const free = channels - inFlight;
    if (free <= 0 || wanted <= 0) {
      this.freeSince = undefined;
      return { granted: 0 };
    }
    this.freeSince ??= now;
    const waited = now - this.freeSince;
    if (Math.min(free, wanted) < gatherEnough(channels) && waited < GATHER_MS) return { granted: 0, retryInMs: Math.ceil(GATHER_MS - waited) };
    const burst = Math.max(1, Math.min(callsPerSecond, channels));
    this.tokens = Math.min(burst, this.tokens + ((now - this.tokensAt) / 1000) * callsPerSecond);
    this.tokensAt = now;
    const granted = Math.min(wanted, free, Math.floor(this.tokens));
    this.tokens -= granted;
    if (granted > 0) this.freeSince = undefined;
    return granted > 0 ? { granted } : { granted: 0, retryInMs: Math.ceil(1000 / callsPerSecond) };
  }

  ceiling(): number {
    return this.pacing.channels;
  }

  callPlaced(): void {}

  callEnded(): void {}

  configure(strategy: StrategyConfig): void {
    this.pacing = strategy.pacing;
  }

  close(): void {}
}
