import { ActivityFailure, condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { ImportActivities } from '../../activities/imports/import-activities';
import { JobStatus } from '../search-attributes';
import { notSupported, setJobControls } from '../operations';
import { IMPORT_NOT_RUNNING, importProgressQuery, type ImportInput, type ImportProgress } from './messages';

const { importSlice } = proxyActivities<ImportActivities>({
  // A slice works ~15 s heartbeating every batch; a worker that dies is noticed within 10 s.
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 20 },
});
const { finishImport } = proxyActivities<ImportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 20 },
});

/**
 * Imports a CSV upload into a contact group (or the company contacts) in slices. The data and the
 * resume point live in PostgreSQL; the workflow only loops and keeps the counters for its Query.
 */
export async function importWorkflow(input: ImportInput): Promise<ImportProgress> {
  const progress: ImportProgress = { importId: input.importId, state: 'running', rowsRead: 0, rowsImported: 0, rowsRejected: 0 };
  const requestCancel = () => {
    if (progress.state === 'running') progress.state = 'cancelling';
  };
  setHandler(importProgressQuery, () => progress);
  setJobControls({
    progress: () => progress,
    refuse: (act) => {
      if (act !== 'cancel' && act !== 'stop') return notSupported('An import', act, 'cancel it to end it early');
      return progress.state === 'running' ? undefined : { code: IMPORT_NOT_RUNNING, message: `The import is ${progress.state}.` };
    },
    apply: async () => {
      requestCancel();
      await condition(() => progress.state !== 'cancelling');
    },
    newSignals: ['start', 'pause', 'resume', 'stop', 'cancel'],
    retiredSignals: { 'cancel-signal': 'cancel' },
  });
  upsertSearchAttributes([{ key: JobStatus, value: 'running' }]);

  let final: 'completed' | 'failed' | 'cancelled' = 'completed';
  for (;;) {
    if (progress.state === 'cancelling') {
      final = 'cancelled';
      break;
    }
    let slice;
    try {
      slice = await importSlice({ importId: input.importId });
    } catch (error) {
      // Retries exhausted, or a failure that no retry can fix: the import ends failed, with why.
      if (!(error instanceof ActivityFailure)) throw error;
      final = 'failed';
      progress.error = error.cause?.message ?? error.message;
      break;
    }
    progress.rowsRead = slice.rowsRead;
    progress.rowsImported = slice.rowsImported;
    progress.rowsRejected = slice.rowsRejected;
    if (slice.cancelled) {
      final = 'cancelled';
      break;
    }
    if (slice.failure) {
      final = 'failed';
      progress.error = slice.failure;
      break;
    }
    if (slice.done) break;
  }
  // The row decides: a cancel accepted while the last batch committed ends the import cancelled.
  final = (await finishImport({ importId: input.importId, status: final, error: progress.error })) ?? final;
  progress.state = final;
  upsertSearchAttributes([{ key: JobStatus, value: final }]);
  return progress;
}
