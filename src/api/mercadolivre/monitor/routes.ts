import { sql } from 'kysely';
import { z } from 'zod';
import { errorResponses, unavailableResponses } from '../../problem-schema';
import type { RoutePlugin } from '../../types';

const monitorSchema = z.object({
  at: z.string(),
  unansweredQuestions: z.number().int(),
  oldestWaitingSince: z.string().nullable(),
  oldestWaitingSeconds: z.number().int().nullable(),
  slaBreachesToday: z.number().int(),
  medianAnswerSecondsToday: z.number().nullable(),
  answeredToday: z.number().int(),
  conversationsUnread: z.number().int(),
  accountsNeedingAuthorization: z.number().int(),
});
type Monitor = z.infer<typeof monitorSchema>;
const STREAM_EVERY_MS = 2_000;

/** "Today" is the day in Brasília, where the contact centre works. */
async function monitorOf(db: Parameters<RoutePlugin>[1]['db'], tenantId: string): Promise<Monitor> {
  const { rows } = await sql<{
    unanswered: string;
    oldest: Date | null;
    breaches: string;
    median: number | null;
    answered: string;
    unread: string;
    reauth: string;
  }>`
    WITH today AS (SELECT date_trunc('day', now() AT TIME ZONE 'America/Sao_Paulo') AT TIME ZONE 'America/Sao_Paulo' AS start)
    SELECT
      (SELECT count(*) FROM ml_questions WHERE tenant_id = ${tenantId} AND status = 'UNANSWERED') AS unanswered,
      (SELECT min(asked_at) FROM ml_questions WHERE tenant_id = ${tenantId} AND status = 'UNANSWERED') AS oldest,
      (SELECT count(*) FROM ml_questions, today WHERE tenant_id = ${tenantId} AND sla_breached_at >= today.start) AS breaches,
      (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - asked_at)) FROM ml_questions, today
        WHERE tenant_id = ${tenantId} AND answered_at >= today.start) AS median,
      (SELECT count(*) FROM ml_questions, today WHERE tenant_id = ${tenantId} AND answered_at >= today.start) AS answered,
      (SELECT count(*) FROM ml_conversations WHERE tenant_id = ${tenantId} AND unread_count > 0) AS unread,
      (SELECT count(*) FROM ml_accounts WHERE tenant_id = ${tenantId} AND status = 'needs_reauthorization') AS reauth`.execute(db);
  const r = rows[0];
  const now = new Date();
  return {
    at: now.toISOString(),
    unansweredQuestions: Number(r.unanswered),
    oldestWaitingSince: r.oldest ? r.oldest.toISOString() : null,
    oldestWaitingSeconds: r.oldest ? Math.max(0, Math.round((now.getTime() - r.oldest.getTime()) / 1000)) : null,
    slaBreachesToday: Number(r.breaches),
    medianAnswerSecondsToday: r.median === null ? null : Math.round(Number(r.median)),
    answeredToday: Number(r.answered),
    conversationsUnread: Number(r.unread),
    accountsNeedingAuthorization: Number(r.reauth),
  };
}

/** The channel at a glance, and the same as a Server-Sent Events stream (an event every 2 s). */
export const mercadoLivreMonitorRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/mercadolivre/monitor',
    {
      schema: {
        tags: ['mercadolivre'],
        summary: 'Unanswered questions, oldest waiting, SLA breaches today, median answer time, unread conversations, accounts needing authorization',
        response: { 200: monitorSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => monitorOf(db, request.auth.tenantId),
  );

  app.get(
    '/mercadolivre/monitor/stream',
    {
      schema: {
        tags: ['mercadolivre'],
        summary: 'The monitor as Server-Sent Events (`event: monitor`, JSON data, every 2 s)',
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': request.id });
      let closed = false;
      request.raw.on('close', () => {
        closed = true;
      });
      while (!closed) {
        try {
          res.write(`event: monitor\ndata: ${JSON.stringify(await monitorOf(db, request.auth.tenantId))}\n\n`);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, STREAM_EVERY_MS));
      }
      res.end();
    },
  );
};
