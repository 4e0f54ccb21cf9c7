import { actUpdate, progressQuery } from '../operations';

/** Message definitions shared by the import workflow and its callers. */

export type ImportState = 'running' | 'cancelling' | 'completed' | 'failed' | 'cancelled';

export interface ImportProgress {
  importId: string;
  state: ImportState;
  rowsRead: number;
  rowsImported: number;
  rowsRejected: number;
  error?: string;
}

export interface ImportInput {
  importId: string;
  tenantId: string;
  groupId: string | null;
}

export const importProgressQuery = progressQuery<ImportProgress>();
/** Stops the import after the batch in flight; rows already imported stay (`stop` is the same act). */
export const cancelImportUpdate = actUpdate<ImportProgress>('cancel');

export const IMPORT_NOT_RUNNING = 'IMPORT_NOT_RUNNING';

export const importWorkflowId = (importId: string) => `import-${importId}`;
