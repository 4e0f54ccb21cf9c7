import { actUpdate, progressQuery } from '../operations';

/** Message definitions shared by the export workflow and its callers (API, CLI). */

export type ExportState = 'running' | 'cancelling' | 'completed' | 'cancelled' | 'failed';

export interface ExportProgress {
  exportId: string;
  state: ExportState;
  rowsWritten: number;
  pagesWritten: number;
  cancelledBy?: string;
}

export interface ExportInput {
  exportId: string;
  tenantId: string;
  /** `activity-report`: POST /v1/exports/activity-report (from, to); `report`: a catalogue report run. */
  kind: 'activity-report' | 'report';
  from?: string;
  to?: string;
  report?: { reportId: string; filters: Record<string, string>; format: 'csv' | 'xlsx'; locale: 'pt-BR' | 'iso' };
  /** Carried across continue-as-new. */
  resume?: { cursor: string | null; pages: number; rows: number };
}

/** Read the export's progress. */
export const exportProgressQuery = progressQuery<ExportProgress>();
/** Ask the export to stop (`stop` is the same act); answers with the new progress once the workflow has accepted it. */
export const cancelExportUpdate = actUpdate<ExportProgress>('cancel');

/** Why an update was refused; the API maps these to 409 problems. */
export const EXPORT_NOT_RUNNING = 'EXPORT_NOT_RUNNING';

export const exportWorkflowId = (exportId: string) => `export-${exportId}`;

/** The workflow that deletes expired report files (one per task queue, runs for ever). */
export const REPORT_RETENTION_ID = 'report-retention';
