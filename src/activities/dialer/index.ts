import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sql, type Kysely } from 'kysely';
import type { Database, DialerCampaignStatus } from '../../db/schema';
import { createAriSessionProvider, type AriSession, type AriSettings } from './ari-session';
import { runLane, type LaneResult, type LaneTuning } from './lane';
import { loadCampaign, prepareContacts } from './store';

export interface DialerActivityDeps {
  db: Kysely<Database>;
  /** Where Asterisk is; without it the dialing lane fails (non-retryable) with a clear message. */
  ari?: AriSettings;
  /** Or a ready session provider (tests share one per process). */
  ariSession?: () => Promise<AriSession>;
  tuning?: LaneTuning;
}

export interface CampaignStateUpdate {
  campaignId: string;
  /** The workflow's state sequence: older writes never overwrite newer ones. */
  seq: number;
  status: DialerCampaignStatus;
  waitingWindow: boolean;
  nextWindowAt: string | null;
  pauseReason: string | null;
}

export function createDialerActivities(deps: DialerActivityDeps) {
  const { db } = deps;
  const session = deps.ariSession ?? (deps.ari ? createAriSessionProvider(deps.ari) : undefined);

  return {
    /** Builds the campaign's contacts from its group and marks blocked ones (idempotent). */
    async prepareDialerCampaign(input: { campaignId: string }): Promise<{ total: number; blocked: number }> {
      return prepareContacts(db, await loadCampaign(db, input.campaignId));
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
      return runLane(
        { db, ari: session, heartbeat: (details) => ctx.heartbeat(details), cancelled: ctx.cancellationSignal, tuning: deps.tuning },
        input.campaignId,
      );
    },
  };
}

export type DialerActivities = ReturnType<typeof createDialerActivities>;
