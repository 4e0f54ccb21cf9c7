import { WorkflowIdReusePolicy } from '@temporalio/client';
import { z } from 'zod';
import type { ExportRow } from '../../db/schema';
import { exportWorkflow } from '../../workflows/exports/export-workflow';
import { cancelExportUpdate, exportProgressQuery, exportWorkflowId } from '../../workflows/exports/messages';
import { JobKind, TenantId } from '../../workflows/search-attributes';
import { audit } from '../audit';
import { startJob } from '../jobs';
import { requireRole } from '../auth';
import { streamExportFile } from '../downloads';
import { keysetPage, pageQuerySchema, pageSchema, parseSort, sortQuerySchema, toPage, dateCursor } from '../pagination';
import { conflict, notFound } from '../problem';
import { errorResponses, unavailableResponses } from '../problem-schema';
import { csvResponse } from '../openapi';
import { runUpdate } from '../temporal-errors';
import type { RoutePlugin } from '../types';
import { exportRole, visibleExports } from './roles';
import { activityReportRequestSchema, exportIdParams, exportSchema } from './schemas';

const toApi = (row: ExportRow) => ({
  id: row.id,
  kind: row.kind,
  status: row.status,
  fileName: row.file_name,
  params: row.params,
  rowsWritten: row.rows_written,
  bytesWritten: Number(row.bytes_written),
  error: row.error,
  createdAt: new Date(row.created_at).toISOString(),
  finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  workflowId: exportWorkflowId(row.id),
  links: {
    self: `/v1/exports/${row.id}`,
    file: `/v1/exports/${row.id}/file`,
    cancel: `/v1/exports/${row.id}/cancel`,
  },
});

/**
 * Report exports: each is a Temporal workflow (`export-<id>`) that writes the file into
 * PostgreSQL page by page; the file is downloaded when it completes.
 */
export const exportRoutes: RoutePlugin = (app, { db, temporal, config }) => {
  const findExport = async (tenantId: string, id: string) => {
    const row = await db.selectFrom('exports').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) throw notFound('export', id);
    return row;
  };

  app.post(
    '/exports/activity-report',
    {
      schema: {
        tags: ['exports'],
        summary: 'Export the Relatório de Atividade (audit log) for a period as CSV',
        body: activityReportRequestSchema,
        response: { 202: exportSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request, reply) => {
      const { from, to } = request.body;
      const row = await db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('exports')
          .values({
            tenant_id: request.auth.tenantId,
            kind: 'activity-report',
            report_id: 'activity',
            params: JSON.stringify({ from, to }),
            status: 'running',
            file_name: `relatorio-atividade-${from.slice(0, 10)}-${to.slice(0, 10)}.csv`,
            created_by: request.auth.userId,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(trx, request, {
          action: 'export.create',
          targetType: 'export',
          targetId: created.id,
          summary: `Exportação do Relatório de Atividade de ${from} a ${to}`,
        });
        return created;
      });
      await startJob({ temporal, db }, request, {
        kind: 'export',
        id: row.id,
        workflowId: exportWorkflowId(row.id),
        start: () =>
          temporal.workflow.start(exportWorkflow, {
            taskQueue: config.TEMPORAL_TASK_QUEUE,
            workflowId: exportWorkflowId(row.id),
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            args: [{ exportId: row.id, tenantId: row.tenant_id, kind: 'activity-report', from, to }],
            typedSearchAttributes: [
              { key: TenantId, value: row.tenant_id },
              { key: JobKind, value: 'export' },
            ],
          }),
        undo: async (trx) => {
          await trx
            .updateTable('exports')
            .set({ status: 'failed', error: 'The export could not be started; ask for it again.', finished_at: new Date() })
            .where('id', '=', row.id)
            .execute();
        },
      });
      return reply.code(202).header('location', `/v1/exports/${row.id}`).send(toApi(row));
    },
  );

  app.get(
    '/exports',
    {
      schema: {
        tags: ['exports'],
        summary: 'List exports',
        querystring: pageQuerySchema.extend({
          sort: sortQuerySchema(['createdAt'], '-createdAt'),
          status: z.enum(['running', 'completed', 'cancelled', 'failed']).optional(),
          kind: z.string().optional(),
        }),
        response: { 200: pageSchema(exportSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, sort, status, kind } = request.query;
      let query = db.selectFrom('exports').selectAll().where('tenant_id', '=', request.auth.tenantId);
      if (status) query = query.where('status', '=', status);
      if (kind) query = query.where('kind', '=', kind);
      // Only the exports whose data the key's role may read.
      query = query.where(visibleExports(request.auth.role));
      const spec = parseSort(sort, { createdAt: 'created_at:ts' });
      const rows = await keysetPage(query, { sort: spec, idColumn: 'id', limit, cursor }).execute();
      return toPage(rows, limit, (r) => [dateCursor(r.created_at), r.id], toApi);
    },
  );

  app.get(
    '/exports/:id',
    {
      schema: {
        tags: ['exports'],
        summary: 'An export, with live progress while it runs',
        params: exportIdParams,
        response: { 200: exportSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await findExport(request.auth.tenantId, request.params.id);
      requireRole(request, exportRole(row.kind), `Export ${row.kind}`);
      const body = toApi(row);
      if (row.status !== 'running') return body;
      const progress = await temporal.workflow
        .getHandle(exportWorkflowId(row.id))
        .query(exportProgressQuery)
        .catch(() => undefined);
      return progress ? { ...body, progress } : body;
    },
  );

  app.post(
    '/exports/:id/cancel',
    {
      schema: {
        tags: ['exports'],
        summary: 'Cancel a running export (answers once the workflow has stopped writing)',
        params: exportIdParams,
        response: { 200: exportSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await findExport(request.auth.tenantId, request.params.id);
      if (row.status !== 'running') throw conflict('EXPORT_NOT_RUNNING', `The export is ${row.status}; only a running export can be cancelled.`);
      await runUpdate(
        () => temporal.workflow.getHandle(exportWorkflowId(row.id)).executeUpdate(cancelExportUpdate, { args: [{ by: request.auth.userName }] }),
        'EXPORT_NOT_RUNNING',
        'export',
      );
      await audit(db, request, { action: 'export.cancel', targetType: 'export', targetId: row.id, summary: 'Exportação cancelada' });
      return toApi(await findExport(request.auth.tenantId, row.id));
    },
  );

  app.get(
    '/exports/:id/file',
    {
      schema: {
        tags: ['exports'],
        summary: 'Download a completed export (CSV, `;`, UTF-8 with BOM)',
        params: exportIdParams,
        response: { 200: csvResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await findExport(request.auth.tenantId, request.params.id);
      requireRole(request, exportRole(row.kind), `Export ${row.kind}`);
      if (row.status !== 'completed') throw conflict('EXPORT_NOT_READY', `The export is ${row.status}; the file is ready once it completes.`);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${row.file_name}"`).send(streamExportFile(db, row.id));
    },
  );
};
