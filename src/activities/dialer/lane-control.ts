import { tooManyNetworkFailures } from '../../domain/dialer/campaign-state';
import { closedDdds, isOpen, nextCallableAt, nextOpen, ruleOfWindow } from '../../domain/dialer/windows';
import type { StrategyConfig } from '../../domain/dialer/strategy';
import type { RemainingSummary } from './store';

/** `handover`: the worker is shutting down; calls still up are left for the next lane to settle. */
export type LaneStopReason = 'completed' | 'idle' | 'window_closed' | 'not_running' | 'network_failures' | 'short_call_guard' | 'ended' | 'handover';

/**
 * The outcomes the auto-pause looks at ("most of the last N attempts are network failures"), the
 * last 1000 kept. Only calls this lane saw end count: a dialer failure is the carrier's.
 */
export class FailureWindow {
  private readonly recent: boolean[] = [];

  push(networkFailure: boolean): void {
    this.recent.push(networkFailure);
    if (this.recent.length > 1000) this.recent.splice(0, this.recent.length - 1000);
  }

  tripped(strategy: StrategyConfig): boolean {
    return tooManyNetworkFailures(this.recent, strategy.failurePause.window, strategy.failurePause.ratio);
  }
}

export interface LaneCheck {
  /** The worker drains (SIGTERM/SIGINT). */
  draining?: boolean;
  cancelled: boolean;
  endAt: Date | null;
  strategy: StrategyConfig;
  failures: FailureWindow;
  /** Nothing due, nothing buffered, nothing in flight, no claim running. */
  idle: boolean;
}

/** Why the lane must stop dialing now, by the checks that need no database (in priority order). */
export function stopReason(check: LaneCheck, now: Date): LaneStopReason | 'idle_candidate' | undefined {
  if (check.draining) return 'handover';
  if (check.cancelled) return 'not_running';
  if (check.endAt && now >= check.endAt) return 'ended';
  if (!isOpen(ruleOfWindow(check.strategy.callingWindow), now)) return 'window_closed';
  if (check.failures.tripped(check.strategy)) return 'network_failures';
  if (check.idle) return 'idle_candidate';
  return undefined;
}

export interface WhatNext {
  reason: LaneStopReason;
  nextAt: Date | undefined;
  waitingWindow: boolean;
}

/** After a lane stopped: completed when nothing is open, else when something may next be dialled. */
export function whatNext(reason: LaneStopReason, left: RemainingSummary, strategy: StrategyConfig, now: Date): WhatNext {
  if (left.open === 0) return { reason: 'completed', nextAt: undefined, waitingWindow: false };
  if (reason === 'window_closed') return { reason, nextAt: nextOpen(ruleOfWindow(strategy.callingWindow), now), waitingWindow: true };
  if (reason !== 'idle') return { reason, nextAt: undefined, waitingWindow: false };
  const closed = new Set(closedDdds(strategy.callingWindow, now));
  if (left.nextDueAt && left.nextDueAt > now) return { reason, nextAt: left.nextDueAt, waitingWindow: false };
  if (left.pendingDdds.some((ddd) => ddd === null || !closed.has(ddd))) return { reason, nextAt: now, waitingWindow: false };
  // Due, but every remaining contact is outside its state's telemarketing hours.
  return { reason, nextAt: nextCallableAt(strategy.callingWindow, left.pendingDdds, now), waitingWindow: true };
}

/** A sleep the lane's events can cut short. */
export class Waker {
  private wakeNow: () => void = () => undefined;

  wake(): void {
    this.wakeNow();
  }

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeNow = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.wakeNow = () => undefined;
    });
  }
}
