import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { ExportActivities } from '../../activities/exports';

const { deleteExpiredReportFiles } = proxyActivities<ExportActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5s', maximumInterval: '1 minute' },
});

const BATCH = 200;

/**
 * Deletes report files past their tenant's retention (LGPD), every `everyMs` (default 15 minutes),
 * for ever; the run history stays. Renews its history by continue-as-new once a day or so.
 */
export async function reportRetentionWorkflow(input: { everyMs?: number } = {}): Promise<void> {
  for (let round = 0; round < 100; round++) {
    while ((await deleteExpiredReportFiles({ limit: BATCH })) === BATCH) {
      // a backlog: keep deleting before sleeping
    }
    await sleep(input.everyMs ?? 15 * 60_000);
  }
  await continueAsNew<typeof reportRetentionWorkflow>(input);
}
