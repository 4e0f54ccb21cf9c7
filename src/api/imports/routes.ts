import { Readable } from 'node:stream';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import { CSV_BOM, csvLine } from '../../domain/csv-out';
import { cancelImportUpdate, importWorkflowId } from '../../workflows/imports/messages';
import { audit } from '../audit';
import { importSchema, importToApi } from '../contact-groups/schemas';
import { keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { conflict, notFound } from '../problem';
import { errorResponses } from '../problem-schema';
import { csvResponse } from '../openapi';
import { runUpdate } from '../temporal-errors';
import { IMPORT_HISTORY_COLUMNS } from '../../domain/reports/catalogue';
import { reportLocaleSchema } from '../reports/schemas';
import { reportCsvStream } from '../reports/stream';
import type { RoutePlugin } from '../types';

const importIdParams = z.object({ id: z.uuid() });
/** How long a cancel's answer waits for the import to end (the cancel itself is final at once). */
const CANCEL_ANSWER_MS = 800;

const rejectionSchema = z
  .object({ line: z.number().int(), raw: z.string(), reasons: z.array(z.record(z.string(), z.unknown())) })
  .meta({ id: 'ImportRejection' });

type Reason = { code: string; column?: string; why?: string; message?: string };
const describeReason = (r: Reason) =>
  [r.code, r.column ? `(${r.column}${r.why ? `: ${r.why}` : ''})` : '', r.message ? `- ${r.message}` : ''].filter(Boolean).join(' ');

/** Streams the rejected rows as CSV (`;`, UTF-8 with BOM): line, original text, reasons. */
function rejectionsCsv(db: Kysely<Database>, importId: string): Readable {
  async function* lines() {
    yield CSV_BOM + csvLine(['linha', 'conteudo_original', 'motivos', 'codigos']);
    let after = 0;
    for (;;) {
      const rows = await db
        .selectFrom('import_rejections')
        .select(['line_no', 'raw', 'reasons'])
        .where('import_id', '=', importId)
        .where('line_no', '>', after)
        .orderBy('line_no')
        .limit(2000)
        .execute();
      let chunk = '';
      for (const r of rows) {
        const reasons = r.reasons as Reason[];
        chunk += csvLine([r.line_no, r.raw, reasons.map(describeReason).join(' | '), reasons.map((x) => x.code).join(',')]);
      }
      if (chunk) yield chunk;
      if (rows.length < 2000) return;
      after = rows[rows.length - 1].line_no;
    }
  }
  return Readable.from(lines());
}

/** Imports (Histórico Importação): status with live progress, rejected rows, cancel. */
export const importRoutes: RoutePlugin = (app, { db, temporal }) => {
  const findImport = async (tenantId: string, id: string) => {
    const row = await db
      .selectFrom('imports')
      .leftJoin('users', 'users.id', 'imports.created_by')
      .selectAll('imports')
      .select('users.name as created_by_name')
      .where('imports.id', '=', id)
      .where('imports.tenant_id', '=', tenantId)
      .executeTakeFirst();
    if (!row) throw notFound('import', id);
    return row;
  };

  app.get(
    '/imports',
    {
      schema: {
        tags: ['imports'],
        summary: 'Import history of the tenant (Histórico Importação), newest first',
        querystring: pageQuerySchema.extend({
          target: z.enum(['contact_group', 'company_contacts']).optional(),
          status: z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']).optional(),
          groupKind: z.enum(['dialer', 'broadcast']).optional(),
        }),
        response: { 200: pageSchema(importSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, target, status, groupKind } = request.query;
      let query = db
        .selectFrom('imports')
        .leftJoin('users', 'users.id', 'imports.created_by')
        .leftJoin('contact_groups', 'contact_groups.id', 'imports.group_id')
        .selectAll('imports')
        .select('users.name as created_by_name')
        .where('imports.tenant_id', '=', request.auth.tenantId);
      if (target) query = query.where('imports.target', '=', target);
      if (status) query = query.where('imports.status', '=', status);
      if (groupKind) query = query.where('contact_groups.kind', '=', groupKind);
      const rows = await keysetPage(query, {
        sort: { column: 'imports.created_at', direction: 'desc', timestamp: true },
        idColumn: 'imports.id',
        limit,
        cursor,
      }).execute();
      return toPage(rows, limit, (r) => [new Date(r.created_at).toISOString(), r.id], importToApi);
    },
  );

  app.get(
    '/imports/history.csv',
    {
      schema: {
        tags: ['imports'],
        summary: 'Histórico Importação as CSV (Relatório Discador/Broadcast Grupo de Contatos), streamed',
        querystring: z.object({
          groupKind: z.enum(['dialer', 'broadcast']).optional(),
          target: z.enum(['contact_group', 'company_contacts']).optional(),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
          locale: reportLocaleSchema,
        }),
        response: { 200: csvResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { locale, ...filters } = request.query;
      const stream = reportCsvStream(db, 'import-history', { tenantId: request.auth.tenantId, filters }, locale, { columns: IMPORT_HISTORY_COLUMNS });
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="historico-importacao.csv"').send(stream);
    },
  );

  app.get(
    '/imports/:id',
    {
      schema: {
        tags: ['imports'],
        summary: 'An import: rows read, imported, rejected and its state (live while running)',
        params: importIdParams,
        response: { 200: importSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await findImport(request.auth.tenantId, request.params.id);
      return importToApi(row);
    },
  );

  app.get(
    '/imports/:id/rejections',
    {
      schema: {
        tags: ['imports'],
        summary: 'Rejected rows with their line number, original text and every reason',
        params: importIdParams,
        querystring: pageQuerySchema.extend({ code: z.string().optional().describe('Only rows with this reason code') }),
        response: { 200: pageSchema(rejectionSchema), ...errorResponses },
      },
    },
    async (request) => {
      const row = await findImport(request.auth.tenantId, request.params.id);
      const { limit, cursor, code } = request.query;
      let query = db.selectFrom('import_rejections').select(['line_no', 'raw', 'reasons']).where('import_id', '=', row.id);
      if (code) query = query.where('reasons', '@>', JSON.stringify([{ code }]) as never);
      const rows = await keysetPage(query, { sort: { column: 'line_no', direction: 'asc', timestamp: false }, idColumn: 'line_no', limit, cursor }).execute();
      return toPage(
        rows,
        limit,
        (r) => [r.line_no, r.line_no],
        (r) => ({ line: r.line_no, raw: r.raw, reasons: r.reasons as Record<string, unknown>[] }),
      );
    },
  );

  app.get(
    '/imports/:id/rejections.csv',
    {
      schema: {
        tags: ['imports'],
        summary: 'Download the rejected rows as CSV (`;`, UTF-8 with BOM, formula-safe)',
        params: importIdParams,
        response: { 200: csvResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await findImport(request.auth.tenantId, request.params.id);
      const base = row.file_name.replace(/\.csv$/i, '');
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${encodeURIComponent(base)}-rejeitados.csv"`)
        .send(rejectionsCsv(db, row.id));
    },
  );

  app.post(
    '/imports/:id/cancel',
    {
      schema: {
        tags: ['imports'],
        summary: 'Cancel a running import: no batch commits after the answer (rows already imported stay)',
        description:
          'Answered within a second. The cancel is written to the import first, ' +
          'under the lock each batch takes to commit its checkpoint, so the counts in the answer ' +
          'are final; the import then ends `cancelled` (usually before the answer, else `cancelRequestedAt` is set and it ends within a batch).',
        params: importIdParams,
        response: { 200: importSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await findImport(request.auth.tenantId, request.params.id);
      if (row.status !== 'running' && row.status !== 'pending') throw conflict('IMPORT_NOT_RUNNING', `The import is ${row.status}.`);
      if (row.cancel_requested_at) throw conflict('IMPORT_NOT_RUNNING', 'The import is already being cancelled.');
      const accepted = await db.transaction().execute(async (trx) => {
        const marked = await trx
          .updateTable('imports')
          .set({ cancel_requested_at: new Date(), cancelled_by: request.auth.userName })
          .where('id', '=', row.id)
          .where('status', 'in', ['pending', 'running'])
          .where('cancel_requested_at', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (marked)
          await audit(trx, request, { action: 'import.cancel', targetType: 'import', targetId: row.id, summary: `Importação de ${row.file_name} cancelada` });
        return marked;
      });
      if (!accepted) {
        const now = await findImport(request.auth.tenantId, row.id);
        throw conflict('IMPORT_NOT_RUNNING', now.cancel_requested_at ? 'The import is already being cancelled.' : `The import is ${now.status}.`);
      }
      // The workflow ends it within a batch; the answer waits for that, but not past a second.
      const update = runUpdate(
        () => temporal.workflow.getHandle(importWorkflowId(row.id)).executeUpdate(cancelImportUpdate, { args: [{ by: request.auth.userName }] }),
        'IMPORT_NOT_RUNNING',
        'import',
      ).catch((error) => request.log.warn({ err: error, importId: row.id }, 'the import workflow did not take the cancel; its next batch sees it'));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([update, new Promise((resolve) => (timer = setTimeout(resolve, CANCEL_ANSWER_MS)))]);
      clearTimeout(timer);
      return importToApi(await findImport(request.auth.tenantId, row.id));
    },
  );
};
