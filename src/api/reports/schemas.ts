import { z } from 'zod';
import type { ExportRow } from '../../db/schema';
import { REPORT_LOCALES } from '../../domain/reports/cells';
import type { ReportDefinition, ReportFilter } from '../../domain/reports/catalogue';
import { exportWorkflowId } from '../../workflows/exports/messages';
import { unprocessable } from '../problem';

export const reportLocaleSchema = z
  .enum(REPORT_LOCALES)
  .default('pt-BR')
  .describe('pt-BR: 02/12/2026 14:05:00 (São Paulo time), 1.234,56; iso: ISO 8601 UTC, 1234.56');
export const reportLocaleQuery = z.object({ locale: reportLocaleSchema });
export const reportFormatSchema = z.enum(['csv', 'xlsx']).default('csv').describe('CSV (`;`, UTF-8 with BOM) or XLSX (Excel)');

const filterSchema = z.object({
  name: z.string(),
  type: z.enum(['datetime', 'uuid', 'text', 'phone']),
  description: z.string(),
  required: z.boolean(),
  values: z.array(z.string()).optional(),
});

export const reportDefinitionSchema = z
  .object({
    id: z.string(),
    name: z.string().describe('As the manual (Glossário Relatórios) names it'),
    section: z.string(),
    description: z.string(),
    filters: z.array(filterSchema),
    oneOfFilters: z.array(z.string()).nullable(),
    columns: z.array(z.object({ key: z.string(), header: z.string(), type: z.string(), description: z.string().optional() })),
    formats: z.array(z.string()),
    locales: z.array(z.string()),
    links: z.object({ runs: z.string() }),
  })
  .meta({ id: 'ReportDefinition' });

export const definitionToApi = (d: ReportDefinition): z.infer<typeof reportDefinitionSchema> => ({
  id: d.id,
  name: d.name,
  section: d.section,
  description: d.description,
  filters: d.filters.map((f) => ({
    name: f.name,
    type: f.type,
    description: f.description,
    required: f.required ?? false,
    ...(f.values ? { values: [...f.values] } : {}),
  })),
  oneOfFilters: d.oneOf ? [...d.oneOf] : null,
  columns: d.columns.map((c) => ({ ...c })),
  formats: ['csv', 'xlsx'],
  locales: [...REPORT_LOCALES],
  links: { runs: `/v1/reports/${d.id}/runs` },
});

const filterValue = (f: ReportFilter) => {
  const base =
    f.type === 'datetime'
      ? z.iso.datetime({ offset: true })
      : f.type === 'uuid'
        ? z.uuid()
        : f.values
          ? z.enum(f.values as [string, ...string[]])
          : z.string().trim().min(1).max(100);
  return f.required ? base : base.optional();
};

/** Checks a run's filters against its report: unknown names, types, required ones, the period. 422 naming each problem. */
export function parseReportFilters(def: ReportDefinition, input: Record<string, unknown>): Record<string, string> {
  const schema = z.strictObject(Object.fromEntries(def.filters.map((f) => [f.name, filterValue(f)])));
  const parsed = schema.safeParse(input ?? {});
  const errors = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ field: `filters.${i.path.join('.') || (i as { keys?: string[] }).keys?.join(',')}`, in: 'body', message: i.message }));
  const values = (parsed.success ? parsed.data : {}) as Record<string, string | undefined>;
  if (values.from && values.to && new Date(values.from) >= new Date(values.to)) errors.push({ field: 'filters.to', in: 'body', message: 'must be after from' });
  if (def.oneOf && !def.oneOf.some((n) => values[n])) errors.push({ field: 'filters', in: 'body', message: `one of ${def.oneOf.join(', ')} is required` });
  if (errors.length) {
    throw unprocessable('REPORT_FILTERS_INVALID', `Filtros inválidos para ${def.name}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`, {
      errors,
    });
  }
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export const runRequestSchema = z.object({
  filters: z.record(z.string(), z.unknown()).default({}).describe("The report's filters (see GET /v1/reports)"),
  format: reportFormatSchema,
  locale: reportLocaleSchema,
});

export const runSchema = z
  .object({
    id: z.uuid(),
    reportId: z.string(),
    reportName: z.string(),
    status: z.enum(['running', 'completed', 'cancelled', 'failed']),
    format: z.enum(['csv', 'xlsx']),
    locale: z.enum(REPORT_LOCALES),
    filters: z.record(z.string(), z.unknown()),
    fileName: z.string(),
    rowsWritten: z.number().int(),
    bytesWritten: z.number().int(),
    error: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    expiresAt: z.string().nullable().describe('When the file is deleted (tenant retention)'),
    fileDeletedAt: z.string().nullable(),
    createdBy: z.object({ id: z.string(), name: z.string().nullable() }).nullable(),
    workflowId: z.string(),
    progress: z.object({ state: z.string(), rowsWritten: z.number().int(), pagesWritten: z.number().int() }).optional(),
    links: z.object({ self: z.string(), file: z.string(), cancel: z.string() }),
  })
  .meta({ id: 'ReportRun' });

export const runIdParams = z.object({ runId: z.uuid() });
export const reportIdParams = z.object({ reportId: z.string().max(60) });

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function runToApi(row: ExportRow & { created_by_name?: string | null }, reportName: string): z.infer<typeof runSchema> {
  return {
    id: row.id,
    reportId: row.report_id ?? row.kind,
    reportName,
    status: row.status,
    format: row.format,
    locale: row.locale,
    filters: row.params,
    fileName: row.file_name,
    rowsWritten: row.rows_written,
    bytesWritten: Number(row.bytes_written),
    error: row.error,
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: iso(row.finished_at),
    expiresAt: iso(row.expires_at),
    fileDeletedAt: iso(row.file_deleted_at),
    createdBy: row.created_by ? { id: row.created_by, name: row.created_by_name ?? null } : null,
    workflowId: exportWorkflowId(row.id),
    links: { self: `/v1/reports/runs/${row.id}`, file: `/v1/reports/runs/${row.id}/file`, cancel: `/v1/reports/runs/${row.id}/cancel` },
  };
}
