import { sql } from 'kysely';
import { pageOf, singlePage, type ReportSource } from './source';

const TZ = 'America/Sao_Paulo';

/**
 * Relatório de Broadcast HSM Consolidado: per day (São Paulo), campaign, send and template. A
 * message counts on the day it was handed over (or failed, skipped…).
 */
export const broadcastConsolidatedSource: ReportSource = singlePage(async (db, { tenantId, filters: f }) => {
  const day = sql`coalesce(m.accepted_at, m.sent_at, m.failed_at, m.skipped_at, m.unknown_at, m.created_at)`;
  const { rows } = await sql<{
    day: string;
    campaign: string;
    send_id: string;
    template: string;
    language: string;
    total: number;
    handed: number;
    delivered: number;
    read: number;
    failed: number;
    skipped: number;
    unknown: number;
    pending: number;
  }>`
    SELECT to_char((${day} AT TIME ZONE ${TZ})::date, 'YYYY-MM-DD') AS day,
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
    WHERE s.tenant_id = ${tenantId}
      ${f.sendId ? sql`AND s.id = ${f.sendId}` : sql``} ${f.campaignId ? sql`AND s.campaign_id = ${f.campaignId}` : sql``}
      ${f.from ? sql`AND ${day} >= ${new Date(f.from)}` : sql``} ${f.to ? sql`AND ${day} < ${new Date(f.to)}` : sql``}
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, min(s.created_at), 3`.execute(db);
  return rows.map((r) => [
    r.day,
    r.campaign,
    r.send_id,
    r.template,
    r.language,
    r.total,
    r.handed,
    r.delivered,
    r.read,
    r.failed,
    r.skipped,
    r.unknown,
    r.pending,
    r.handed ? r.delivered / r.handed : 0,
    r.handed ? r.read / r.handed : 0,
  ]);
});

/** Relatório de Broadcast HSM Detalhado: one row per message, paged by message id. */
export const broadcastDetailedSource: ReportSource = async (db, { tenantId, filters: f }, cursor, limit) => {
  let q = db
    .selectFrom('broadcast_messages as m')
    .innerJoin('broadcast_sends as s', 's.id', 'm.send_id')
    .leftJoin('contacts as c', 'c.id', 'm.contact_id')
    .select([
      'm.id',
      'c.name',
      'm.phone',
      'm.wa_id',
      's.template_name',
      's.template_language',
      'm.state',
      'm.skip_reason',
      'm.missing_variables',
      'm.attempts',
      'm.accepted_at',
      'm.sent_at',
      'm.delivered_at',
      'm.read_at',
      'm.failed_at',
      'm.unknown_at',
      'm.error_code',
      'm.error_title',
      'm.wamid',
    ])
    .where('m.tenant_id', '=', tenantId)
    .where('m.id', '>', Number(cursor ?? 0))
    .orderBy('m.id')
    .limit(limit);
  if (f.sendId) q = q.where('m.send_id', '=', f.sendId);
  if (f.campaignId) q = q.where('s.campaign_id', '=', f.campaignId);
  if (f.from) q = q.where('m.created_at', '>=', new Date(f.from));
  if (f.to) q = q.where('m.created_at', '<', new Date(f.to));
  const rows = await q.execute();
  return pageOf(
    rows,
    limit,
    (r) => String(r.id),
    (r) => [
      r.name,
      r.phone,
      r.wa_id,
      r.template_name,
      r.template_language,
      r.state,
      r.skip_reason,
      r.missing_variables ? r.missing_variables.join(', ') : null,
      r.attempts,
      r.accepted_at,
      r.sent_at,
      r.delivered_at,
      r.read_at,
      r.failed_at,
      r.unknown_at,
      r.error_code,
      r.error_title,
      r.wamid,
    ],
  );
};
