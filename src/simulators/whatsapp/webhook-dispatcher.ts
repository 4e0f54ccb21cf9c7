import { Agent, request } from 'undici';
import { WEBHOOK_SIGNATURE_HEADER, webhookSignature } from './contract';
import type { SimulatorConfig } from './config';
import { MinHeap } from './min-heap';

/** One `statuses[]` item as Meta sends it. */
export interface WireStatus {
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  timestamp: string;
  recipient_id: string;
  biz_opaque_callback_data?: string;
  pricing?: { billable: boolean; pricing_model: string; category: string; type: string };
  errors?: unknown[];
}

interface Scheduled {
  at: number;
  phoneNumberId: string;
  status: WireStatus;
}

interface Post {
  /** Where it goes (the number's override, else the webhook URL); none: counted as undeliverable. */
  url: string | undefined;
  body: Buffer;
  signature: string;
  statuses: number;
  messages: number;
  attempt: number;
}

export interface WebhookCounters {
  /** POST requests answered (any status). */
  posts: number;
  /** Answers other than 200, and network errors. */
  postFailures: number;
  retries: number;
  /** Events given up after the last attempt. */
  dropped: number;
  /** Events dropped because no webhook URL is configured. */
  undeliverable: number;
  statusesDelivered: number;
  messagesDelivered: number;
}

function zeroCounters(): WebhookCounters {
  return { posts: 0, postFailures: 0, retries: 0, dropped: 0, undeliverable: 0, statusesDelivered: 0, messagesDelivered: 0 };
}

const DEFAULT_DISPLAY_NUMBER = '551140040000';

/**
 * Times, batches, signs and POSTs webhooks. Status events wait in one heap (no timer per event);
 * due ones are grouped into POSTs of up to `batchSize` statuses, a change per phone number id, so
 * thousands per second cost only tens of requests. Like Meta, anything but a 200 is retried with
 * backoff — here a bounded number of times.
 */
export class WebhookDispatcher {
  private readonly heap = new MinHeap<Scheduled>();
  private dueTimer?: NodeJS.Timeout;
  private dueTimerAt = Number.POSITIVE_INFINITY;
  /** Due events waiting for a full batch, by destination URL ('' for none). */
  private pending = new Map<string, Scheduled[]>();
  private flushTimer?: NodeJS.Timeout;
  private readonly ready: Post[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private generation = 0;
  private waiters: (() => void)[] = [];
  private counters = zeroCounters();
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

  constructor(private readonly config: () => SimulatorConfig) {}

  /** Dispatch `status` at time `at` (ms since the epoch). */
  schedule(at: number, phoneNumberId: string, status: WireStatus): void {
    this.heap.push({ at, phoneNumberId, status });
    this.armDueTimer();
  }

  /** An inbound-message change (a user's reply), posted on its own right away. */
  sendChange(phoneNumberId: string, value: Record<string, unknown>, messages: number): void {
    this.ready.push(this.post(this.urlOf(phoneNumberId), [{ phoneNumberId, value }], 0, messages));
    this.pump();
  }

  stats(): WebhookCounters & { scheduled: number; queued: number; inFlight: number } {
    return {
      ...this.counters,
      scheduled: this.heap.size + this.pendingCount(),
      queued: this.ready.length + this.retryTimers.size,
      inFlight: this.inFlight,
    };
  }

  /** Resolves once nothing is scheduled, queued, in flight or waiting for a retry. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Forgets everything scheduled or queued and zeroes the counters; in-flight answers are ignored. */
  clear(): void {
    this.generation++;
    this.heap.clear();
    this.pending.clear();
    this.ready.length = 0;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    clearTimeout(this.dueTimer);
    clearTimeout(this.flushTimer);
    this.dueTimer = this.flushTimer = undefined;
    this.dueTimerAt = Number.POSITIVE_INFINITY;
    this.counters = zeroCounters();
    this.notifyIfIdle();
  }

  async close(): Promise<void> {
    this.clear();
    await this.agent.destroy();
  }

  private isIdle(): boolean {
    return this.heap.size === 0 && this.pending.size === 0 && this.ready.length === 0 && this.inFlight === 0 && this.retryTimers.size === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle() || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private armDueTimer(): void {
    const next = this.heap.peek();
    if (!next || next.at >= this.dueTimerAt) return;
    clearTimeout(this.dueTimer);
    this.dueTimerAt = next.at;
    this.dueTimer = setTimeout(() => this.takeDue(), Math.max(0, next.at - Date.now()));
  }

  private takeDue(): void {
    this.dueTimer = undefined;
    this.dueTimerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const { batchSize, flushIntervalMs } = this.config().webhook;
    while ((this.heap.peek()?.at ?? Number.POSITIVE_INFINITY) <= now) {
      const item = this.heap.pop()!;
      const url = this.urlOf(item.phoneNumberId) ?? '';
      const list = this.pending.get(url);
      if (list) list.push(item);
      else this.pending.set(url, [item]);
    }
    for (const [url, list] of this.pending) while (list.length >= batchSize) this.flush(url, list, batchSize);
    if (this.pendingCount() > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        for (const [url, list] of this.pending) while (list.length > 0) this.flush(url, list, batchSize);
      }, flushIntervalMs);
    }
    this.armDueTimer();
  }

  private urlOf(phoneNumberId: string): string | undefined {
    const { url, urlByPhoneNumberId } = this.config().webhook;
    return urlByPhoneNumberId[phoneNumberId] ?? url;
  }

  private pendingCount(): number {
    let n = 0;
    for (const list of this.pending.values()) n += list.length;
    return n;
  }

  private flush(url: string, list: Scheduled[], batchSize: number): void {
    const batch = list.splice(0, batchSize);
    if (list.length === 0) this.pending.delete(url);
    const byNumber = new Map<string, WireStatus[]>();
    for (const item of batch) {
      const list = byNumber.get(item.phoneNumberId) ?? [];
      list.push(item.status);
      byNumber.set(item.phoneNumberId, list);
    }
    const changes = [...byNumber].map(([phoneNumberId, statuses]) => ({ phoneNumberId, value: { statuses } }));
    this.ready.push(this.post(url || undefined, changes, batch.length, 0));
    this.pump();
  }

  private post(url: string | undefined, changes: { phoneNumberId: string; value: Record<string, unknown> }[], statuses: number, messages: number): Post {
    const config = this.config();
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: config.wabaId,
          changes: changes.map(({ phoneNumberId, value }) => ({
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: config.displayPhoneNumbers[phoneNumberId] ?? DEFAULT_DISPLAY_NUMBER,
                phone_number_id: phoneNumberId,
              },
              ...value,
            },
            field: 'messages',
          })),
        },
      ],
    };
    const body = Buffer.from(JSON.stringify(payload));
    return { url, body, signature: webhookSignature(body, config.appSecret), statuses, messages, attempt: 1 };
  }

  private pump(): void {
    const { concurrency } = this.config().webhook;
    while (this.inFlight < concurrency && this.ready.length > 0) void this.deliver(this.ready.shift()!);
    this.notifyIfIdle();
  }

  private async deliver(post: Post): Promise<void> {
    const { timeoutMs, maxAttempts, retryBaseMs } = this.config().webhook;
    const { url } = post;
    if (!url) {
      this.counters.undeliverable += post.statuses + post.messages;
      return;
    }
    const generation = this.generation;
    this.inFlight++;
    let delivered = false;
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: post.signature },
        body: post.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body.dump();
      delivered = response.statusCode === 200;
    } catch {
      delivered = false;
    }
    this.inFlight--;
    if (generation === this.generation) this.settle(post, delivered, maxAttempts, retryBaseMs);
    this.pump();
  }

  private settle(post: Post, delivered: boolean, maxAttempts: number, retryBaseMs: number): void {
    this.counters.posts++;
    if (delivered) {
      this.counters.statusesDelivered += post.statuses;
      this.counters.messagesDelivered += post.messages;
      return;
    }
    this.counters.postFailures++;
    if (post.attempt >= maxAttempts) {
      this.counters.dropped += post.statuses + post.messages;
      return;
    }
    this.counters.retries++;
    const timer = setTimeout(
      () => {
        this.retryTimers.delete(timer);
        this.ready.push({ ...post, attempt: post.attempt + 1 });
        this.pump();
      },
      retryBaseMs * 2 ** (post.attempt - 1),
    );
    this.retryTimers.add(timer);
  }
}
