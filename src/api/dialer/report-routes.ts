import { z } from 'zod';
import { ivrNodeSummary } from '../../db/reports/ivr';
import { csvResponse } from '../openapi';
import { errorResponses } from '../problem-schema';
import { reportCsvStream } from '../reports/stream';
import type { RoutePlugin } from '../types';
import { reportQuerySchema } from './schemas';

const ivrReportQuerySchema = reportQuerySchema.extend({
  flowId: z.uuid().optional().describe('Only this IVR flow'),
  phone: z.string().max(40).optional().describe('Only calls to this phone (with or without 55)'),
});

const ivrSummarySchema = z
  .object({
    items: z.array(
      z.object({
        flowId: z.uuid(),
        flowName: z.string(),
        node: z.string(),
        entered: z.number().int().describe('Times a call entered the node'),
        byKey: z.record(z.string(), z.number().int()).describe('Left by a key: the entry that decided it → calls'),
        timeouts: z.number().int(),
        invalid: z.number().int().describe('Left after the last invalid entry'),
        hangups: z.number().int().describe('The caller hung up in the node'),
        other: z.record(z.string(), z.number().int()).describe('Left otherwise: next, ended, transferred, no_agent, max_visits'),
        inNode: z.number().int().describe('Calls in the node now'),
      }),
    ),
  })
  .meta({ id: 'IvrSummary' });

/** Dialer reports as streamed CSV (`;`, UTF-8 with BOM, formula-safe cells): the catalogue's `calls`, `dialer-campaigns` and `ivr`. */
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
  app.get(
    '/dialer/reports/ivr',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Relatório IVR: one row per call that entered an IVR flow (CSV), filtered by period, campaign and flow',
        querystring: ivrReportQuerySchema,
        response: { 200: csvResponse, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="relatorio-ivr.csv"')
        .send(reportCsvStream(db, 'ivr', { tenantId: request.auth.tenantId, filters: request.query }, request.query.locale)),
  );
  app.get(
    '/dialer/reports/ivr/summary',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Relatório IVR por nó: calls that entered each node and how they left (by key, timeout, invalid, hang-up)',
        querystring: ivrReportQuerySchema,
        response: { 200: ivrSummarySchema, ...errorResponses },
      },
    },
    async (request) => ({ items: await ivrNodeSummary(db, request.auth.tenantId, request.query) }),
  );
};
