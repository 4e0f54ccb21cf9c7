import type { ContactProgress } from '../../domain/dialer/contact-progress';

/** A call the lane is responsible for: whose contact, and where that contact stood when dialled. */
export interface LaneCall {
  contactId: number;
  progress: ContactProgress;
  /** When its attempt was recorded (the journal must cover the call from then on). */
  startedAt: Date;
}

/**
 * The lane's ledger of lines: `reserved` counts slots taken by calls being recorded, originated or
 * up (what the pacer sees as in flight); `inflight` the calls originated and not yet ended. Each
 * call ends exactly once, whoever reports it first (its tracker, an originate failure, the
 * reconciliation of a dead lane's call).
 */
export class CallBook {
  private readonly inflight = new Map<string, LaneCall>();
  private readonly settled = new Set<string>();
  private reservedSlots = 0;

  get reserved(): number {
    return this.reservedSlots;
  }

  get size(): number {
    return this.inflight.size;
  }

  /** Slots for a batch about to be recorded. */
  reserve(n: number): void {
    this.reservedSlots += n;
  }

  /** Slots of a batch that will not be placed (recording failed, or another lane holds the keys). */
  release(n: number): void {
    this.reservedSlots -= n;
  }

  /** A reserved slot now carries this call. */
  begin(key: string, call: LaneCall): void {
    this.inflight.set(key, call);
  }

  /** A call placed by a dead lane, taken over: it takes a slot of its own. */
  adopt(key: string, call: LaneCall): void {
    this.reservedSlots++;
    this.begin(key, call);
  }

  /** The call under this key while it is up. */
  callOf(key: string): LaneCall | undefined {
    return this.inflight.get(key);
  }

  isSettled(key: string): boolean {
    return this.settled.has(key);
  }

  /** The call ended (or was withdrawn): true the first time only. Frees its slot. */
  end(key: string): boolean {
    if (this.settled.has(key)) return false;
    this.settled.add(key);
    this.inflight.delete(key);
    this.reservedSlots--;
    return true;
  }

  /** Keys of calls still up (for a drain to hand over). */
  keys(): string[] {
    return [...this.inflight.keys()];
  }
}
