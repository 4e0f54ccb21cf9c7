import type { Kysely } from 'kysely';
import { applyOutcome, currentPhone } from '../../domain/dialer/contact-progress';
import { overShortCallGuard, type ShortCallGuard } from '../../domain/dialer/short-calls';
import { closedDdds } from '../../domain/dialer/windows';
import { shortCallsToday } from '../../db/short-calls';
import type { Database } from '../../db/schema';
import { AgentLane } from './answered-call';
import type { AriSession } from './ari-session';
import { CallBook, type LaneCall } from './call-book';
import type { CallEnd } from './call-end';
import { IvrLane } from './ivr-lane';
import type { ConnectAgent } from './ivr-runner';
import { FailureWindow, stopReason, Waker, whatNext, type LaneStopReason } from './lane-control';
import { emptyLaneMetrics, LaneMetrics, type LaneMetricsSummary } from './lane-metrics';
import type { Pacer, PacerFactory } from './pacer';
import { pacerForStrategy } from './pacers';
import { settleUnseen, type SeenSoFar } from './lane-settle';
import { followOrphan } from './reconcile';
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

export type { LaneStopReason } from './lane-control';
export type { LaneMetricsSummary } from './lane-metrics';

/**
 * A dialing lane: one long-running activity that keeps a campaign's channels busy. It claims due
 * contacts in pages, asks its pacer how many calls may start, records each attempt BEFORE
 * originating (the attempt key is the ARI channelId, so a retried originate can never place a
 * second call), follows each call through the CallTracker, and writes outcomes in batches. It
 * returns when the campaign no longer may dial (paused, stopped, window closed, end time, too many
 * network failures), when nothing is due, or when every contact is final; calls in progress
 * always finish first.
 *
 * After a crash the retried lane reconciles attempts left `dialing` (reconcile.ts).
 */

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

export interface LaneTuning {
  /** How often the lane re-reads the campaign status and checks its window. */
  controlEveryMs?: number;
  /** How often it re-reads the strategy version (edits take effect within this). */
  strategyEveryMs?: number;
  /** Batch window for writing outcomes. */
  flushEveryMs?: number;
  /** How often a reconciled call (whose events go to a dead worker's app) is polled. */
  reconcilePollMs?: number;
  /** How long a call found gone waits for the event journal to catch up (lane-settle.ts). */
  settleWaitMs?: number;
  /** How often the tenant's short calls of the day are read against the guard (one indexed count per read). */
  shortCallGuardEveryMs?: number;
}

export interface LaneDeps {
  db: Kysely<Database>;
  ari: () => Promise<AriSession>;
  heartbeat?: (details: unknown) => void;
  cancelled?: AbortSignal;
  /** The worker is shutting down: stop dialing, wait up to `drainMs` for calls to end, hand the rest over. */
  draining?: AbortSignal;
  drainMs?: number;
  tuning?: LaneTuning;
  /** The pacing mode (default: by the strategy, pacers.ts). */
  pacer?: PacerFactory;
  /** The tenant's short-call guard (SHORT_CALL_GUARD_*): over it, the lane stops and the campaign pauses. */
  shortCallGuard?: ShortCallGuard;
  /** Connects an IVR's `transfer_agent` to an agent; by default the lane's own connector (answered-call.ts). */
  connectAgent?: ConnectAgent;
}

/** The last summary per campaign, for the bench (same process). */
export const laneStats = new Map<string, LaneMetricsSummary>();

export async function runLane(deps: LaneDeps, campaignId: string): Promise<LaneResult> {
  const campaign = await loadCampaign(deps.db, campaignId);
  if (campaign.status !== 'running') {
    return {
      reason: 'not_running',
      nextAt: null,
      waitingWindow: false,
      dialed: 0,
      finished: 0,
      reconciled: 0,
      metrics: emptyLaneMetrics(campaign.strategy.pacing.channels),
    };
  }
  // Checked before the first call too: a campaign resumed while the tenant's day is still over the guard pauses again at once.
  if (await tenantOverShortCallGuard(deps.db, campaign.tenantId, deps.shortCallGuard)) {
    return {
      reason: 'short_call_guard',
      nextAt: null,
      waitingWindow: false,
      dialed: 0,
      finished: 0,
      reconciled: 0,
      metrics: emptyLaneMetrics(campaign.strategy.pacing.channels),
    };
  }
  return new Lane(deps, campaign, await deps.ari()).run();
}

async function tenantOverShortCallGuard(db: Kysely<Database>, tenantId: string, guard: ShortCallGuard | undefined): Promise<boolean> {
  return guard !== undefined && overShortCallGuard(await shortCallsToday(db, tenantId), guard);
}

type Tuning = Required<LaneTuning>;

/** One run of a lane; the state of its lines lives in the units it holds (book, pacer, metrics, failures). */
class Lane {
  private readonly db: Kysely<Database>;
  private readonly tuning: Tuning;
  private readonly book = new CallBook();
  private readonly metrics = new LaneMetrics();
  private readonly failures = new FailureWindow();
  private readonly waker = new Waker();
  private readonly pacer: Pacer;
  /** Answered calls of a strategy whose `answeredCall` is an IVR flow run it (ivr-lane.ts). */
  private readonly ivr: IvrLane;
  /** Answered calls of a strategy whose `answeredCall` is `agent` go to an agent (answered-call.ts); IVR transfers too. */
  private readonly agents: AgentLane;
  private readonly results: CallResult[] = [];
  private buffer: ClaimedContact[] = [];
  private dialed = 0;
  private finished = 0;
  private dialingAllowed = true;
  private claiming = false;
  private dueExhausted = false;
  private lastEmptyClaimAt = 0;
  private failure: Error | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  /** After a drain: ends that arrive later are the next lane's to record. */
  private handedOver = false;

  constructor(
    private readonly deps: LaneDeps,
    private campaign: CampaignContext,
    private readonly session: AriSession,
  ) {
    this.db = deps.db;
    this.tuning = {
      controlEveryMs: 250,
      strategyEveryMs: 10_000,
      shortCallGuardEveryMs: 5_000,
      flushEveryMs: 50,
      reconcilePollMs: 500,
      settleWaitMs: 3_000,
      ...deps.tuning,
    };
    this.pacer = (deps.pacer ?? pacerForStrategy)(campaign.strategy, { wake: () => this.pump(), campaignId: campaign.campaignId, db: this.db });
    this.agents = new AgentLane({
      db: deps.db,
      session,
      campaign: () => this.campaign,
      callOf: (key) => this.book.callOf(key),
      pollMs: Math.min(100, this.tuning.reconcilePollMs),
      onError: (error) => process.emitWarning(`Agents: ${error.message}`),
    });
    this.ivr = new IvrLane({
      db: deps.db,
      session,
      campaign: () => this.campaign,
      callOf: (key) => this.book.callOf(key),
      connectAgent: deps.connectAgent ?? this.agents.connectAgent,
      pollMs: this.tuning.reconcilePollMs,
      onError: (error) => process.emitWarning(`IVR: ${error.message}`),
    });
  }

  async run(): Promise<LaneResult> {
    // A lane that starts while its worker drains takes nothing on: the next worker does.
    if (this.deps.draining?.aborted) return this.result('handover', 0);
    const reconciled = await this.reconcile();
    let reason: LaneStopReason;
    try {
      reason = await this.control();
      await this.drain(reason === 'handover' ? (this.deps.drainMs ?? 15_000) : Infinity);
    } finally {
      clearTimeout(this.pumpTimer);
      this.pacer.close();
    }
    await this.agents.close();
    await this.ivr.close();
    await this.flush();
    await releaseQueued(this.db, this.campaign.campaignId);
    return this.result(reason, reconciled);
  }

  // ---- reconcile what a dead lane left behind
  private async reconcile(): Promise<number> {
    const open = await openAttempts(this.db, this.campaign.campaignId);
    const settling: Promise<void>[] = [];
    for (const attempt of open) {
      const channel = await this.session.client.getChannel(attempt.key);
      this.book.adopt(attempt.key, attempt);
      this.metrics.callAdopted();
      this.ivr.adopt(attempt.key, attempt, channel !== undefined);
      await this.agents.adopt(attempt.key, channel !== undefined);
      // Still up: followed to its end. Gone: it ended while nobody listened; the journal says how.
      const seen = channel ? followOrphan(this.session, attempt, this.tuning.reconcilePollMs) : Promise.resolve({ sawUp: false });
      const settled = seen.then((s) => this.settleUnseen(attempt.key, attempt, s));
      if (!channel) settling.push(settled);
    }
    await Promise.all(settling);
    await this.flush();
    await releaseQueued(this.db, this.campaign.campaignId);
    return open.length;
  }

  // ---- control loop: checks every controlEveryMs (or when woken), until a reason to stop
  private async control(): Promise<LaneStopReason> {
    let idleConfirming = false;
    let lastStrategyCheck = performance.now();
    let lastGuardCheck = performance.now();
    let lastFlush = performance.now();
    // Every call's end wakes the loop (to see idleness at once); the campaign's status is read, and
    // the heartbeat sent, once per controlEveryMs however often it wakes.
    let lastStatusCheck = Number.NEGATIVE_INFINITY;
    const flushLoop = setInterval(() => {
      if (performance.now() - lastFlush >= this.tuning.flushEveryMs) {
        lastFlush = performance.now();
        this.flush().catch((e) => (this.failure = e as Error));
      }
    }, this.tuning.flushEveryMs);
    this.pump();
    try {
      for (;;) {
        await this.waker.sleep(this.tuning.controlEveryMs);
        if (this.failure) throw this.failure;
        const statusDue = performance.now() - lastStatusCheck >= this.tuning.controlEveryMs;
        if (statusDue) this.deps.heartbeat?.({ inflight: this.book.size, dialed: this.dialed, finished: this.finished });
        const verdict = stopReason(
          {
            draining: this.deps.draining?.aborted ?? false,
            cancelled: this.deps.cancelled?.aborted ?? false,
            endAt: this.campaign.endAt,
            strategy: this.campaign.strategy,
            failures: this.failures,
            idle: this.dueExhausted && this.buffer.length === 0 && this.book.reserved === 0 && !this.claiming,
          },
          new Date(),
        );
        if (verdict === 'idle_candidate') {
          // Outcomes not yet written may have made contacts due again: write them and look once more.
          if (idleConfirming) return 'idle';
          idleConfirming = true;
          await this.flush();
          this.lastEmptyClaimAt = 0;
          await this.refill();
          continue;
        }
        if (verdict) return verdict;
        idleConfirming = false;
        if (statusDue) {
          lastStatusCheck = performance.now();
          const status = await this.db.selectFrom('dialer_campaigns').select(['status']).where('id', '=', this.campaign.campaignId).executeTakeFirstOrThrow();
          if (status.status !== 'running') return 'not_running';
        }
        if (performance.now() - lastGuardCheck >= this.tuning.shortCallGuardEveryMs) {
          lastGuardCheck = performance.now();
          if (await this.overShortCallGuard()) return 'short_call_guard';
        }
        if (performance.now() - lastStrategyCheck >= this.tuning.strategyEveryMs) {
          lastStrategyCheck = performance.now();
          await this.reloadStrategy();
        }
        this.pump();
      }
    } finally {
      clearInterval(flushLoop);
    }
  }

  private overShortCallGuard(): Promise<boolean> {
    return tenantOverShortCallGuard(this.db, this.campaign.tenantId, this.deps.shortCallGuard);
  }

  private async reloadStrategy(): Promise<void> {
    const fresh = await loadCampaign(this.db, this.campaign.campaignId);
    if (fresh.strategyVersion === this.campaign.strategyVersion && fresh.endAt?.getTime() === this.campaign.endAt?.getTime()) return;
    this.campaign = fresh;
    this.pacer.configure(fresh.strategy);
  }

  /**
   * Stop dialing; calls in progress finish and are recorded. A worker shutting down waits only
   * `budgetMs`: calls still up then stay `dialing` (never hung up mid-conversation) and the next
   * lane takes them over, settling them from Asterisk and the event journal (reconcile.ts).
   */
  private async drain(budgetMs: number): Promise<void> {
    this.dialingAllowed = false;
    clearTimeout(this.pumpTimer);
    this.buffer = [];
    this.metrics.stopped();
    const until = performance.now() + budgetMs;
    // Slots reserved for a batch still being recorded or originated are waited for in any case.
    while (this.book.reserved > 0 && (performance.now() < until || this.book.reserved > this.book.size)) {
      if (this.failure) throw this.failure;
      await this.waker.sleep(Math.max(1, Math.min(1000, until - performance.now())));
      this.deps.heartbeat?.({ inflight: this.book.size, dialed: this.dialed, finished: this.finished, draining: true });
    }
    this.handedOver = true;
  }

  private async result(stopped: LaneStopReason, reconciled: number): Promise<LaneResult> {
    const { campaignId, strategy } = this.campaign;
    const next = whatNext(stopped, await remaining(this.db, campaignId), strategy, new Date());
    const metrics = this.metrics.summary(strategy.pacing.channels);
    laneStats.set(campaignId, metrics);
    return {
      reason: next.reason,
      nextAt: next.nextAt?.toISOString() ?? null,
      waitingWindow: next.waitingWindow,
      dialed: this.dialed,
      finished: this.finished,
      reconciled,
      metrics,
    };
  }

  // ---- placing calls
  private pump(): void {
    if (!this.dialingAllowed || this.failure) return;
    const ceiling = this.pacer.ceiling();
    if (this.buffer.length > 0) {
      const { granted, retryInMs } = this.pacer.grant(this.buffer.length, this.book.reserved, performance.now());
      if (granted > 0) void this.startBatch(this.buffer.splice(0, granted));
      else if (retryInMs !== undefined && !this.pumpTimer) {
        this.pumpTimer = setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, retryInMs);
      }
    }
    if (this.buffer.length < Math.max(10, ceiling) && !this.claiming && (!this.dueExhausted || performance.now() - this.lastEmptyClaimAt > 1000))
      void this.refill();
  }

  private async refill(): Promise<void> {
    if (this.claiming || !this.dialingAllowed) return;
    this.claiming = true;
    try {
      const closed = closedDdds(this.campaign.strategy.callingWindow, new Date());
      const claimed = await claimDue(this.db, this.campaign, Math.max(50, this.pacer.ceiling()), closed);
      const blocked = claimed.filter((c) => c.blocked);
      if (blocked.length) await this.recordBlocked(blocked);
      const callable = claimed.filter((c) => !c.blocked);
      this.buffer = this.buffer.concat(callable);
      if (claimed.length === 0) {
        if (!this.dueExhausted && this.buffer.length === 0) {
          this.dueExhausted = true;
          this.metrics.dueExhausted();
        }
        this.lastEmptyClaimAt = performance.now();
      } else if (callable.length) {
        this.dueExhausted = false;
      }
    } catch (error) {
      this.failure = error as Error;
    } finally {
      this.claiming = false;
    }
    this.pump();
    this.waker.wake();
  }

  private async recordBlocked(blocked: ClaimedContact[]): Promise<void> {
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
    await recordResults(this.db, this.campaign, rows);
    // `done` with outcome blocked → the dedicated state.
    await this.db
      .updateTable('dialer_contacts')
      .set({ state: 'blocked' })
      .where('campaign_id', '=', this.campaign.campaignId)
      .where(
        'contact_id',
        'in',
        blocked.map((c) => c.contactId),
      )
      .execute();
  }

  private async startBatch(batch: ClaimedContact[]): Promise<void> {
    const { campaign } = this;
    this.book.reserve(batch.length);
    const attempts: Array<NewAttempt & { call: LaneCall }> = batch.map((c) => {
      const dialNo = c.progress.dials + 1;
      return {
        key: attemptKey(campaign.campaignId, c.contactId, campaign.cycle, dialNo),
        contactId: c.contactId,
        dialNo,
        attemptNo: c.progress.attempts + 1,
        phone: currentPhone(campaign.strategy, c.progress),
        call: { contactId: c.contactId, progress: c.progress, startedAt: new Date() },
      };
    });
    let recorded: Set<string>;
    try {
      recorded = await insertAttempts(this.db, campaign, attempts);
    } catch (error) {
      this.book.release(batch.length);
      this.failure = error as Error;
      this.waker.wake();
      return;
    }
    // Keys another lane of this campaign already holds: that lane places those calls.
    this.book.release(attempts.length - recorded.size);
    for (const a of attempts) if (recorded.has(a.key)) this.originate(a.key, a.phone, a.call);
  }

  private originate(key: string, phone: string, call: LaneCall): void {
    const { client, tracker } = this.session;
    const { ringTimeoutSec, callerId, answeringMachineDetection } = this.campaign.strategy;
    this.book.begin(key, call);
    tracker.track(key).then(
      // A hangup missed while the WebSocket was down: the journal may have it.
      (report) => (report.lost ? this.settleUnseen(key, call, { sawUp: report.reachedUp, amdStatus: report.amdStatus }) : this.finishCall(key, call, report)),
      () => undefined,
    );
    this.metrics.callStarted();
    this.pacer.callPlaced(key, performance.now());
    this.dialed++;
    client
      .originate({
        endpoint: `PJSIP/${phone}@trunk`,
        callerId: callerId ?? '',
        timeoutSec: ringTimeoutSec,
        channelId: key,
        detectMachine: answeringMachineDetection,
      })
      .then(
        () => tracker.placed(key),
        () => void this.originateFailed(key),
      );
  }

  /** The originate failed: placed anyway (lost answer) if Asterisk has the channel, else withdrawn. */
  private async originateFailed(key: string): Promise<void> {
    const { client, tracker } = this.session;
    const channel = await client.getChannel(key).catch(() => null);
    if (this.book.isSettled(key)) return;
    // Asterisk has it, or is unreachable: keep following the call; reconciliation decides once it answers.
    if (channel !== undefined) return tracker.placed(key);
    tracker.forget(key);
    this.book.end(key);
    this.metrics.callWithdrawn();
    this.failures.push(true);
    await withdrawAttempts(this.db, this.campaign, [key], 10_000).catch((e) => (this.failure = e as Error));
    this.pump();
    this.waker.wake();
  }

  // ---- outcomes
  private async settleUnseen(key: string, call: LaneCall, seen: SeenSoFar): Promise<void> {
    try {
      this.finishCall(key, call, await settleUnseen(this.db, { key, startedAt: call.startedAt }, seen, { waitMs: this.tuning.settleWaitMs }));
    } catch (error) {
      this.failure = error as Error;
      this.waker.wake();
    }
  }

  private finishCall(key: string, call: LaneCall, end: CallEnd): void {
    if (this.handedOver || !this.book.end(key)) return;
    this.ivr.callEnded(key, end.endedAt);
    const outcome = this.agents.callEnded(key, end.outcome);
    this.metrics.callEnded();
    this.finished++;
    // An end inferred after a restart (no cause) says nothing about the carrier: it is not a dialer failure.
    if (!end.lost || end.cause > 0) this.failures.push(outcome === 'network_failure');
    this.pacer.callEnded({ key, outcome, lost: end.lost, ringMs: end.ringMs, talkMs: end.talkMs, endedAt: end.endedAt });
    const step = applyOutcome(this.campaign.strategy, call.progress, outcome, new Date());
    this.results.push({
      key,
      contactId: call.contactId,
      outcome,
      cause: end.lost && !end.cause ? null : end.cause,
      causeTxt: end.lost && !end.cause ? null : end.causeTxt,
      ringMs: end.ringMs,
      talkMs: end.talkMs,
      lost: end.lost,
      answeredAt: end.answeredAt ?? null,
      endedAt: end.endedAt,
      amdStatus: end.amdStatus ?? null,
      step,
    });
    this.pump();
    this.waker.wake();
  }

  private async flush(): Promise<void> {
    if (!this.results.length) return;
    const batch = this.results.splice(0, this.results.length);
    await recordResults(this.db, this.campaign, batch);
  }
}
