import type { Kysely } from 'kysely';
import type { CallOutcome } from '../../domain/call-outcome';
import { tooManyNetworkFailures } from '../../domain/dialer/campaign-state';
import { applyOutcome, currentPhone, type ContactProgress } from '../../domain/dialer/contact-progress';
import { closedDdds, isOpen, nextCallableAt, nextOpen, ruleOfWindow } from '../../domain/dialer/windows';
import type { Database } from '../../db/schema';
import type { CallReport } from '../../integrations/ari';
import type { AriSession } from './ari-session';
import {
  attemptKey,
  claimDue,
  insertAttempts,
  loadCampaign,
  openAttempts,
  recordResults,
  releaseQueued,
  remaining,
  withdrawAttempts,
  type CallResult,
  type CampaignContext,
  type ClaimedContact,
  type NewAttempt,
} from './store';

/**
 * A dialing lane: one long-running activity that keeps a campaign's channels busy. It claims due
 * contacts in pages, records each attempt BEFORE originating (the attempt key is the ARI
 * channelId, so a retried originate can never place a second call), follows each call through
 * the CallTracker, and writes outcomes in batches. It returns when the campaign no longer may
 * dial (paused, stopped, window closed, end time, too many network failures), when nothing is
 * due, or when every contact is final; calls in progress always finish first.
 *
 * After a crash the retried lane reconciles attempts left `dialing`: a channel Asterisk still
 * has is followed to its end; one it no longer knows ended unseen and is retried per the
 * strategy as a network failure (which does not use up an attempt).
 */

export type LaneStopReason = 'completed' | 'idle' | 'window_closed' | 'not_running' | 'network_failures' | 'ended';

export interface LaneResult {
  reason: LaneStopReason;
  /** When something may next be dialled (idle / window closed). */
  nextAt: string | null;
  /** Waiting for a calling window (the campaign's, or the state hours of every remaining contact). */
  waitingWindow: boolean;
  dialed: number;
  finished: number;
  reconciled: number;
  metrics: LaneMetricsSummary;
}

export interface LaneMetricsSummary {
  /** Delay from a channel freeing to the next originate, while contacts were due. */
  freeToOriginateMs: { count: number; p50: number; p99: number; max: number };
  /** Average calls up ÷ channels, from the first originate until nothing more was due. */
  lineUtilisation: number;
  channels: number;
}

export interface LaneTuning {
  /** How often the lane re-reads the campaign status and checks its window. */
  controlEveryMs?: number;
  /** How often it re-reads the strategy version (edits take effect within this). */
  strategyEveryMs?: number;
  /** Batch window for writing outcomes. */
  flushEveryMs?: number;
  /** How often a reconciled call (whose events go to a dead worker's app) is polled. */
  reconcilePollMs?: number;
}

export interface LaneDeps {
  db: Kysely<Database>;
  ari: () => Promise<AriSession>;
  heartbeat?: (details: unknown) => void;
  cancelled?: AbortSignal;
  tuning?: LaneTuning;
}

/** The last summary per campaign, for the bench (same process). */
export const laneStats = new Map<string, LaneMetricsSummary>();

interface Inflight {
  contactId: number;
  progress: ContactProgress;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] : 0);

export async function runLane(deps: LaneDeps, campaignId: string): Promise<LaneResult> {
  const { db } = deps;
  const tuning = { controlEveryMs: 250, strategyEveryMs: 10_000, flushEveryMs: 50, reconcilePollMs: 500, ...deps.tuning };
  let campaign: CampaignContext = await loadCampaign(db, campaignId);
  const emptyMetrics: LaneMetricsSummary = { freeToOriginateMs: { count: 0, p50: 0, p99: 0, max: 0 }, lineUtilisation: 0, channels: campaign.strategy.pacing.channels };
  if (campaign.status !== 'running') {
    return { reason: 'not_running', nextAt: null, waitingWindow: false, dialed: 0, finished: 0, reconciled: 0, metrics: emptyMetrics };
  }
  const { client, tracker, amd } = await deps.ari();

  const inflight = new Map<string, Inflight>();
  const settled = new Set<string>();
  const results: CallResult[] = [];
  const recent: boolean[] = [];
  let buffer: ClaimedContact[] = [];
  let reserved = 0; // slots taken by calls being recorded/originated or up
  let activeCalls = 0; // calls originated and not yet ended
  let dialed = 0;
  let finished = 0;
  let dialingAllowed = true;
  let claiming = false;
  let dueExhausted = false;
  let lastEmptyClaimAt = 0;
  let failure: Error | undefined;
  let wake: () => void = () => undefined;

  // Metrics: free→originate delays and the busy-channel integral while contacts are due.
  const delays: number[] = [];
  const freedAt: number[] = [];
  let busyIntegral = 0;
  let lastChange = 0;
  let firstOriginateAt = 0;
  let dueUntil = 0;
  const noteBusy = () => {
    const now = performance.now();
    if (firstOriginateAt && !dueUntil) busyIntegral += activeCalls * (now - lastChange);
    lastChange = now;
  };

  // Pacing: a token bucket of callsPerSecond.
  let tokens = 1;
  let tokensAt = performance.now();
  let pumpTimer: NodeJS.Timeout | undefined;
  const takeTokens = (wanted: number) => {
    const { callsPerSecond, channels } = campaign.strategy.pacing;
    const now = performance.now();
    const burst = Math.max(1, Math.min(callsPerSecond, channels));
    tokens = Math.min(burst, tokens + ((now - tokensAt) / 1000) * callsPerSecond);
    tokensAt = now;
    const granted = Math.min(wanted, Math.floor(tokens));
    tokens -= granted;
    return granted;
  };

  function finishCall(
    key: string,
    info: Inflight,
    report: Pick<CallReport, 'outcome' | 'cause' | 'causeTxt' | 'ringMs' | 'talkMs' | 'lost' | 'answeredAt' | 'endedAt'> & { amdStatus?: string },
  ): void {
    if (settled.has(key)) return;
    settled.add(key);
    inflight.delete(key);
    noteBusy();
    activeCalls = Math.max(0, activeCalls - 1);
    reserved--;
    finished++;
    freedAt.push(performance.now());
    const outcome: CallOutcome = report.outcome;
    recent.push(outcome === 'network_failure');
    if (recent.length > 1000) recent.splice(0, recent.length - 1000);
    const step = applyOutcome(campaign.strategy, info.progress, outcome, new Date());
    results.push({
      key,
      contactId: info.contactId,
      outcome,
      cause: report.lost ? null : report.cause,
      causeTxt: report.lost ? null : report.causeTxt,
      ringMs: report.ringMs,
      talkMs: report.talkMs,
      lost: report.lost,
      answeredAt: report.answeredAt ?? null,
      endedAt: report.endedAt,
      amdStatus: report.amdStatus ?? null,
      step,
    });
    pump();
    wake();
  }

  async function flush(): Promise<void> {
    if (!results.length) return;
    const batch = results.splice(0, results.length);
    await recordResults(db, campaign, batch);
  }

  async function refill(): Promise<void> {
    if (claiming || !dialingAllowed) return;
    claiming = true;
    try {
      const { channels } = campaign.strategy.pacing;
      const closed = closedDdds(campaign.strategy.callingWindow, new Date());
      const claimed = await claimDue(db, campaign, Math.max(50, channels), closed);
      const blocked = claimed.filter((c) => c.blocked);
      if (blocked.length) {
        await recordBlocked(blocked);
      }
      const callable = claimed.filter((c) => !c.blocked);
      buffer = buffer.concat(callable);
      if (claimed.length === 0) {
        if (!dueExhausted && buffer.length === 0) {
          dueExhausted = true;
          noteBusy();
          dueUntil = performance.now();
          freedAt.length = 0;
        }
        lastEmptyClaimAt = performance.now();
      } else if (callable.length) {
        dueExhausted = false;
      }
    } catch (error) {
      failure = error as Error;
    } finally {
      claiming = false;
    }
    pump();
    wake();
  }

  async function recordBlocked(blocked: ClaimedContact[]): Promise<void> {
    const now = new Date();
    const rows: CallResult[] = blocked.map((c) => ({
      key: '',
      contactId: c.contactId,
      outcome: 'blocked',
      cause: null,
      causeTxt: null,
      ringMs: 0,
      talkMs: 0,
      lost: false,
      answeredAt: null,
      endedAt: now,
      amdStatus: null,
      step: { state: 'done', finalOutcome: 'blocked', progress: c.progress },
    }));
    await recordResults(db, campaign, rows);
    // `done` with outcome blocked → the dedicated state.
    await db
      .updateTable('dialer_contacts')
      .set({ state: 'blocked' })
      .where('campaign_id', '=', campaignId)
      .where('contact_id', 'in', blocked.map((c) => c.contactId))
      .execute();
  }

  function pump(): void {
    if (!dialingAllowed || failure) return;
    const { channels } = campaign.strategy.pacing;
    const free = channels - reserved;
    if (free > 0 && buffer.length > 0) {
      const granted = takeTokens(Math.min(free, buffer.length));
      if (granted > 0) void startBatch(buffer.splice(0, granted));
      else if (!pumpTimer) {
        pumpTimer = setTimeout(() => {
          pumpTimer = undefined;
          pump();
        }, Math.ceil(1000 / campaign.strategy.pacing.callsPerSecond));
      }
    }
    if (buffer.length < Math.max(10, channels) && !claiming && (!dueExhausted || performance.now() - lastEmptyClaimAt > 1000)) void refill();
  }

  async function startBatch(batch: ClaimedContact[]): Promise<void> {
    reserved += batch.length;
    const attempts: Array<NewAttempt & { info: Inflight }> = batch.map((c) => {
      const dialNo = c.progress.dials + 1;
      return {
        key: attemptKey(campaignId, c.contactId, campaign.cycle, dialNo),
        contactId: c.contactId,
        dialNo,
        attemptNo: c.progress.attempts + 1,
        phone: currentPhone(campaign.strategy, c.progress),
        info: { contactId: c.contactId, progress: c.progress },
      };
    });
    let recorded: Set<string>;
    try {
      recorded = await insertAttempts(db, campaign, attempts);
    } catch (error) {
      reserved -= batch.length;
      failure = error as Error;
      wake();
      return;
    }
    // Keys another lane of this campaign already holds: that lane places those calls.
    reserved -= attempts.length - recorded.size;
    const { ringTimeoutSec, callerId, answeringMachineDetection } = campaign.strategy;
    for (const a of attempts) {
      if (!recorded.has(a.key)) continue;
      inflight.set(a.key, a.info);
      const report = tracker.track(a.key);
      report.then(
        (r) => finishCall(a.key, a.info, r),
        () => undefined,
      );
      const sentAt = performance.now();
      const free = freedAt.shift();
      if (free !== undefined && !dueUntil) delays.push(sentAt - free);
      if (!firstOriginateAt) {
        firstOriginateAt = sentAt;
        lastChange = sentAt;
      }
      noteBusy();
      activeCalls++;
      dialed++;
      client
        .originate({
          endpoint: `PJSIP/${a.phone}@trunk`,
          callerId: callerId ?? '',
          timeoutSec: ringTimeoutSec,
          channelId: a.key,
          detectMachine: answeringMachineDetection,
        })
        .then(
          () => tracker.placed(a.key),
          (error) => void originateFailed(a.key, a.info, error as Error),
        );
    }
  }

  /** The originate failed: placed anyway (lost answer) if Asterisk has the channel, else withdrawn. */
  async function originateFailed(key: string, info: Inflight, _error: Error): Promise<void> {
    const channel = await client.getChannel(key).catch(() => null);
    if (settled.has(key)) return;
    if (channel) {
      tracker.placed(key);
      return;
    }
    if (channel === null) {
      // Asterisk unreachable: keep following the call; reconciliation decides once it answers.
      tracker.placed(key);
      return;
    }
    tracker.forget(key);
    settled.add(key);
    inflight.delete(key);
    noteBusy();
    activeCalls = Math.max(0, activeCalls - 1);
    reserved--;
    recent.push(true);
    await withdrawAttempts(db, campaign, [key], 10_000).catch((e) => (failure = e as Error));
    void info;
    pump();
    wake();
  }

  /**
   * Follows a call placed by an earlier (dead) lane: its events go to that lane's app, so poll.
   * A call that lane sent through answering-machine detection is carried through it here (its
   * detector will never see the call come back): answered → sent to AMD(), in AMD → waited for,
   * back → AMDSTATUS read and a machine hung up (amd.ts `resume`). If the channel vanishes first,
   * what was seen decides, as for any call lost from sight (call-tracker.ts): up → `answered`
   * (`answering_machine` if MACHINE was read), never up → `network_failure`. An AMD left undecided
   * thus counts as answered: nothing says it was a machine.
   */
  async function followReconciled(key: string, info: Inflight, startedAt: Date): Promise<void> {
    let sawUp = false;
    let amdStatus: string | undefined;
    for (;;) {
      const channel = await client.getChannel(key).catch(() => null);
      if (channel === undefined) break;
      if (channel?.state === 'Up') sawUp = true;
      // Errors are retried on the next poll, like getChannel's.
      if (channel && !amdStatus) amdStatus = await amd.resume(channel).catch(() => undefined);
      await new Promise((r) => setTimeout(r, tuning.reconcilePollMs));
    }
    const endedAt = new Date();
    finishCall(key, info, {
      outcome: sawUp ? (amdStatus === 'MACHINE' ? 'answering_machine' : 'answered') : 'network_failure',
      cause: 0,
      causeTxt: '',
      ringMs: 0,
      talkMs: 0,
      lost: true,
      answeredAt: undefined,
      endedAt: endedAt < startedAt ? startedAt : endedAt,
      amdStatus,
    });
  }

  // ---- reconcile what a dead lane left behind
  const open = await openAttempts(db, campaignId);
  for (const attempt of open) {
    const channel = await client.getChannel(attempt.key);
    const info = { contactId: attempt.contactId, progress: attempt.progress };
    reserved++;
    activeCalls++;
    inflight.set(attempt.key, info);
    if (channel) void followReconciled(attempt.key, info, attempt.startedAt);
    else {
      // Ended while nobody listened: the real outcome is unknown; retried for free per the strategy.
      finishCall(attempt.key, info, { outcome: 'network_failure', cause: 0, causeTxt: '', ringMs: 0, talkMs: 0, lost: true, answeredAt: undefined, endedAt: new Date() });
    }
  }
  await flush();
  await releaseQueued(db, campaignId);

  // ---- control loop
  let reason: LaneStopReason | undefined;
  let idleConfirming = false;
  let lastStrategyCheck = performance.now();
  let lastFlush = performance.now();
  const flushLoop = setInterval(() => {
    if (performance.now() - lastFlush >= tuning.flushEveryMs) {
      lastFlush = performance.now();
      flush().catch((e) => (failure = e as Error));
    }
  }, tuning.flushEveryMs);
  pump();
  try {
    while (!reason) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, tuning.controlEveryMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = () => undefined;
      if (failure) throw failure;
      deps.heartbeat?.({ inflight: inflight.size, dialed, finished });
      const now = new Date();
      if (deps.cancelled?.aborted) reason = 'not_running';
      else if (campaign.endAt && now >= campaign.endAt) reason = 'ended';
      else if (!isOpen(ruleOfWindow(campaign.strategy.callingWindow), now)) reason = 'window_closed';
      else if (tooManyNetworkFailures(recent, campaign.strategy.failurePause.window, campaign.strategy.failurePause.ratio)) reason = 'network_failures';
      else if (dueExhausted && buffer.length === 0 && reserved === 0 && !claiming) {
        // Outcomes not yet written may have made contacts due again: write them and look once more.
        if (!idleConfirming) {
          idleConfirming = true;
          await flush();
          lastEmptyClaimAt = 0;
          await refill();
          continue;
        }
        reason = 'idle';
      } else idleConfirming = false;
      if (reason) break;
      const status = await db.selectFrom('dialer_campaigns').select(['status']).where('id', '=', campaignId).executeTakeFirstOrThrow();
      if (status.status !== 'running') {
        reason = 'not_running';
        break;
      }
      if (performance.now() - lastStrategyCheck >= tuning.strategyEveryMs) {
        lastStrategyCheck = performance.now();
        const fresh = await loadCampaign(db, campaignId);
        if (fresh.strategyVersion !== campaign.strategyVersion || fresh.endAt?.getTime() !== campaign.endAt?.getTime()) campaign = fresh;
      }
      pump();
    }

    // Stop dialing; calls in progress finish and are recorded.
    dialingAllowed = false;
    clearTimeout(pumpTimer);
    buffer = [];
    noteBusy();
    if (!dueUntil) dueUntil = performance.now();
    while (reserved > 0) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = () => undefined;
      deps.heartbeat?.({ inflight: inflight.size, dialed, finished, draining: true });
    }
  } finally {
    clearInterval(flushLoop);
    clearTimeout(pumpTimer);
  }
  await flush();
  await releaseQueued(db, campaignId);

  // ---- what next
  const left = await remaining(db, campaignId);
  const now = new Date();
  let nextAt: Date | undefined;
  let waitingWindow = false;
  if (left.open === 0) reason = 'completed';
  else if (reason === 'window_closed') {
    nextAt = nextOpen(ruleOfWindow(campaign.strategy.callingWindow), now);
    waitingWindow = true;
  } else if (reason === 'idle') {
    const closed = new Set(closedDdds(campaign.strategy.callingWindow, now));
    if (left.nextDueAt && left.nextDueAt > now) nextAt = left.nextDueAt;
    else if (left.pendingDdds.some((ddd) => ddd === null || !closed.has(ddd))) nextAt = now;
    else {
      // Due, but every remaining contact is outside its state's telemarketing hours.
      nextAt = nextCallableAt(campaign.strategy.callingWindow, left.pendingDdds, now);
      waitingWindow = true;
    }
  }

  const sorted = [...delays].sort((x, y) => x - y);
  const span = (dueUntil || performance.now()) - firstOriginateAt;
  const metrics: LaneMetricsSummary = {
    freeToOriginateMs: { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? 0 },
    lineUtilisation: firstOriginateAt && span > 0 ? busyIntegral / (campaign.strategy.pacing.channels * span) : 0,
    channels: campaign.strategy.pacing.channels,
  };
  laneStats.set(campaignId, metrics);
  return { reason, nextAt: nextAt?.toISOString() ?? null, waitingWindow, dialed, finished, reconciled: open.length, metrics };
}
