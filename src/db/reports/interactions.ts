import { sql, type Kysely } from 'kysely';
import { interactionsQuery, phoneSearchKey } from '../interaction-queries';
import type { Database, InteractionChannel } from '../schema';
import { keysetReport } from './columns';
import { millisBetween } from './csv-cells';
import { microsCursor, type ReportQuery, type ReportSource } from './source';

/**
 * The interactions of a Rastreio de Interações page (tenant, filters, keyset on (started_at, id):
 * after `cursor`, up to `through` when given, at most `limit` when given), before choosing columns.
 */
export function interactionsPageQuery(
  db: Kysely<Database>,
  { tenantId, filters: f }: ReportQuery,
  cursor: string | null,
  limit: number | null,
  through?: string | null,
) {
  const phoneKey = f.phone ? (phoneSearchKey(f.phone) ?? '-') : undefined;
  let q = interactionsQuery(db, { ...f, tenantId, channel: f.channel as InteractionChannel | undefined }, phoneKey)
    .leftJoin('dialer_campaigns as dc', 'dc.id', 'i.campaign_id')
    .leftJoin('broadcast_campaigns as bc', 'bc.id', 'i.campaign_id');
  if (cursor) {
    const [at, id] = JSON.parse(cursor) as [string, number];
    q = q.where(sql<boolean>`(i.started_at, i.id) > (${at}::timestamptz, ${id}::bigint)`);
  }
  if (through) {
    const [at, id] = JSON.parse(through) as [string, number];
    q = q.where(sql<boolean>`(i.started_at, i.id) <= (${at}::timestamptz, ${id}::bigint)`);
  }
  q = q.orderBy('i.started_at').orderBy('i.id');
  return limit === null ? q : q.limit(limit);
}

/** Rastreio de Interações: every interaction of the period, oldest first, keyset on (started_at, id); its columns' values (see keysetReport). */
export const interactionsReport = keysetReport({
  reportId: 'interactions',
  columns: {
    interacao: { value: sql.ref('i.id'), csv: 'plain' },
    inicio: sql.ref('i.started_at'),
    fim: sql.ref('i.ended_at'),
    duracao_s: millisBetween(sql.ref('i.started_at'), sql.ref('i.ended_at')),
    canal: sql.ref('i.channel'),
    direcao: sql.ref('i.direction'),
    tipo: sql.ref('i.kind'),
    telefone: sql.ref('i.phone'),
    contato_omni_id: { value: sql.ref('i.company_contact_id'), csv: 'plain' },
    contato_id: { value: sql.ref('i.contact_id'), csv: 'plain' },
    comprador_ml: sql.ref('i.ml_buyer_id'),
    campanha: sql`COALESCE(dc.name, bc.name)`,
    campanha_id: { value: sql.ref('i.campaign_id'), csv: 'plain' },
    envio_id: { value: sql.ref('i.send_id'), csv: 'plain' },
    conta_ml_id: { value: sql.ref('i.ml_account_id'), csv: 'plain' },
    resultado: sql.ref('i.outcome'),
    atendido_por_tipo: sql.ref('i.handled_by_kind'),
    atendido_por: sql.ref('i.handled_by_id'),
    eventos: sql.ref('i.events'),
    detalhes: { value: sql`NULLIF(i.details::text, '{}')`, csv: 'json' },
    chave_origem: sql.ref('i.source_key'),
  },
  page: (db, query, cursor, limit, selections, through) => interactionsPageQuery(db, query, cursor, limit, through).select(selections),
  order: sql`i.started_at, i.id`,
  cursor: sql<string>`json_build_array(${microsCursor('i.started_at')}, i.id)::text`,
});

export const interactionsSource: ReportSource = interactionsReport.source;
