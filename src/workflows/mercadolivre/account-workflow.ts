import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { MercadoLivreActivities } from '../../activities/mercadolivre/index';
import { refreshDueAt } from '../../domain/mercadolivre';
import { JobStatus } from '../search-attributes';
import {
  ACCOUNT_NOT_CONNECTED,
  accountProgressQuery,
  freshTokenUpdate,
  startAccountSignal,
  stopAccountSignal,
  type AccountProgress,
  type AccountWorkflowInput,
  type FreshTokenRequest,
} from './messages';

const { mlTokenState, mlRefreshToken } = proxyActivities<MercadoLivreActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 30 },
});
const { mlCatchUp } = proxyActivities<MercadoLivreActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** Loop turns before the history is renewed (each turn is a handful of events). */
const TURNS_PER_RUN = 400;

/**
 * The one owner of a seller's tokens (`ml-account-<id>`). It refreshes before expiry, and callers
 * that got a 401 ask it (Update `fresh-token`) instead of refreshing: concurrent requests share one
 * refresh, so the single-use refresh token is never spent twice. An `invalid_grant` leaves the
 * account `needs_reauthorization` (recorded and audited by the activity) and ends the run; the
 * OAuth callback starts it again.
 */
export async function mercadoLivreAccountWorkflow(input: AccountWorkflowInput): Promise<AccountProgress> {
  const progress: AccountProgress = {
    accountId: input.accountId,
    status: 'connected',
    tokenExpiresAt: null,
    generation: 0,
    refreshes: 0,
    lastRefreshAt: null,
    lastCatchUpAt: null,
  };
  let expiresAtMs = 0;
  let reload = true;
  let stopRequested = false;
  let refreshing: Promise<void> | undefined;

  const loadState = async () => {
    const state = await mlTokenState({ accountId: input.accountId });
    progress.status = state.status;
    progress.generation = state.generation;
    expiresAtMs = state.expiresAtMs ?? 0;
    progress.tokenExpiresAt = state.expiresAtMs ? new Date(state.expiresAtMs).toISOString() : null;
  };

  const refresh = async (failedGeneration?: number): Promise<void> => {
    if (failedGeneration !== undefined && progress.generation > failedGeneration) return;
    refreshing ??= (async () => {
      try {
        const result = await mlRefreshToken({ accountId: input.accountId, expectedGeneration: progress.generation });
        if (result.outcome === 'refreshed') {
          progress.refreshes++;
          progress.lastRefreshAt = new Date().toISOString();
        }
        await loadState();
      } finally {
        refreshing = undefined;
      }
    })();
    await refreshing;
  };

  setHandler(accountProgressQuery, () => progress);
  setHandler(startAccountSignal, () => {
    reload = true;
  });
  setHandler(stopAccountSignal, () => {
    stopRequested = true;
  });
  setHandler(
    freshTokenUpdate,
    async ({ failedGeneration }) => {
      await refresh(failedGeneration);
      if (progress.status !== 'connected') {
        throw ApplicationFailure.create({ type: ACCOUNT_NOT_CONNECTED, message: `The account is ${progress.status}.`, nonRetryable: true });
      }
      return { generation: progress.generation };
    },
    {
      validator: (_request: FreshTokenRequest) => {
        if (progress.status !== 'connected' || stopRequested) {
          throw ApplicationFailure.create({ type: ACCOUNT_NOT_CONNECTED, message: `The account is ${progress.status}.`, nonRetryable: true });
        }
      },
    },
  );

  let nextCatchUpMs = Date.now() + input.catchUpEveryMs;
  for (let turn = 0; turn < TURNS_PER_RUN; turn++) {
    if (reload) {
      reload = false;
      await loadState();
      upsertSearchAttributes([{ key: JobStatus, value: progress.status }]);
    }
    if (stopRequested || progress.status !== 'connected') break;
    const dueMs = refreshDueAt(expiresAtMs, Date.now(), input.refreshMarginMs);
    const wakeMs = Math.min(dueMs, nextCatchUpMs);
    await condition(() => stopRequested || reload, Math.max(1, wakeMs - Date.now()));
    if (stopRequested || reload) continue;
    // A failed refresh (Mercado Livre down for minutes) is tried again on the next turn.
    if (Date.now() >= refreshDueAt(expiresAtMs, Date.now(), input.refreshMarginMs)) await refresh().catch(() => undefined);
    if (Date.now() >= nextCatchUpMs && progress.status === 'connected') {
      await mlCatchUp({ accountId: input.accountId }).catch(() => undefined);
      progress.lastCatchUpAt = new Date().toISOString();
      nextCatchUpMs = Date.now() + input.catchUpEveryMs;
    }
    upsertSearchAttributes([{ key: JobStatus, value: progress.status }]);
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await condition(allHandlersFinished);
  if (stopRequested || progress.status !== 'connected') {
    if (stopRequested) progress.status = 'disconnected';
    upsertSearchAttributes([{ key: JobStatus, value: progress.status }]);
    return progress;
  }
  return continueAsNew<typeof mercadoLivreAccountWorkflow>(input);
}
