import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { CSV_BOM, csvLine } from '../domain/csv-out';
import type { Database } from '../db/schema';

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

export interface ExportPageResult {
  rows: number;
  nextCursor: string | null;
  done: boolean;
}

const activityReportHeader = ['quando', 'usuario', 'chave_api', 'acao', 'alvo', 'alvo_id', 'resumo', 'request_id'];

export function createExportActivities({ db, pageSize = 5000 }: ExportActivityDeps) {
  return {
    /** Writes one page of the "Relatório de Atividade" (the audit log) as chunk `seq` of the file. */
    async writeActivityReportPage(input: ExportPageInput): Promise<ExportPageResult> {
      let query = db
        .selectFrom('audit_log')
        .leftJoin('users', 'users.id', 'audit_log.actor_user_id')
        .select([
          'audit_log.id',
          'audit_log.created_at',
          'users.name as user_name',
          'audit_log.actor_key_id',
          'audit_log.action',
          'audit_log.target_type',
          'audit_log.target_id',
          'audit_log.summary',
          'audit_log.request_id',
        ])
        .where('audit_log.tenant_id', '=', input.tenantId)
        .where('audit_log.created_at', '>=', new Date(input.from))
        .where('audit_log.created_at', '<', new Date(input.to));
      if (input.cursor) query = query.where('audit_log.id', '>', Number(input.cursor));
      const rows = await query.orderBy('audit_log.id').limit(pageSize).execute();

      let text = input.seq === 0 ? CSV_BOM + csvLine(activityReportHeader) : '';
      for (const r of rows) {
        text += csvLine([r.created_at, r.user_name, r.actor_key_id, r.action, r.target_type, r.target_id, r.summary, r.request_id]);
      }
      const data = Buffer.from(text, 'utf8');
      // Keyed by (export, seq): a retried page overwrites itself instead of adding a copy.
      await db
        .insertInto('export_chunks')
        .values({ export_id: input.exportId, seq: input.seq, data })
        .onConflict((oc) => oc.columns(['export_id', 'seq']).doUpdateSet({ data }))
        .execute();
      const last = rows[rows.length - 1];
      return {
        rows: rows.length,
        nextCursor: last ? String(last.id) : input.cursor,
        done: rows.length < pageSize,
      };
    },

    async finishExport(input: { exportId: string; status: 'completed' | 'cancelled'; rowsWritten: number }): Promise<void> {
      await db
        .updateTable('exports')
        .set({
          status: input.status,
          rows_written: input.rowsWritten,
          bytes_written: sql`(SELECT coalesce(sum(length(data)), 0) FROM export_chunks WHERE export_id = ${input.exportId})`,
          finished_at: new Date(),
        })
        .where('id', '=', input.exportId)
        .execute();
    },
  };
}

export type ExportActivities = ReturnType<typeof createExportActivities>;
