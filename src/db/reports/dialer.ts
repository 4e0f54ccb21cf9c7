import { sql, type Kysely } from 'kysely';
import { shortCallShare } from '../../domain/dialer/short-calls';
import { agentNameSql } from '../agents';
import type { Database } from '../schema';
import { isShortCallSql, shortCallDays } from '../short-calls';
import { keysetReport } from './columns';
import { singlePage, type ReportQuery, type ReportSource } from './source';

/**
 * The attempts of a Relatório de Chamadas page (tenant, filters, keyset on id: after `cursor`, up to
 * `through` when given, at most `limit` when given), before choosing columns.
 */
export function callsPageQuery(
  db: Kysely<Database>,
  { tenantId, filters: f }: ReportQuery,
  cursor: string | null,
  limit: number | null,
  through?: string | null,
) {
  let q = db
    .selectFrom('dial_attempts as a')
    .innerJoin('dialer_campaigns as c', 'c.id', 'a.campaign_id')
    .leftJoin('contacts as ct', 'ct.id', 'a.contact_id')
    .leftJoin('agents as ag', 'ag.id', 'a.agent_id')
    .leftJoin('users as au', 'au.id', 'ag.user_id')
    .leftJoin('ivr_calls as ivr', 'ivr.attempt_key', 'a.attempt_key')
    .leftJoin('ivr_flows as ivr_flow', 'ivr_flow.id', 'ivr.flow_id')
    .where('a.tenant_id', '=', tenantId)
    .where('a.id', '>', Number(cursor ?? 0))
    .orderBy('a.id');
  if (through) q = q.where('a.id', '<=', Number(through));
  if (limit !== null) q = q.limit(limit);
  if (f.campaignId) q = q.where('a.campaign_id', '=', f.campaignId);
  if (f.from) q = q.where('a.started_at', '>=', new Date(f.from));
  if (f.to) q = q.where('a.started_at', '<', new Date(f.to));
  return q;
}

const knownOutcome = sql`a.outcome IS NOT NULL AND a.outcome <> ''`;

/** Relatório de Chamadas: one row per attempt, paged by id; its columns' values (see keysetReport). */
export const callsReport = keysetReport({
  reportId: 'calls',
  columns: {
    quando: sql.ref('a.started_at'),
    campanha: sql.ref('c.name'),
    campanha_id: { value: sql.ref('a.campaign_id'), csv: 'plain' },
    contato_id: { value: sql.ref('a.contact_id'), csv: 'plain' },
    contato: sql.ref('ct.name'),
    telefone: sql.ref('a.phone'),
    tentativa: sql.ref('a.attempt_no'),
    discagem: sql.ref('a.dial_no'),
    resultado: sql`COALESCE(a.outcome, CASE WHEN a.state = 'dialing' THEN 'em_andamento' ELSE '' END)`,
    causa_q850: sql.ref('a.cause'),
    causa_texto: sql.ref('a.cause_txt'),
    toque_s: sql.ref('a.ring_ms'),
    conversa_s: sql.ref('a.talk_ms'),
    versao_estrategia: sql.ref('a.strategy_version'),
    chave: sql.ref('a.attempt_key'),
    ciclo: sql.ref('a.cycle'),
    amd: sql.ref('a.amd_status'),
    // sim: the call's end was never seen and nothing recorded it (outcome `unknown`); fim_nao_visto: not seen by the worker that placed it.
    desfecho_desconhecido: { value: sql`CASE WHEN a.outcome = 'unknown' THEN 'sim' WHEN ${knownOutcome} THEN 'nao' ELSE '' END`, csv: 'plain' },
    fim_nao_visto: { value: sql`CASE WHEN ${knownOutcome} THEN (CASE WHEN a.lost THEN 'sim' ELSE 'nao' END) ELSE '' END`, csv: 'plain' },
    // The agent the customer was bridged to (agent-connect.ts): their name, or e-mail when unnamed.
    agente: agentNameSql('au'),
    espera_agente_s: sql.ref('a.agent_wait_ms'),
    conversa_agente_s: sql.ref('a.agent_talk_ms'),
    abandonada: { value: sql`CASE WHEN a.outcome = 'abandoned' THEN 'sim' WHEN ${knownOutcome} THEN 'nao' ELSE '' END`, csv: 'plain' },
    // URA ativa (issue 13): empty for an attempt that never entered a flow.
    fluxo: sql.ref('ivr_flow.name'),
    versao_fluxo: sql.ref('ivr.flow_version'),
    disposicao: sql.ref('ivr.disposition'),
    no_final: sql.ref('ivr.current_node'),
    teclas: sql.ref('ivr.keys'),
  },
  page: (db, query, cursor, limit, selections, through) => callsPageQuery(db, query, cursor, limit, through).select(selections),
  order: sql`a.id`,
  cursor: sql<string>`a.id::text`,
});

export const callsSource: ReportSource = callsReport.source;

/** Relatório Discador: one row per campaign with its numbers for the period. */
export const dialerCampaignsSource: ReportSource = singlePage(async (db, { tenantId, filters: f }) => {
  const periodOf = sql`${f.from ? sql`AND a.started_at >= ${new Date(f.from)}` : sql``} ${f.to ? sql`AND a.started_at < ${new Date(f.to)}` : sql``}`;
  const result = await sql<{
    name: string;
    id: string;
    status: string;
    total_contacts: number;
    attempts: number;
    answered: number;
    busy: number;
    no_answer: number;
    rejected: number;
    invalid: number;
    network: number;
    machine: number;
    unknown: number;
    abandoned: number;
    blocked: number;
    done: number;
    short: number;
    first_at: Date | null;
    last_at: Date | null;
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
      count(a.id) FILTER (WHERE a.outcome = 'abandoned')::int AS abandoned,
      (SELECT count(*)::int FROM dialer_contacts d WHERE d.campaign_id = c.id AND d.state = 'blocked') AS blocked,
      count(a.id) FILTER (WHERE a.state = 'done')::int AS done,
      count(a.id) FILTER (WHERE ${isShortCallSql})::int AS short,
      min(a.started_at) AS first_at, max(COALESCE(a.ended_at, a.started_at)) AS last_at
    FROM dialer_campaigns c
    LEFT JOIN dial_attempts a ON a.campaign_id = c.id ${periodOf}
    WHERE c.tenant_id = ${tenantId} ${f.campaignId ? sql`AND c.id = ${f.campaignId}` : sql``}
      ${f.to ? sql`AND c.created_at < ${new Date(f.to)}` : sql``}
      ${f.from ? sql`AND (c.finished_at IS NULL OR c.finished_at >= ${new Date(f.from)})` : sql``}
    GROUP BY c.id
    ORDER BY c.created_at, c.id`.execute(db);
  const campaigns = result.rows.map((r) => [
    r.name,
    r.id,
    r.status,
    r.total_contacts,
    r.attempts,
    r.answered,
    r.busy,
    r.no_answer,
    r.rejected,
    r.invalid,
    r.network,
    r.machine,
    r.blocked,
    r.done ? r.answered / r.done : null,
    r.first_at,
    r.last_at,
    r.first_at && r.last_at ? Math.round((new Date(r.last_at).getTime() - new Date(r.first_at).getTime()) / 1000) : null,
    r.unknown,
    r.short,
    shortCallShare(r.attempts, r.short),
    r.abandoned,
  ]);
  if (f.campaignId) return campaigns;
  // The tenant's days: Anatel's short-call rule counts every call of the company, per day.
  const days = await shortCallDays(db, tenantId, { from: f.from, to: f.to ?? new Date().toISOString() });
  const dayRows = days.map((d) => [`Empresa — ${d.day}`, null, 'dia', null, d.placed, ...Array(12).fill(null), null, d.short, d.share, null]);
  return [...campaigns, ...dayRows];
});
