import { csvResponse } from '../openapi';
import { errorResponses } from '../problem-schema';
import { reportCsvStream } from '../reports/stream';
import type { RoutePlugin } from '../types';
import { reportQuerySchema } from './schemas';

/** Dialer reports as streamed CSV (`;`, UTF-8 with BOM, formula-safe cells): the catalogue's `calls` and `dialer-campaigns`. */
export const dialerReportRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/dialer/reports/calls',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Relatório de Chamadas: one row per call attempt (CSV), filtered by period and campaign',
        querystring: reportQuerySchema,
        response: { 200: csvResponse, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="relatorio-chamadas.csv"')
        .send(reportCsvStream(db, 'calls', { tenantId: request.auth.tenantId, filters: request.query }, request.query.locale)),
  );
  app.get(
    '/dialer/reports/campaigns',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Relatório Discador: one row per campaign (CSV), filtered by period and campaign',
        querystring: reportQuerySchema,
        response: { 200: csvResponse, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="relatorio-discador.csv"')
        .send(reportCsvStream(db, 'dialer-campaigns', { tenantId: request.auth.tenantId, filters: request.query }, request.query.locale)),
  );
};
