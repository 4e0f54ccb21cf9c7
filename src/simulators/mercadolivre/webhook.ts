import { inlinePoster, threadPoster, type Poster } from './poster';
import type { Feed } from './store';

export interface WebhookSettings {
  url?: string;
  /** Mercado Livre wants the 200 within 500 ms; a slower answer counts as a failure and is retried. */
  timeoutMs: number;
  /** First retry wait, doubled each attempt up to retryMaxMs, for retryForMs in all (about an hour), then dropped. */
  retryBaseMs: number;
  retryMaxMs: number;
  retryForMs: number;
  /** Share of notifications delivered twice (Mercado Livre does send duplicates). */
  duplicateFraction: number;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** Post (and time) from a thread of its own, so this process's other work is not counted in the receiver's time. */
  postFromThread: boolean;
}

export const defaultWebhookSettings: WebhookSettings = {
  timeoutMs: 500,
  retryBaseMs: 5_000,
  retryMaxMs: 5 * 60_000,
  retryForMs: 60 * 60_000,
  duplicateFraction: 0,
  concurrency: 64,
  postFromThread: false,
};

interface Delivery {
  feed: Feed;
  firstAt: number;
  dueAt: number;
}

/**
 * Posts notifications to the application's callback URL as Mercado Livre does: a pointer body,
 * `attempts` counting up on each retry, a failed or slow (over the timeout) answer retried with
 * growing waits for about an hour, then given up; undelivered feeds stay listed in /missed_feeds.
 */
export class WebhookDispatcher {
  settings: WebhookSettings;
  readonly delivered = new Set<string>();
  readonly stats = { posted: 0, delivered: 0, failedAttempts: 0, dropped: 0, duplicatesSent: 0 };
  /** Milliseconds each successful POST took (receiver's time to 200), most recent 100,000. */
  readonly latencies: number[] = [];
  private queue: Delivery[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private held = false;

  private readonly poster: Poster;

  constructor(settings: Partial<WebhookSettings> = {}) {
    this.settings = { ...defaultWebhookSettings, ...settings };
    this.poster = this.settings.postFromThread ? threadPoster() : inlinePoster();
  }

  enqueue(feed: Feed): void {
    const at = Date.now();
    this.queue.push({ feed, firstAt: at, dueAt: at });
    if (Math.random() < this.settings.duplicateFraction) {
      this.stats.duplicatesSent++;
      this.queue.push({ feed: { ...feed }, firstAt: at, dueAt: at + 50 });
    }
    this.pump();
  }

  pending(): number {
    return this.queue.length + this.inFlight;
  }

  idle(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Queues without posting until release(): a burst is then let go at once, not while it is still being made. */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.poster.close();
  }

  resetStats(): void {
    Object.assign(this.stats, { posted: 0, delivered: 0, failedAttempts: 0, dropped: 0, duplicatesSent: 0 });
    this.latencies.length = 0;
  }

  private pump(): void {
    if (this.stopped || this.held) return;
    clearTimeout(this.timer);
    const nowMs = Date.now();
    if (!this.settings.url) return;
    this.queue.sort((a, b) => a.dueAt - b.dueAt);
    while (this.inFlight < this.settings.concurrency && this.queue.length > 0 && this.queue[0].dueAt <= nowMs) {
      const delivery = this.queue.shift()!;
      this.inFlight++;
      void this.post(delivery).finally(() => {
        this.inFlight--;
        if (this.pending() === 0) for (const w of this.idleWaiters.splice(0)) w();
        this.pump();
      });
    }
    if (this.queue.length > 0 && this.inFlight < this.settings.concurrency) {
      this.timer = setTimeout(() => this.pump(), Math.max(1, this.queue[0].dueAt - nowMs));
    }
  }

  private async post(delivery: Delivery): Promise<void> {
    const url = this.settings.url!;
    this.stats.posted++;
    const body = JSON.stringify({ ...delivery.feed, sent: new Date().toISOString() });
    const { status, ms } = await this.poster.post(url, body, this.settings.timeoutMs);
    const ok = status === 200;
    if (ok) {
      this.stats.delivered++;
      this.delivered.add(delivery.feed._id);
      this.latencies.push(ms);
      if (this.latencies.length > 100_000) this.latencies.shift();
      return;
    }
    this.stats.failedAttempts++;
    const attempt = delivery.feed.attempts;
    const wait = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** (attempt - 1));
    if (Date.now() + wait - delivery.firstAt > this.settings.retryForMs) {
      this.stats.dropped++;
      return;
    }
    this.queue.push({ feed: { ...delivery.feed, attempts: attempt + 1 }, firstAt: delivery.firstAt, dueAt: Date.now() + wait });
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
