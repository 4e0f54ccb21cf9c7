import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sql, type Kysely } from 'kysely';
import type { Database, DialerCampaignStatus } from '../../db/schema';
import { createAriSessionProvider, type AriSession, type AriSettings } from './ari-session';
import type { ConnectAgent } from './ivr-runner';
import { runLane, type LaneResult, type LaneTuning } from './lane';
import { campaignGroupRefusal } from '../campaign-group';
import type { ShortCallGuard } from '../../domain/dialer/short-calls';
import { startCycle } from './cycles';
import { syncDialerRecurrenceActivity, type RecurrenceSync } from './recurrence';
import { syncDialerStartActivity, type StartScheduleSync } from './start-schedule';
import { loadCampaign, prepareContacts } from './store';

export interface DialerActivityDeps {
  db: Kysely<Database>;
  /** Where Asterisk is; without it the dialing lane fails (non-retryable) with a clear message. */
  ari?: AriSettings;
  /** Or a ready session provider (tests share one per process). */
  ariSession?: () => Promise<AriSession>;
  tuning?: LaneTuning;
  /** Aborted when the worker shuts down: lanes stop dialing and hand their calls over (lane.ts). */
  draining?: AbortSignal;
  /** How long a draining lane waits for its calls to end before handing them over live. */
  drainMs?: number;
  /** SHORT_CALL_GUARD_*: a tenant's day over it pauses its campaigns (reason `short_call_guard`). */
  shortCallGuard?: ShortCallGuard;
  /** Connects an IVR flow's transfer to an agent of the campaign (ivr-runner.ts). */
  connectAgent?: ConnectAgent;
}

/**
 * Finished calls are written every 200 ms (one transaction of five round trips for the batch):
 * at 1,000 channels, writing every 50 ms cost about a round trip per call (docs/scaling.md).
 * A crash between two writes loses nothing: the next lane settles those calls from the journal.
 */
const RESULTS_FLUSH_EVERY_MS = 200;

/** Well under the smallest heartbeat timeout allowed (DIALER_LANE_HEARTBEAT_TIMEOUT_MS ≥ 1 s … see config). */
const LANE_HEARTBEAT_EVERY_MS = 500;

export interface CampaignStateUpdate {
  campaignId: string;
  /** The workflow's state sequence: older writes never overwrite newer ones. */
  seq: number;
  status: DialerCampaignStatus;
  waitingWindow: boolean;
  nextWindowAt: string | null;
  pauseReason: string | null;
  /** A recurring campaign between cycles: when the next one starts. */
  nextRunAt?: string | null;
}

export function createDialerActivities(deps: DialerActivityDeps) {
  const { db } = deps;
  const session = deps.ariSession ?? (deps.ari ? createAriSessionProvider(deps.ari) : undefined);

  return {
    /** Builds the campaign's contacts from its group and marks blocked ones (idempotent). */
    async prepareDialerCampaign(input: { campaignId: string }): Promise<{ total: number; blocked: number }> {
      return prepareContacts(db, await loadCampaign(db, input.campaignId));
    },

    /** Begins cycle N (1: builds the contact list; later: re-arms contacts not yet reached). Idempotent. */
    /** Opens a cycle, unless the campaign's group can no longer be used (then `refused`, and nothing changes). */
    async startDialerCycle(input: { campaignId: string; cycle: number }): Promise<{ rearmed: number; refused?: { code: string; message: string } }> {
      const campaign = await db.selectFrom('dialer_campaigns').select('group_id').where('id', '=', input.campaignId).executeTakeFirstOrThrow();
      const refusal = await campaignGroupRefusal(db, campaign.group_id, input.campaignId);
      if (refusal) return { rearmed: 0, refused: { code: refusal.code, message: refusal.message } };
      return startCycle(db, input.campaignId, input.cycle);
    },

    /** Creates, pauses, unpauses or deletes the recurrence Schedule; answers the next run. */
    async syncDialerRecurrence(input: RecurrenceSync): Promise<{ nextRunAt: string | null }> {
      return syncDialerRecurrenceActivity(input);
    },

    /** Creates, pauses, unpauses or deletes the one-off start Schedule; answers when it fires. */
    async syncDialerStart(input: StartScheduleSync): Promise<{ nextRunAt: string | null }> {
      return syncDialerStartActivity(input);
    },

    /** Writes the workflow's view of the campaign (status, waiting flag, pause reason) to PostgreSQL. */
    async recordDialerCampaignState(input: CampaignStateUpdate): Promise<void> {
      const final = input.status === 'completed' || input.status === 'stopped';
      await db
        .updateTable('dialer_campaigns')
        .set({
          status: input.status,
          state_seq: input.seq,
          waiting_window: input.waitingWindow,
          next_window_at: input.nextWindowAt,
          pause_reason: input.pauseReason,
          next_run_at: input.nextRunAt ?? null,
          ...(input.status === 'running' ? { started_at: sql`COALESCE(started_at, now())` } : {}),
          ...(final ? { finished_at: sql`COALESCE(finished_at, now())` } : {}),
        })
        .where('id', '=', input.campaignId)
        .where('state_seq', '<', input.seq)
        .execute();
    },

    /** One dialing lane (see lane.ts): heartbeats; a retry after a crash reconciles open calls. */
    async dialLane(input: { campaignId: string }): Promise<LaneResult> {
      if (!session) {
        throw ApplicationFailure.create({ type: 'ARI_NOT_CONFIGURED', message: 'The worker has no ARI_URL: it cannot place calls.', nonRetryable: true });
      }
      const ctx = Context.current();
      // Heartbeat on a timer as well as from the lane's loop: a slow query, the ARI session
      // opening or reconciling a dead lane's calls must not look like a dead worker under load.
      let details: unknown = { starting: true };
      const beat = setInterval(() => ctx.heartbeat(details), LANE_HEARTBEAT_EVERY_MS);
      try {
        const heartbeat = (d: unknown) => {
          details = d;
          ctx.heartbeat(d);
        };
        return await runLane(
          {
            db,
            ari: session,
            heartbeat,
            cancelled: ctx.cancellationSignal,
            draining: deps.draining,
            drainMs: deps.drainMs,
            tuning: { flushEveryMs: RESULTS_FLUSH_EVERY_MS, ...deps.tuning },
            shortCallGuard: deps.shortCallGuard,
            connectAgent: deps.connectAgent,
          },
          input.campaignId,
        );
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type DialerActivities = ReturnType<typeof createDialerActivities>;
