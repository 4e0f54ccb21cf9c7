/** How well a lane kept its lines busy, reported with each lane result (and kept for the bench). */
export interface LaneMetricsSummary {
  /** Delay from a channel freeing to the next originate, while contacts were due. */
  freeToOriginateMs: { count: number; p50: number; p99: number; max: number };
  /** Average calls up ÷ channels, from the first originate until nothing more was due. */
  lineUtilisation: number;
  channels: number;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] : 0);

export const emptyLaneMetrics = (channels: number): LaneMetricsSummary => ({
  freeToOriginateMs: { count: 0, p50: 0, p99: 0, max: 0 },
  lineUtilisation: 0,
  channels,
});

/**
 * Free→originate delays and the busy-line integral, measured only while contacts are due (once
 * nothing is due, idle lines are not the lane's fault). `now` is injectable for tests.
 */
export class LaneMetrics {
  private readonly delays: number[] = [];
  private readonly freedAt: number[] = [];
  private busyIntegral = 0;
  private lastChange = 0;
  private firstOriginateAt = 0;
  private dueUntil = 0;
  private active = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A call was originated (or taken over): one more line busy. */
  callStarted(): void {
    const at = this.now();
    const free = this.freedAt.shift();
    if (free !== undefined && !this.dueUntil) this.delays.push(at - free);
    if (!this.firstOriginateAt) {
      this.firstOriginateAt = at;
      this.lastChange = at;
    }
    this.noteBusy();
    this.active++;
  }

  /** A call taken over from a dead lane: busy, but no free→originate delay to measure. */
  callAdopted(): void {
    this.noteBusy();
    this.active++;
  }

  /** A call ended: its line is free, and the next originate measures the delay from now. */
  callEnded(): void {
    this.noteBusy();
    this.active = Math.max(0, this.active - 1);
    this.freedAt.push(this.now());
  }

  /** An originate that certainly placed nothing: the line was never busy. */
  callWithdrawn(): void {
    this.noteBusy();
    this.active = Math.max(0, this.active - 1);
  }

  /** A claim found nothing due: measuring ends here (a later exhaustion moves the end on). */
  dueExhausted(): void {
    this.noteBusy();
    this.dueUntil = this.now();
    this.freedAt.length = 0;
  }

  /** The lane stops dialing: measuring ends now unless it already ended. */
  stopped(): void {
    this.noteBusy();
    if (!this.dueUntil) this.dueUntil = this.now();
  }

  summary(channels: number): LaneMetricsSummary {
    this.noteBusy();
    const sorted = [...this.delays].sort((x, y) => x - y);
    const span = (this.dueUntil || this.now()) - this.firstOriginateAt;
    return {
      freeToOriginateMs: { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? 0 },
      lineUtilisation: this.firstOriginateAt && span > 0 ? this.busyIntegral / (channels * span) : 0,
      channels,
    };
  }

  private noteBusy(): void {
    const at = this.now();
    if (this.firstOriginateAt && !this.dueUntil) this.busyIntegral += this.active * (at - this.lastChange);
    this.lastChange = at;
  }
}
