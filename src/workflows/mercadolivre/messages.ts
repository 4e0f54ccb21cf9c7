import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** Message definitions of the Mercado Livre workflows, shared with their callers. */

export interface AccountWorkflowInput {
  accountId: string;
  tenantId: string;
  /** How long before expiry the access token is refreshed. */
  refreshMarginMs: number;
  /** How often missed notifications are looked for. */
  catchUpEveryMs: number;
}

export interface AccountProgress {
  accountId: string;
  status: string;
  tokenExpiresAt: string | null;
  generation: number;
  refreshes: number;
  lastRefreshAt: string | null;
  lastCatchUpAt: string | null;
}

export interface FreshTokenRequest {
  /** The generation of the token that was refused (401): a newer one is enough. */
  failedGeneration: number;
}

/** Asked by whoever got a 401: answers once a token newer than `failedGeneration` is stored (no token travels). */
export const freshTokenUpdate = defineUpdate<{ generation: number }, [FreshTokenRequest]>('fresh-token');
/** The seller (re)authorized: reload the tokens from the database. */
export const startAccountSignal = defineSignal('start');
/** Disconnected: stop refreshing and end. */
export const stopAccountSignal = defineSignal('stop');
export const accountProgressQuery = defineQuery<AccountProgress>('progress');

export const ACCOUNT_NOT_CONNECTED = 'ML_ACCOUNT_NOT_CONNECTED';
