import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { journalEventKey, purgeJournal, writeJournal, type JournalEvent } from '../db/ari-journal';
import type { Database } from '../db/schema';
import { createAriClient, type AriClient } from '../integrations/ari';

/** Channel ids the journal keeps: the dialer's attempt keys (store.ts `attemptKey`). */
export const RECORDED_CHANNEL_PREFIXES = ['dc:'];

export interface RecorderOptions {
  db: Kysely<Database>;
  ari: { url: string; username: string; password: string; app: string };
  /** How often events are written (one transaction a batch) and the coverage mark moves on. */
  flushEveryMs?: number;
  retentionHours?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * The ARI event recorder: one WebSocket with `subscribeAll`, so it hears every channel of every
 * worker's Stasis app, and a journal in PostgreSQL of each event of our dialer channels. A lane
 * that takes over a dead worker's call reads the call's end from here (lane-settle.ts). After
 * each write the recorder moves `journaled_until` on: every event received before it is stored.
 * While disconnected `connected_since` is null, so nobody trusts the journal for that stretch.
 * Run two for redundancy: the event key makes their writes one.
 */
export class AriEventRecorder {
  private readonly id = `recorder-${randomBytes(4).toString('hex')}`;
  private readonly client: AriClient;
  private queue: JournalEvent[] = [];
  private connectedSince: Date | null = null;
  private timer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;
  recorded = 0;

  constructor(private readonly options: RecorderOptions) {
    this.client = createAriClient({
      baseUrl: options.ari.url,
      username: options.ari.username,
      password: options.ari.password,
      app: `${options.ari.app}-recorder`,
      subscribeAll: true,
      requestTimeoutMs: 5_000,
      reconnect: { minDelayMs: 50, maxDelayMs: 2_000 },
    });
  }

  async start(timeoutMs = 15_000): Promise<void> {
    const events = this.client.events();
    events.on('event', (event) => this.take(event as unknown as Record<string, unknown>));
    // Coverage starts once connected; events from before are not ours to vouch for.
    events.on('connected', () => (this.connectedSince = new Date()));
    events.on('reconnected', () => (this.connectedSince = new Date()));
    events.on('disconnected', () => {
      this.connectedSince = null;
      this.flushSoon();
    });
    events.on('error', (error) => this.options.log?.('ARI events error', { error: error.message }));
    await events.ready(timeoutMs);
    this.connectedSince ??= new Date();
    await this.flush();
    const every = this.options.flushEveryMs ?? 50;
    this.timer = setInterval(() => this.flushSoon(), every);
    const retention = (this.options.retentionHours ?? 72) * 3_600_000;
    this.purgeTimer = setInterval(() => void purgeJournal(this.options.db, new Date(Date.now() - retention)).catch(() => undefined), 3_600_000);
    this.purgeTimer.unref();
  }

  /** Writes what was heard, then marks the journal as not covering any more, and closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.purgeTimer);
    await this.flushSoon();
    this.connectedSince = null;
    await this.flushSoon();
    await this.client.close();
  }

  private take(event: Record<string, unknown>): void {
    const channel = event.channel as { id?: unknown } | undefined;
    const channelId = typeof channel?.id === 'string' ? channel.id : undefined;
    if (!channelId || !RECORDED_CHANNEL_PREFIXES.some((p) => channelId.startsWith(p))) return;
    const at = typeof event.timestamp === 'string' ? new Date(Date.parse(event.timestamp)) : new Date();
    this.queue.push({ key: journalEventKey(event), channelId, type: String(event.type), at: Number.isNaN(at.getTime()) ? new Date() : at, payload: event });
  }

  /** One write at a time, in order; a failed write keeps its events for the next. */
  private flushSoon(): Promise<void> {
    this.writing = this.writing.then(() => this.flush()).catch((error: Error) => this.options.log?.('journal write failed', { error: error.message }));
    return this.writing;
  }

  private async flush(): Promise<void> {
    // Everything received before this instant is in this batch or an earlier one.
    const until = new Date();
    const batch = this.queue;
    this.queue = [];
    try {
      await writeJournal(this.options.db, batch, { id: this.id, app: this.client.app, connectedSince: this.connectedSince, journaledUntil: until });
      this.recorded += batch.length;
    } catch (error) {
      this.queue = batch.concat(this.queue);
      throw error;
    }
  }
}
