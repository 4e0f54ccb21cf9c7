import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../db/schema';
import { createReportActivities, type ReportPagesResult } from './reports/index';

export interface ExportActivityDeps {
  db: Kysely<Database>;
  /** Rows per page (one chunk of the file each). */
  pageSize?: number;
}

export interface ExportPageInput {
  exportId: string;
  tenantId: string;
  from: string;
  to: string;
  /** Id of the last audit entry written (ids grow with time), or null for the first page. */
  cursor: string | null;
  seq: number;
}

export function createExportActivities({ db, pageSize = 5000 }: ExportActivityDeps) {
  const reports = createReportActivities({ db, pageSize });
  return {
    ...reports,
    /** Writes one page of the "Relatório de Atividade" (the catalogue's `activity` report) as chunk `seq` of the file. */
    async writeActivityReportPage(input: ExportPageInput): Promise<ReportPagesResult> {
      const { from, to, ...rest } = input;
      return reports.writeReportPage({ ...rest, reportId: 'activity', filters: { from, to }, locale: 'pt-BR' });
    },

    /** Ends a run; its file is kept for the tenant's report retention from now. */
    async finishExport(input: { exportId: string; status: 'completed' | 'cancelled'; rowsWritten: number }): Promise<void> {
      await db
        .updateTable('exports')
        .set({
          status: input.status,
          rows_written: input.rowsWritten,
          bytes_written: sql`(SELECT coalesce(sum(length(data)), 0) FROM export_chunks WHERE export_id = ${input.exportId})`,
          finished_at: new Date(),
          expires_at: sql`now() + (SELECT report_retention_days FROM tenants WHERE tenants.id = exports.tenant_id) * interval '1 day'`,
        })
        .where('id', '=', input.exportId)
        .execute();
    },

    /**
     * Ends a run that failed for good: `failed` with the reason, and the part of the file written
     * so far deleted (a half-written file is never served).
     */
    async failExport(input: { exportId: string; error: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('export_chunks').where('export_id', '=', input.exportId).execute();
        await trx
          .updateTable('exports')
          .set({ status: 'failed', error: input.error, bytes_written: 0, finished_at: new Date() })
          .where('id', '=', input.exportId)
          .where('status', '=', 'running')
          .execute();
      });
    },
  };
}

export type ExportActivities = ReturnType<typeof createExportActivities>;
