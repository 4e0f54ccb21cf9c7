/**
 * The two send limits of the Cloud API: messages per second per business number (a sliding
 * one-second window, 130429) and one message per few seconds to the same user (131056). Both
 * count accepted messages only; the check and the record are separate so a request refused
 * later in validation takes no slot.
 */

const WINDOW_MS = 1_000;

class SlidingWindow {
  private times: number[] = [];
  private head = 0;
  /** The most messages this window has held at once: the busiest second seen. */
  peak = 0;

  hasRoom(now: number, limit: number): boolean {
    while (this.head < this.times.length && this.times[this.head] <= now - WINDOW_MS) this.head++;
    if (this.head > 4_096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head < limit;
  }

  record(now: number): void {
    this.times.push(now);
    this.peak = Math.max(this.peak, this.times.length - this.head);
  }
}

export class ThroughputLimiter {
  private readonly windows = new Map<string, SlidingWindow>();

  private window(phoneNumberId: string): SlidingWindow {
    let window = this.windows.get(phoneNumberId);
    if (!window) this.windows.set(phoneNumberId, (window = new SlidingWindow()));
    return window;
  }

  hasRoom(phoneNumberId: string, now: number, limit: number): boolean {
    return this.window(phoneNumberId).hasRoom(now, limit);
  }

  record(phoneNumberId: string, now: number): void {
    this.window(phoneNumberId).record(now);
  }

  /** The most messages any number was accepted in one second (its pace as Meta counts it). */
  busiestSecond(): number {
    let most = 0;
    for (const window of this.windows.values()) most = Math.max(most, window.peak);
    return most;
  }

  clear(): void {
    this.windows.clear();
  }
}

export class PairLimiter {
  private readonly lastAccepted = new Map<string, number>();
  private lastSweep = 0;

  /** True when the last accepted message to this pair is at least `windowMs` old (or none). */
  allows(phoneNumberId: string, recipient: string, now: number, windowMs: number): boolean {
    if (windowMs <= 0) return true;
    const last = this.lastAccepted.get(`${phoneNumberId}:${recipient}`);
    return last === undefined || now - last >= windowMs;
  }

  record(phoneNumberId: string, recipient: string, now: number, windowMs: number): void {
    this.lastAccepted.set(`${phoneNumberId}:${recipient}`, now);
    // Forget pairs older than the window now and then, so a million-contact run stays small.
    if (this.lastAccepted.size > 10_000 && now - this.lastSweep > windowMs) {
      this.lastSweep = now;
      for (const [key, at] of this.lastAccepted) if (now - at >= windowMs) this.lastAccepted.delete(key);
    }
  }

  clear(): void {
    this.lastAccepted.clear();
  }
}
