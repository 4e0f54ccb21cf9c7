import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { CSV_BOM, csvLine } from '../../domain/csv-out';
import type { Database } from '../../db/schema';
import { errorResponses } from '../problem-schema';
import { csvResponse } from '../openapi';
import type { RoutePlugin } from '../types';
import { reportQuerySchema } from './schemas';

const CALLS_HEADER = [
  'quando', 'campanha', 'campanha_id', 'contato_id', 'contato', 'telefone', 'tentativa', 'discagem', 'resultado',
  'causa_q850', 'causa_texto', 'toque_s', 'conversa_s', 'versao_estrategia', 'chave', 'ciclo', 'amd',
  // sim: the call's end was never seen and nothing recorded it (outcome `unknown`); perdida: not seen by the worker that placed it.
  'desfecho_desconhecido', 'fim_nao_visto',
];
const CAMPAIGNS_HEADER = [
  'campanha', 'campanha_id', 'status', 'contatos', 'tentativas', 'atendidas', 'ocupado', 'nao_atendeu', 'rejeitadas',
  'numero_invalido', 'falha_rede', 'caixa_postal', 'bloqueados', 'taxa_atendimento', 'primeira_chamada', 'ultima_chamada', 'duracao_s',
  'desconhecido',
];

const seconds = (ms: number | null) => (ms === null ? '' : (ms / 1000).toFixed(1));
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : '');

interface Filter {
  tenantId: string;
  from?: string;
  to?: string;
  campaignId?: string;
}

/** Relatório de Chamadas: one row per attempt, paged by id so a huge report streams in constant memory. */
function callsReport(db: Kysely<Database>, f: Filter, pageSize = 2000): Readable {
  async function* rows() {
    yield CSV_BOM + csvLine(CALLS_HEADER);
    let after = 0;
    for (;;) {
      let q = db
        .selectFrom('dial_attempts as a')
        .innerJoin('dialer_campaigns as c', 'c.id', 'a.campaign_id')
        .leftJoin('contacts as ct', 'ct.id', 'a.contact_id')
        .select([
          'a.id', 'a.started_at', 'c.name as campaign', 'a.campaign_id', 'a.contact_id', 'ct.name as contact', 'a.phone', 'a.attempt_no',
          'a.dial_no', 'a.outcome', 'a.state', 'a.cause', 'a.cause_txt', 'a.ring_ms', 'a.talk_ms', 'a.strategy_version', 'a.attempt_key',
          'a.cycle', 'a.amd_status', 'a.lost',
        ])
        .where('a.tenant_id', '=', f.tenantId)
        .where('a.id', '>', after)
        .orderBy('a.id')
        .limit(pageSize);
      if (f.campaignId) q = q.where('a.campaign_id', '=', f.campaignId);
      if (f.from) q = q.where('a.started_at', '>=', new Date(f.from));
      if (f.to) q = q.where('a.started_at', '<', new Date(f.to));
      const page = await q.execute();
      let chunk = '';
      for (const r of page) {
        chunk += csvLine([
          iso(r.started_at), r.campaign, r.campaign_id, r.contact_id, r.contact, r.phone, r.attempt_no, r.dial_no,
          r.outcome ?? (r.state === 'dialing' ? 'em_andamento' : ''), r.cause, r.cause_txt, seconds(r.ring_ms), seconds(r.talk_ms),
          r.strategy_version, r.attempt_key, r.cycle, r.amd_status,
          r.outcome === 'unknown' ? 'sim' : r.outcome ? 'nao' : '', r.outcome ? (r.lost ? 'sim' : 'nao') : '',
        ]);
      }
      if (chunk) yield chunk;
      if (page.length < pageSize) return;
      after = Number(page[page.length - 1].id);
    }
  }
  return Readable.from(rows());
}

/** Relatório Discador: one row per campaign with its numbers for the period. */
function campaignsReport(db: Kysely<Database>, f: Filter): Readable {
  async function* rows() {
    yield CSV_BOM + csvLine(CAMPAIGNS_HEADER);
    const period = sql`${f.from ? sql`AND a.started_at >= ${new Date(f.from)}` : sql``} ${f.to ? sql`AND a.started_at < ${new Date(f.to)}` : sql``}`;
    const result = await sql<{
      name: string; id: string; status: string; total_contacts: number; attempts: number; answered: number; busy: number; no_answer: number;
      rejected: number; invalid: number; network: number; machine: number; unknown: number; blocked: number; done: number; first_at: Date | null; last_at: Date | null;
    }>`
      SELECT c.name, c.id, c.status, c.total_contacts,
        count(a.id)::int AS attempts,
        count(a.id) FILTER (WHERE a.outcome = 'answered')::int AS answered,
        count(a.id) FILTER (WHERE a.outcome = 'busy')::int AS busy,
        count(a.id) FILTER (WHERE a.outcome = 'no_answer')::int AS no_answer,
        count(a.id) FILTER (WHERE a.outcome = 'rejected')::int AS rejected,
        count(a.id) FILTER (WHERE a.outcome = 'invalid_number')::int AS invalid,
        count(a.id) FILTER (WHERE a.outcome = 'network_failure')::int AS network,
        count(a.id) FILTER (WHERE a.outcome = 'answering_machine')::int AS machine,
        count(a.id) FILTER (WHERE a.outcome = 'unknown')::int AS unknown,
        (SELECT count(*)::int FROM dialer_contacts d WHERE d.campaign_id = c.id AND d.state = 'blocked') AS blocked,
        count(a.id) FILTER (WHERE a.state = 'done')::int AS done,
        min(a.started_at) AS first_at, max(COALESCE(a.ended_at, a.started_at)) AS last_at
      FROM dialer_campaigns c
      LEFT JOIN dial_attempts a ON a.campaign_id = c.id ${period}
      WHERE c.tenant_id = ${f.tenantId} ${f.campaignId ? sql`AND c.id = ${f.campaignId}` : sql``}
        ${f.to ? sql`AND c.created_at < ${new Date(f.to)}` : sql``}
        ${f.from ? sql`AND (c.finished_at IS NULL OR c.finished_at >= ${new Date(f.from)})` : sql``}
      GROUP BY c.id
      ORDER BY c.created_at, c.id`.execute(db);
    for (const r of result.rows) {
      const duration = r.first_at && r.last_at ? ((new Date(r.last_at).getTime() - new Date(r.first_at).getTime()) / 1000).toFixed(0) : '';
      yield csvLine([
        r.name, r.id, r.status, r.total_contacts, r.attempts, r.answered, r.busy, r.no_answer, r.rejected, r.invalid, r.network, r.machine,
        r.blocked, r.done ? (r.answered / r.done).toFixed(4) : '', iso(r.first_at), iso(r.last_at), duration, r.unknown,
      ]);
    }
  }
  return Readable.from(rows());
}

/** Dialer reports as streamed CSV (`;`, UTF-8 with BOM, formula-safe cells). */
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
        .send(callsReport(db, { tenantId: request.auth.tenantId, ...request.query })),
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
        .send(campaignsReport(db, { tenantId: request.auth.tenantId, ...request.query })),
  );
};
