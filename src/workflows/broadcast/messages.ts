import { defineSignal, defineUpdate } from '@temporalio/workflow';
import { actUpdate, progressQuery } from '../operations';
import type { Gradual, SendingHours, SendState } from '../../domain/broadcast';

/** Message definitions shared by the send workflow and its callers (API, Temporal CLI/UI). */

export interface SendInput {
  sendId: string;
  tenantId: string;
  campaignId: string;
  groupId: string;
  /** ISO; absent: start at once. */
  startAt?: string | null;
  sendingHours?: SendingHours | null;
  gradual?: Gradual | null;
  /** Messages per second of this send (the page size follows from it). */
  paceMps: number;
  /** How long a message may stay `sending` with no webhook before it is marked `unknown`. */
  unknownAfterMs: number;
  pageSize: number;
  pagesInFlight: number;
  /** Pages per workflow run before continue-as-new (default 300). */
  pagesPerRun?: number;
  /** Carried across continue-as-new. */
  resume?: SendResume;
}

export interface SendCounters {
  pages: number;
  claimed: number;
  accepted: number;
  failed: number;
  skipped: number;
  retries: number;
  unsettled: number;
  markedUnknown: number;
}

export interface SendResume {
  state: SendState;
  reason: string | null;
  version: number;
  cursor: number;
  total: number;
  releaseStartedAt: number | null;
  counters: SendCounters;
  /** "Start now" was used before the scheduled time. */
  startedEarly?: boolean;
}

export interface SendProgress {
  sendId: string;
  state: SendState;
  reason: string | null;
  total: number;
  cursor: number;
  counters: SendCounters;
}

export interface ControlRequest {
  by: string;
}

/** The settings the workflow itself applies; see editSendUpdate for when each can change. */
export interface SendSettings {
  startAt: string | null;
  sendingHours: SendingHours | null;
  gradual: Gradual | null;
  paceMps: number;
}

export interface EditRequest extends ControlRequest {
  settings: SendSettings;
  /** The settings the caller changes (API names); absent: all, which only a scheduled send allows. */
  changed?: string[];
}

export const sendProgressQuery = progressQuery<SendProgress>();
/**
 * Manual controls as Updates (the caller hears whether they applied; a validator refuses with a
 * code), also sendable as signals of the same names (see ../operations.ts); `cancel` is `stop`.
 */
export const startSendUpdate = actUpdate<SendProgress>('start');
export const pauseSendUpdate = actUpdate<SendProgress>('pause');
export const resumeSendUpdate = actUpdate<SendProgress>('resume');
export const stopSendUpdate = actUpdate<SendProgress>('stop');
/**
 * New settings: any before the send starts, its pace and sending hours once it runs, is paused or
 * waits (the validator refuses otherwise with SEND_NOT_EDITABLE). A send waiting on its sending
 * hours looks at the new ones at once.
 */
export const editSendUpdate = defineUpdate<SendProgress, [EditRequest]>('edit');
/** The system's own pause/stop (template paused or disabled on sync), with the reason shown. */
export const haltSendSignal = defineSignal<[{ action: 'pause' | 'stop' | 'resume'; reason: string }]>('halt');

/**
 * Something that may free a waiting send changed (the channel's messaging tier or throughput, an
 * opt-out lifted): the send looks again at once instead of at the end of its wait.
 */
export const wakeSendSignal = defineSignal<[{ reason?: string }?]>('wake');

export const sendWorkflowId = (sendId: string) => `broadcast-send-${sendId}`;
export const WEBHOOK_APPLIER_ID = 'whatsapp-webhook-applier';
