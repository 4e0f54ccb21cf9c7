import {
  ActivityCancellationType,
  CancellationScope,
  ContinueAsNew,
  condition,
  isCancellation,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExportActivities } from '../../activities/exports';
import { JobStatus } from '../search-attributes';
import { notSupported, setJobControls } from '../operations';
import { EXPORT_NOT_RUNNING, exportProgressQuery, type ExportInput, type ExportProgress } from './messages';

const { writeActivityReportPage, writeReportPage, finishExport, failExport } = proxyActivities<ExportActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10 },
});
/** An XLSX file is one zip written by one activity (heartbeating); a cancel waits for it to stop. */
const { writeReportXlsx } = proxyActivities<ExportActivities>({
  startToCloseTimeout: '3 hours',
  heartbeatTimeout: '1 minute',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
});

/** Pages per run before continuing as new, so a huge export keeps a small history. */
const PAGES_PER_RUN = 200;

/**
 * Writes a report export page by page into PostgreSQL. Carries only a cursor and counters; each
 * page is written idempotently under (export id, page number), so a retried page replaces itself.
 */
export async function exportWorkflow(input: ExportInput): Promise<ExportProgress> {
  const progress: ExportProgress = {
    exportId: input.exportId,
    state: 'running',
    rowsWritten: input.resume?.rows ?? 0,
    pagesWritten: input.resume?.pages ?? 0,
  };
  let cursor = input.resume?.cursor ?? null;

  const requestCancel = (by: string) => {
    if (progress.state === 'running') {
      progress.state = 'cancelling';
      progress.cancelledBy = by;
    }
  };
  setHandler(exportProgressQuery, () => progress);
  setJobControls({
    progress: () => progress,
    refuse: (act) => {
      if (act !== 'cancel' && act !== 'stop') return notSupported('An export', act, 'cancel it to end it early');
      if (progress.state === 'running') return undefined;
      return { code: EXPORT_NOT_RUNNING, message: `The export is ${progress.state}; only a running export can be cancelled.` };
    },
    apply: async (_act, by) => {
      requestCancel(by);
      // Answer once the cancellation has taken effect (the current page finishes first).
      await condition(() => progress.state !== 'cancelling');
    },
    newSignals: ['start', 'pause', 'resume', 'stop', 'cancel'],
    retiredSignals: { 'cancel-signal': 'cancel' },
  });

  if (!input.resume) upsertSearchAttributes([{ key: JobStatus, value: 'running' }]);

  const { exportId, tenantId, report } = input;
  const writePage = (seq: number) =>
    report
      ? writeReportPage({ exportId, tenantId, reportId: report.reportId, filters: report.filters, locale: report.locale, cursor, seq })
      : writeActivityReportPage({ exportId, tenantId, from: input.from ?? '', to: input.to ?? '', cursor, seq });

  try {
    await writeFile();
  } catch (error) {
    // A page that failed for good (retries spent, or not retryable) ends the run `failed` with its reason, not `running` for ever.
    if (error instanceof ContinueAsNew || isCancellation(error) || !patched('export-run-failed')) throw error;
    await failExport({ exportId, error: failureReason(error) });
    progress.state = 'failed';
    upsertSearchAttributes([{ key: JobStatus, value: 'failed' }]);
    throw error;
  }
  return progress;

  async function writeFile(): Promise<void> {
    if (report?.format === 'xlsx') {
      const scope = new CancellationScope();
      void condition(() => progress.state === 'cancelling').then(() => scope.cancel());
      try {
        const file = await scope.run(() => writeReportXlsx({ exportId, tenantId, reportId: report.reportId, filters: report.filters, locale: report.locale }));
        progress.rowsWritten = file.rows;
        progress.pagesWritten = file.chunks;
      } catch (error) {
        if (!isCancellation(error)) throw error;
      }
    }
    let pagesThisRun = 0;
    while (progress.state === 'running' && report?.format !== 'xlsx') {
      const page = await writePage(progress.pagesWritten);
      progress.rowsWritten += page.rows;
      // A report PostgreSQL formats writes several pages (chunks) per activity; the next starts after them.
      progress.pagesWritten += page.pages ?? 1;
      cursor = page.nextCursor;
      if (page.done) break;
      pagesThisRun += 1;
      if (progress.state === 'running' && (pagesThisRun >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested)) {
        await continueAsNew<typeof exportWorkflow>({
          ...input,
          resume: { cursor, pages: progress.pagesWritten, rows: progress.rowsWritten },
        });
      }
    }

    const final = progress.state === 'cancelling' ? 'cancelled' : 'completed';
    await finishExport({ exportId: input.exportId, status: final, rowsWritten: progress.rowsWritten });
    progress.state = final;
    upsertSearchAttributes([{ key: JobStatus, value: final }]);
  }
}

/** The innermost message of a failure chain (an activity failure wraps the error it threw). */
function failureReason(error: unknown): string {
  let e = error as { message?: string; cause?: unknown } | undefined;
  while (e && typeof e === 'object' && e.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  return String(e?.message ?? error).slice(0, 1000);
}
