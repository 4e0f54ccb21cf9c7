import { WorkflowIdReusePolicy } from '@temporalio/client';
import { z } from 'zod';
import { reportById, REPORTS } from '../../domain/reports/catalogue';
import { exportWorkflow } from '../../workflows/exports/export-workflow';
import { cancelExportUpdate, exportProgressQuery, exportWorkflowId, REPORT_RETENTION_ID } from '../../workflows/exports/messages';
import { reportRetentionWorkflow } from '../../workflows/exports/report-retention';
import { JobKind, TenantId } from '../../workflows/search-attributes';
import { audit } from '../audit';
import { streamExportFile } from '../downloads';
import { foreverWorkflowStarter } from '../forever-workflow';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { conflict, notFound, ProblemError } from '../problem';
import { errorResponses, problemSchema, unavailableResponses } from '../problem-schema';
import { mediaResponse } from '../openapi';
import { runUpdate } from '../temporal-errors';
import type { RoutePlugin } from '../types';
import { definitionToApi, parseReportFilters, reportDefinitionSchema, reportIdParams, runIdParams, runRequestSchema, runSchema, runToApi } from './schemas';

const reportFileResponse = mediaResponse(
  ['text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  'The file: CSV (`;`, UTF-8 with BOM) or XLSX, as the run was asked',
);

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } as const;
const nameOf = (reportId: string | null) => reportById(reportId ?? '')?.name ?? reportId ?? '';

const settingsSchema = z
  .object({ retentionDays: z.number().int().min(1).max(365).describe('Days a finished report file is kept (LGPD); default 7') })
  .meta({ id: 'ReportSettings' });

/**
 * The report catalogue (Glossário Relatórios) and its runs: each run is the export workflow
 * (`export-<id>`: progress Query, cancel Update, pages with continue-as-new) writing the file
 * into PostgreSQL; the file is kept for the tenant's retention, the run history for ever.
 */
/** Workflow statuses of an export that ended without finishing its run. */
const ENDED_UNFINISHED = new Set(['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED']);

export const reportRoutes: RoutePlugin = (app, { db, temporal, config }) => {
  const ensureRetention = foreverWorkflowStarter(temporal, config, reportRetentionWorkflow, REPORT_RETENTION_ID, 'report-retention');
  const runs = (tenantId: string) =>
    db
      .selectFrom('exports')
      .leftJoin('users', 'users.id', 'exports.created_by')
      .selectAll('exports')
      .select('users.name as created_by_name')
      .where('exports.tenant_id', '=', tenantId)
      .where('exports.report_id', 'is not', null);
  const findRun = async (tenantId: string, id: string) => {
    const row = await runs(tenantId).where('exports.id', '=', id).executeTakeFirst();
    if (!row) throw notFound('report run', id);
    return row;
  };

  app.get(
    '/reports',
    {
      schema: {
        tags: ['reports'],
        summary: 'The report catalogue (Glossário Relatórios): id, name, contents, filters, columns',
        response: { 200: z.object({ items: z.array(reportDefinitionSchema) }), ...errorResponses },
      },
    },
    async () => ({ items: REPORTS.map(definitionToApi) }),
  );

  app.get(
    '/reports/settings',
    { schema: { tags: ['reports'], summary: "The tenant's report settings (file retention)", response: { 200: settingsSchema, ...errorResponses } } },
    async (request) => {
      const t = await db.selectFrom('tenants').select('report_retention_days').where('id', '=', request.auth.tenantId).executeTakeFirstOrThrow();
      return { retentionDays: t.report_retention_days };
    },
  );

  app.put(
    '/reports/settings',
    {
      config: { minRole: 'admin' },
      schema: {
        tags: ['reports'],
        summary: 'Set how long report files are kept (applies to runs that finish from now on)',
        body: settingsSchema,
        response: { 200: settingsSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { retentionDays } = request.body;
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('tenants').set({ report_retention_days: retentionDays }).where('id', '=', request.auth.tenantId).execute();
        await audit(trx, request, {
          action: 'reports.settings',
          targetType: 'tenant',
          targetId: request.auth.tenantId,
          summary: `Retenção de relatórios: ${retentionDays} dia(s)`,
        });
      });
      return { retentionDays };
    },
  );

  app.get(
    '/reports/runs',
    {
      schema: {
        tags: ['reports'],
        summary: 'Report runs, newest first: who ran what, when, with which filters',
        querystring: pageQuerySchema.extend({
          reportId: z.string().max(60).optional(),
          status: z.enum(['running', 'completed', 'cancelled', 'failed']).optional(),
          createdBy: z.uuid().optional(),
        }),
        response: { 200: pageSchema(runSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, reportId, status, createdBy } = request.query;
      let query = runs(request.auth.tenantId);
      if (reportId) query = query.where('exports.report_id', '=', reportId);
      if (status) query = query.where('exports.status', '=', status);
      if (createdBy) query = query.where('exports.created_by', '=', createdBy);
      const rows = await keysetPage(query, {
        sort: { column: 'exports.created_at', direction: 'desc', timestamp: true },
        idColumn: 'exports.id',
        limit,
        cursor,
      }).execute();
      return toPage(
        rows,
        limit,
        (r) => [dateCursor(r.created_at), r.id],
        (r) => runToApi(r, nameOf(r.report_id)),
      );
    },
  );

  app.get(
    '/reports/runs/:runId',
    {
      schema: {
        tags: ['reports'],
        summary: 'A report run, with live progress while it runs',
        params: runIdParams,
        response: { 200: runSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await findRun(request.auth.tenantId, request.params.runId);
      const body = runToApi(row, nameOf(row.report_id));
      if (row.status !== 'running') return body;
      const handle = temporal.workflow.getHandle(exportWorkflowId(row.id));
      // A workflow that ended without finishing its run (terminated, timed out, failed before it could say so): the run failed.
      const closed = await handle.describe().then(
        (d) => (ENDED_UNFINISHED.has(d.status.name) ? d : undefined),
        () => undefined,
      );
      if (closed) {
        await db.transaction().execute(async (trx) => {
          await trx.deleteFrom('export_chunks').where('export_id', '=', row.id).execute();
          await trx
            .updateTable('exports')
            .set({
              status: 'failed',
              error: `The export workflow ended ${closed.status.name.toLowerCase()} before the run finished.`,
              bytes_written: 0,
              finished_at: closed.closeTime ?? new Date(),
            })
            .where('id', '=', row.id)
            .where('status', '=', 'running')
            .execute();
        });
        const after = await findRun(request.auth.tenantId, row.id);
        return runToApi(after, nameOf(after.report_id));
      }
      const progress = await handle.query(exportProgressQuery).catch(() => undefined);
      if (!progress) return body;
      // An XLSX file is one activity: its rows are counted in the run row as they are written.
      const rowsWritten = Math.max(progress.rowsWritten, row.rows_written);
      return { ...body, rowsWritten, progress: { state: progress.state, rowsWritten, pagesWritten: progress.pagesWritten } };
    },
  );

  app.post(
    '/reports/runs/:runId/cancel',
    {
      schema: {
        tags: ['reports'],
        summary: 'Cancel a running report run (answers once it has stopped writing)',
        params: runIdParams,
        response: { 200: runSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await findRun(request.auth.tenantId, request.params.runId);
      if (row.status !== 'running') throw conflict('EXPORT_NOT_RUNNING', `The run is ${row.status}; only a running run can be cancelled.`);
      await runUpdate(
        () => temporal.workflow.getHandle(exportWorkflowId(row.id)).executeUpdate(cancelExportUpdate, { args: [{ by: request.auth.userName }] }),
        'EXPORT_NOT_RUNNING',
        'export',
      );
      await audit(db, request, {
        action: 'report_run.cancel',
        targetType: 'export',
        targetId: row.id,
        summary: `Execução de ${nameOf(row.report_id)} cancelada`,
      });
      const after = await findRun(request.auth.tenantId, row.id);
      return runToApi(after, nameOf(after.report_id));
    },
  );

  app.get(
    '/reports/runs/:runId/file',
    {
      schema: {
        tags: ['reports'],
        summary: 'Download the file of a completed run (CSV or XLSX); 410 once its retention has passed',
        params: runIdParams,
        response: { 200: reportFileResponse, 410: problemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await findRun(request.auth.tenantId, request.params.runId);
      if (row.file_deleted_at)
        throw new ProblemError(
          410,
          'REPORT_FILE_EXPIRED',
          `The file was deleted on ${new Date(row.file_deleted_at).toISOString()} (retention); run the report again.`,
        );
      if (row.status !== 'completed') throw conflict('EXPORT_NOT_READY', `The run is ${row.status}; the file is ready once it completes.`);
      return reply.type(CONTENT_TYPES[row.format]).header('content-disposition', `attachment; filename="${row.file_name}"`).send(streamExportFile(db, row.id));
    },
  );

  app.post(
    '/reports/:reportId/runs',
    {
      schema: {
        tags: ['reports'],
        summary: 'Run a report of the catalogue for its filters as CSV or XLSX (a durable export workflow)',
        params: reportIdParams,
        body: runRequestSchema,
        response: { 202: runSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request, reply) => {
      const def = reportById(request.params.reportId);
      if (!def) throw notFound('report', request.params.reportId);
      const { format, locale } = request.body;
      const filters = parseReportFilters(def, request.body.filters);
      const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '');
      const row = await db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('exports')
          .values({
            tenant_id: request.auth.tenantId,
            kind: 'report',
            report_id: def.id,
            params: JSON.stringify(filters),
            status: 'running',
            format,
            locale,
            file_name: `${def.fileName}-${stamp}.${format}`,
            created_by: request.auth.userId,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(trx, request, {
          action: 'report_run.create',
          targetType: 'export',
          targetId: created.id,
          summary: `${def.name} (${format.toUpperCase()})`,
          details: { filters },
        });
        return created;
      });
      await ensureRetention();
      await temporal.workflow.start(exportWorkflow, {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: exportWorkflowId(row.id),
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        args: [{ exportId: row.id, tenantId: row.tenant_id, kind: 'report', report: { reportId: def.id, filters, format, locale } }],
        typedSearchAttributes: [
          { key: TenantId, value: row.tenant_id },
          { key: JobKind, value: 'export' },
        ],
      });
      return reply
        .code(202)
        .header('location', `/v1/reports/runs/${row.id}`)
        .send(runToApi({ ...row, created_by_name: request.auth.userName }, def.name));
    },
  );
};
