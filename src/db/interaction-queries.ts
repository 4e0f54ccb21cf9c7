import { sql, type Kysely } from 'kysely';
import { normalizePhone, withoutNinthDigit } from '../domain/phone';
import { phoneKeySql } from './interactions';
import type { Database, InteractionChannel } from './schema';

/** The filters of the interaction list, the timeline and the Rastreio de Interações report. */
export interface InteractionFilter {
  tenantId: string;
  phone?: string;
  companyContactId?: string;
  channel?: InteractionChannel;
  direction?: 'outbound' | 'inbound';
  campaignId?: string;
  sendId?: string;
  agentId?: string;
  mlBuyerId?: string;
  outcome?: string;
  from?: string;
  to?: string;
}

/**
 * The phone_key a search for `raw` looks up: digits only, 55 added to a national number (DDD +
 * 8 or 9 digits), a mobile's ninth digit dropped. Undefined when it cannot be a phone.
 */
export function phoneSearchKey(raw: string): string | undefined {
  const digits = normalizePhone(raw.trim());
  if (!/^\d{8,15}$/.test(digits)) return undefined;
  const full = (digits.length === 10 || digits.length === 11) && !digits.startsWith('55') ? `55${digits}` : digits;
  return withoutNinthDigit(full);
}

/**
 * Interactions matching a filter (newest-first order is the caller's). A company contact's
 * interactions are those recorded for it, those with one of its phones (a CSV group with the
 * same number is still that person) and those of its Mercado Livre buyer ids.
 */
export function interactionsQuery(db: Kysely<Database>, f: InteractionFilter, phoneKey?: string) {
  let q = db.selectFrom('interactions as i').where('i.tenant_id', '=', f.tenantId);
  if (phoneKey !== undefined) q = q.where('i.phone_key', '=', phoneKey);
  if (f.companyContactId) {
    const id = f.companyContactId;
    q = q.where((eb) =>
      eb.or([
        eb('i.company_contact_id', '=', id),
        eb(
          'i.phone_key',
          'in',
          sql<string>`(SELECT ${phoneKeySql(sql.ref('p'))} FROM company_contacts cc, unnest(cc.phones) p
          WHERE cc.id = ${id} AND cc.tenant_id = ${f.tenantId})`,
        ),
        eb('i.ml_buyer_id', 'in', sql<string>`(SELECT unnest(cc.ml_buyer_ids) FROM company_contacts cc WHERE cc.id = ${id} AND cc.tenant_id = ${f.tenantId})`),
      ]),
    );
  }
  if (f.channel) q = q.where('i.channel', '=', f.channel);
  if (f.direction) q = q.where('i.direction', '=', f.direction);
  if (f.campaignId) q = q.where('i.campaign_id', '=', f.campaignId);
  if (f.sendId) q = q.where('i.send_id', '=', f.sendId);
  if (f.agentId) q = q.where('i.handled_by_kind', '=', 'agent').where('i.handled_by_id', '=', f.agentId);
  if (f.mlBuyerId) q = q.where('i.ml_buyer_id', '=', f.mlBuyerId);
  if (f.outcome) q = q.where('i.outcome', '=', f.outcome);
  if (f.from) q = q.where('i.started_at', '>=', new Date(f.from));
  if (f.to) q = q.where('i.started_at', '<', new Date(f.to));
  return q;
}
