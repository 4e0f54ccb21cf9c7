import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { CSV_BOM, csvLine } from '../../domain/csv-out';
import type { Database } from '../../db/schema';

const TZ = 'America/Sao_Paulo';
const pct = (n: number, d: number) => (d === 0 ? '0,00' : ((n / d) * 100).toFixed(2).replace('.', ','));

/**
 * Relatório de Broadcast HSM Consolidado: per day (São Paulo), campaign, send and template — totals
 * and delivery/read rates. A message counts on the day it was handed over (or failed, skipped…).
 */
export function consolidatedReport(db: Kysely<Database>, filter: { campaignId?: string; sendId?: string }): Readable {
  async function* lines() {
    yield CSV_BOM + csvLine(['data', 'campanha', 'envio', 'template', 'idioma', 'total', 'enviadas', 'entregues', 'lidas', 'falhas', 'ignoradas', 'desconhecidas', 'pendentes', 'taxa_entrega_pct', 'taxa_leitura_pct']);
    const { rows } = await sql<{ day: string; campaign: string; send_id: string; template: string; language: string; total: number; handed: number; delivered: number; read: number; failed: number; skipped: number; unknown: number; pending: number }>`
      SELECT to_char((coalesce(m.accepted_at, m.sent_at, m.failed_at, m.skipped_at, m.unknown_at, m.created_at) AT TIME ZONE ${TZ})::date, 'YYYY-MM-DD') AS day,
             c.name AS campaign, s.id AS send_id, s.template_name AS template, s.template_language AS language,
             count(*)::int AS total,
             count(*) FILTER (WHERE m.state IN ('accepted', 'sent', 'delivered', 'read', 'failed', 'unknown'))::int AS handed,
             count(*) FILTER (WHERE m.state IN ('delivered', 'read'))::int AS delivered,
             count(*) FILTER (WHERE m.state = 'read')::int AS read,
             count(*) FILTER (WHERE m.state = 'failed')::int AS failed,
             count(*) FILTER (WHERE m.state = 'skipped')::int AS skipped,
             count(*) FILTER (WHERE m.state = 'unknown')::int AS unknown,
             count(*) FILTER (WHERE m.state IN ('pending', 'sending'))::int AS pending
      FROM broadcast_messages m JOIN broadcast_sends s ON s.id = m.send_id JOIN broadcast_campaigns c ON c.id = s.campaign_id
      WHERE ${filter.sendId ? sql`s.id = ${filter.sendId}` : sql`s.campaign_id = ${filter.campaignId!}`}
      GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, s.created_at, 3`.execute(db);
    for (const r of rows) {
      yield csvLine([r.day, r.campaign, r.send_id, r.template, r.language, r.total, r.handed, r.delivered, r.read, r.failed, r.skipped, r.unknown, r.pending, pct(r.delivered, r.handed), pct(r.read, r.handed)]);
    }
  }
  return Readable.from(lines());
}

const when = (d: Date | null) => (d ? new Date(d).toISOString() : '');

/** Relatório de Broadcast HSM Detalhado: one row per message, streamed page by page. */
export function detailedReport(db: Kysely<Database>, sendId: string, pageSize = 2000): Readable {
  async function* lines() {
    yield CSV_BOM +
      csvLine(['contato', 'telefone', 'wa_id', 'template', 'idioma', 'estado', 'motivo_ignorada', 'tentativas', 'aceita_em', 'enviada_em', 'entregue_em', 'lida_em', 'falhou_em', 'desconhecida_em', 'codigo_erro', 'erro', 'wamid']);
    let after = 0;
    for (;;) {
      const rows = await db
        .selectFrom('broadcast_messages as m')
        .innerJoin('broadcast_sends as s', 's.id', 'm.send_id')
        .leftJoin('contacts as c', 'c.id', 'm.contact_id')
        .select(['m.seq', 'c.name', 'm.phone', 'm.wa_id', 's.template_name', 's.template_language', 'm.state', 'm.skip_reason', 'm.attempts', 'm.accepted_at', 'm.sent_at', 'm.delivered_at', 'm.read_at', 'm.failed_at', 'm.unknown_at', 'm.error_code', 'm.error_title', 'm.wamid'])
        .where('m.send_id', '=', sendId)
        .where('m.seq', '>', after)
        .orderBy('m.seq')
        .limit(pageSize)
        .execute();
      let text = '';
      for (const r of rows) {
        text += csvLine([r.name, r.phone, r.wa_id, r.template_name, r.template_language, r.state, r.skip_reason, r.attempts, when(r.accepted_at), when(r.sent_at), when(r.delivered_at), when(r.read_at), when(r.failed_at), when(r.unknown_at), r.error_code, r.error_title, r.wamid]);
      }
      if (text) yield text;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1].seq;
    }
  }
  return Readable.from(lines());
}
