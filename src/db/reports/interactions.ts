import { sql, type Kysely } from 'kysely';
import { interactionsQuery, phoneSearchKey } from '../interaction-queries';
import type { Database, InteractionChannel, InteractionEvent } from '../schema';
import { microsCursor, pageOf, type ReportQuery, type ReportSource } from './source';

const eventsInTimeOrder = (events: InteractionEvent[]) => [...events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));

/** The interactions of a Rastreio de Interações page (tenant, filters, keyset on (started_at, id)), before choosing columns. */
export function interactionsPageQuery(db: Kysely<Database>, { tenantId, filters: f }: ReportQuery, cursor: string | null, limit: number) {
  const phoneKey = f.phone ? (phoneSearchKey(f.phone) ?? '-') : undefined;
  let q = interactionsQuery(db, { ...f, tenantId, channel: f.channel as InteractionChannel | undefined }, phoneKey)
    .leftJoin('dialer_campaigns as dc', 'dc.id', 'i.campaign_id')
    .leftJoin('broadcast_campaigns as bc', 'bc.id', 'i.campaign_id');
  if (cursor) {
    const [at, id] = JSON.parse(cursor) as [string, number];
    q = q.where(sql<boolean>`(i.started_at, i.id) > (${at}::timestamptz, ${id}::bigint)`);
  }
  return q.orderBy('i.started_at').orderBy('i.id').limit(limit);
}

/** Rastreio de Interações: every interaction of the period, oldest first, keyset on (started_at, id). */
export const interactionsSource: ReportSource = async (db, query, cursor, limit) => {
  const q = interactionsPageQuery(db, query, cursor, limit).select([
    'i.id',
    'i.started_at',
    'i.ended_at',
    'i.channel',
    'i.direction',
    'i.kind',
    'i.phone',
    'i.company_contact_id',
    'i.contact_id',
    'i.ml_buyer_id',
    'i.campaign_id',
    'i.send_id',
    'i.ml_account_id',
    'i.outcome',
    'i.handled_by_kind',
    'i.handled_by_id',
    'i.events',
    'i.source_key',
    sql<string>`i.details::text`.as('details'),
    sql<string | null>`COALESCE(dc.name, bc.name)`.as('campaign'),
    microsCursor('i.started_at').as('cursor_at'),
  ]);
  const rows = await q.execute();
  return pageOf(
    rows,
    limit,
    (r) => JSON.stringify([r.cursor_at, r.id]),
    (r) => [
      r.id,
      r.started_at,
      r.ended_at,
      r.ended_at ? new Date(r.ended_at).getTime() - new Date(r.started_at).getTime() : null,
      r.channel,
      r.direction,
      r.kind,
      r.phone,
      r.company_contact_id,
      r.contact_id,
      r.ml_buyer_id,
      r.campaign,
      r.campaign_id,
      r.send_id,
      r.ml_account_id,
      r.outcome,
      r.handled_by_kind,
      r.handled_by_id,
      eventsInTimeOrder(r.events),
      r.details === '{}' ? null : r.details,
      r.source_key,
    ],
  );
};
