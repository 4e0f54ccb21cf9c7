import { outcomeFromHangup, type CallOutcome } from '../../domain/call-outcome';
import type { AriEventStream } from './events';
import { parseAriTime } from './parse';
import type { Channel } from './types';

/** What became of one call, once Asterisk destroyed its channel. */
export interface CallReport {
  channelId: string;
  outcome: CallOutcome;
  /** Q.850 cause; 0 when the hangup was missed (`lost`). */
  cause: number;
  causeTxt: string;
  reachedUp: boolean;
  /** AMDSTATUS, when the call went through answering-machine detection. */
  amdStatus: string | undefined;
  /** From channel creation to answer (or to the end, when unanswered). */
  ringMs: number;
  /** From answer to the end; 0 when unanswered. */
  talkMs: number;
  answeredAt: Date | undefined;
  endedAt: Date;
  /**
   * The channel vanished while the event stream was down, so `ChannelDestroyed` never reached us.
   * The outcome is then inferred: `answered` if we saw it reach Up, else `network_failure`
   * (not the contact's fault, retried without using up an attempt).
   */
  lost: boolean;
}

export interface CallTrackerOptions {
  /** Used to re-check calls in flight after the event stream reconnects. */
  getChannel?: (channelId: string) => Promise<Channel | undefined>;
  /**
   * Also re-check pending calls this often (needs `getChannel`): a safety net for events that go
   * elsewhere, e.g. another WebSocket took over the application. 0 (default) never.
   */
  recheckEveryMs?: number;
  now?: () => Date;
}

interface Watch {
  channelId: string;
  placed: boolean;
  reachedUp: boolean;
  createdAt: Date | undefined;
  answeredAt: Date | undefined;
  amdStatus: string | undefined;
  report: Promise<CallReport>;
  resolve: (report: CallReport) => void;
  reject: (error: Error) => void;
}

/**
 * Turns the event stream into one promise per call. Call `track` before originating (events can
 * beat the HTTP answer), `placed` once the originate answered, `forget` if it failed.
 */
export class CallTracker {
  private readonly watches = new Map<string, Watch>();
  private readonly unsubscribe: Array<() => void>;
  private readonly now: () => Date;
  private readonly recheckTimer: NodeJS.Timeout | undefined;

  constructor(
    events: AriEventStream,
    private readonly options: CallTrackerOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.unsubscribe = [
      events.on('ChannelStateChange', (e) => this.observe(e.channel, e.timestamp)),
      events.on('StasisStart', (e) => this.observe({ ...e.channel, state: 'Up' }, e.timestamp)),
      events.on('ChannelHangupRequest', (e) => this.observe(e.channel, e.timestamp)),
      events.on('ChannelDestroyed', (e) => this.finish(e.channel, e.cause, e.cause_txt, e.timestamp)),
      events.on('reconnected', () => void this.reconcile().catch(() => undefined)),
    ];
    if (options.recheckEveryMs) {
      this.recheckTimer = setInterval(() => void this.reconcile().catch(() => undefined), options.recheckEveryMs);
      this.recheckTimer.unref();
    }
  }

  /** The report of `channelId`'s call; the same promise if already tracked. */
  track(channelId: string): Promise<CallReport> {
    const existing = this.watches.get(channelId);
    if (existing) return existing.report;
    let resolve!: (report: CallReport) => void;
    let reject!: (error: Error) => void;
    const report = new Promise<CallReport>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.watches.set(channelId, {
      channelId,
      placed: false,
      reachedUp: false,
      createdAt: undefined,
      answeredAt: undefined,
      amdStatus: undefined,
      report,
      resolve,
      reject,
    });
    return report;
  }

  /** The originate was accepted (or the channel already existed): a later 404 means a missed hangup. */
  placed(channelId: string): void {
    const watch = this.watches.get(channelId);
    if (watch) watch.placed = true;
  }

  /** What answering-machine detection said about this call (see amd.ts). */
  noteAmd(channelId: string, status: string): void {
    const watch = this.watches.get(channelId);
    if (watch) watch.amdStatus = status;
  }

  /** Stop tracking (e.g. the originate failed); the pending promise is rejected. */
  forget(channelId: string): void {
    const watch = this.watches.get(channelId);
    if (!watch) return;
    this.watches.delete(channelId);
    watch.report.catch(() => undefined);
    watch.reject(new Error(`call ${channelId} is no longer tracked`));
  }

  get pending(): string[] {
    return [...this.watches.keys()];
  }

  /**
   * Asks Asterisk about every placed call still pending: one it no longer knows ended while we
   * were not listening. Runs by itself after each reconnect when `getChannel` was given.
   */
  async reconcile(): Promise<{ checked: number; lost: number }> {
    const getChannel = this.options.getChannel;
    if (!getChannel) return { checked: 0, lost: 0 };
    const placed = [...this.watches.values()].filter((w) => w.placed);
    let lost = 0;
    await Promise.all(
      placed.map(async (watch) => {
        const channel = await getChannel(watch.channelId).catch(() => null);
        if (channel === null || this.watches.get(watch.channelId) !== watch) return;
        if (channel) return this.observe(channel, undefined);
        lost++;
        this.settle(watch, { cause: 0, causeTxt: 'Unknown (hangup missed while disconnected)', endedAt: this.now(), lost: true });
      }),
    );
    return { checked: placed.length, lost };
  }

  /** Unsubscribes; calls still pending are rejected. */
  close(): void {
    clearInterval(this.recheckTimer);
    this.unsubscribe.forEach((off) => off());
    for (const id of [...this.watches.keys()]) this.forget(id);
  }

  private observe(channel: Channel, timestamp: string | undefined): void {
    const watch = this.watches.get(channel.id);
    if (!watch) return;
    watch.placed = true;
    watch.createdAt ??= parseAriTime(channel.creationtime);
    if (channel.state === 'Up' && !watch.reachedUp) {
      watch.reachedUp = true;
      // Without the event's timestamp (seen by polling) the answer time is a lower bound.
      watch.answeredAt = parseAriTime(timestamp) ?? this.now();
    }
  }

  private finish(channel: Channel, cause: number, causeTxt: string, timestamp: string): void {
    const watch = this.watches.get(channel.id);
    if (!watch) return;
    this.observe(channel, timestamp);
    this.settle(watch, { cause, causeTxt, endedAt: parseAriTime(timestamp) ?? this.now(), lost: false });
  }

  private settle(watch: Watch, end: { cause: number; causeTxt: string; endedAt: Date; lost: boolean }): void {
    this.watches.delete(watch.channelId);
    const { reachedUp, answeredAt, amdStatus } = watch;
    const outcome: CallOutcome = end.lost
      ? reachedUp
        ? amdStatus === 'MACHINE'
          ? 'answering_machine'
          : 'answered'
        : 'network_failure'
      : outcomeFromHangup({ cause: end.cause, reachedUp, amdStatus });
    const ended = end.endedAt.getTime();
    const started = watch.createdAt?.getTime() ?? ended;
    watch.resolve({
      channelId: watch.channelId,
      outcome,
      cause: end.cause,
      causeTxt: end.causeTxt,
      reachedUp,
      amdStatus,
      ringMs: Math.max(0, (answeredAt?.getTime() ?? ended) - started),
      talkMs: answeredAt ? Math.max(0, ended - answeredAt.getTime()) : 0,
      answeredAt,
      endedAt: end.endedAt,
      lost: end.lost,
    });
  }
}
