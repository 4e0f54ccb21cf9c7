import { defineSignal, defineUpdate } from '@temporalio/workflow';
import { actUpdate, progressQuery } from '../operations';
import type { CampaignCommand, DialerCampaignStatus, PauseReason } from '../../domain/dialer/campaign-state';
import type { Recurrence, ScheduleState } from '../../domain/dialer/recurrence';

// Types only: the recurrence schema (zod) stays out of the workflow bundle.
export type { ScheduleState } from '../../domain/dialer/recurrence';

/** Message definitions shared by the dialer campaign workflow and its callers (API, CLI). */

export interface DialerCampaignInput {
  campaignId: string;
  tenantId: string;
  groupId: string;
  /** `draft` waits for a manual start; `scheduled` waits for its start Schedule (startAt) or recurrence. */
  initialStatus: 'draft' | 'scheduled';
  startAt?: string;
  endAt?: string;
  /** Run in cycles, one per occurrence of this recurrence (a Temporal Schedule), until endAt or a stop. */
  recurrence?: Recurrence;
  /** Heartbeat timeout of the dialing lane: how soon a dead worker's lane is retried elsewhere. */
  laneHeartbeatTimeoutMs?: number;
  /** Carried across continue-as-new. */
  resume?: DialerCampaignResume;
}

export interface DialerCampaignResume {
  status: DialerCampaignStatus;
  pauseReason: PauseReason | null;
  seq: number;
  prepared: boolean;
  lanes: number;
  dialed: number;
  cycle?: number;
  cycleOpen?: boolean;
  /** A start was accepted but its cycle was refused (group unusable): a resume retries it. */
  cycleDue?: boolean;
  nextRunAt?: string | null;
  scheduleState?: ScheduleState;
  startScheduleState?: ScheduleState;
  /** Started once (manually or by a Schedule): the start Schedule is gone for good. */
  started?: boolean;
  occurrences?: number;
}

export interface DialerCampaignProgress {
  campaignId: string;
  status: DialerCampaignStatus;
  pauseReason: PauseReason | null;
  /** Running, but outside the calling window. */
  waitingWindow: boolean;
  nextWindowAt: string | null;
  lanes: number;
  dialed: number;
  /** 0 before the first start; each recurrence occurrence begins the next. */
  cycle: number;
  /** While scheduled: when the campaign (startAt) or its next cycle starts. */
  nextRunAt: string | null;
  lastLane?: {
    reason: string;
    dialed: number;
    finished: number;
    /** Free→originate delay and line utilisation of that lane (see activities/dialer/lane.ts). */
    metrics?: { freeToOriginateMs: { count: number; p50: number; p99: number; max: number }; lineUtilisation: number; channels: number };
  };
}

export interface ControlRequest {
  command: CampaignCommand;
  by: string;
}

export const dialerProgressQuery = progressQuery<DialerCampaignProgress>();
/**
 * start / pause / resume / stop as Updates of those names: each answers once the workflow has
 * accepted and recorded it. Also sendable as signals of the same names (see ../operations.ts);
 * `cancel` is `stop`.
 */
export const dialerControlUpdates: Record<CampaignCommand, ReturnType<typeof actUpdate<DialerCampaignProgress>>> = {
  start: actUpdate('start'),
  pause: actUpdate('pause'),
  resume: actUpdate('resume'),
  stop: actUpdate('stop'),
};
/**
 * Retired: the one Update `control` (with the command in its argument) the API used before the
 * vocabulary. Kept for the replay of runs that accepted one; it refuses every new request.
 */
export const retiredControlUpdate = defineUpdate<DialerCampaignProgress, [ControlRequest]>('control');

/**
 * An occurrence of the recurrence Schedule, or the start Schedule firing (`first`): start the next
 * cycle (ignored while one is under way; `first` is ignored once the campaign has started).
 */
export const cycleSignal = defineSignal<[{ occurrence: string; first?: boolean }]>('cycle');

export const dialerCampaignWorkflowId = (campaignId: string) => `dialer-campaign-${campaignId}`;
