import { sql, type Kysely } from 'kysely';
import type { Channel, Database } from './schema';

/**
 * A phone belongs to at most one company contact of a tenant; the contact's opt-out flags are
 * mirrored into phone_opt_outs (source `company_contact`), which is what campaigns read.
 */

/**
 * One writer of a tenant's company-contact phones at a time (API and imports alike), so two
 * writers cannot both claim the same phone. Held until the transaction ends. `$1` = tenant id.
 */
export const COMPANY_PHONES_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('company_contacts:' || $1::text, 0))`;

export async function lockCompanyPhones(trx: Kysely<Database>, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`company_contacts:${tenantId}`}, 0))`.execute(trx);
}

/** The phones among `phones` that another company contact of the tenant already has, with their owner. */
export async function companyPhonesInUse(
  trx: Kysely<Database>,
  tenantId: string,
  phones: string[],
  exceptContactId?: string,
): Promise<{ phone: string; contactId: string }[]> {
  if (phones.length === 0) return [];
  const result = await sql<{ phone: string; contact_id: string }>`
    SELECT p AS phone, c.id AS contact_id FROM company_contacts c, unnest(c.phones) AS p
     WHERE c.tenant_id = ${tenantId} AND c.phones && ${phones}::text[] AND p = ANY(${phones}::text[])
       ${exceptContactId ? sql`AND c.id <> ${exceptContactId}` : sql``}
     ORDER BY p`.execute(trx);
  return result.rows.map((r) => ({ phone: r.phone, contactId: r.contact_id }));
}

export const COMPANY_CONTACT_OPT_OUT_SOURCE = 'company_contact';

export interface OptOutState {
  phones: string[];
  optOutVoice: boolean;
  optOutWhatsapp: boolean;
}

/**
 * Makes phone_opt_outs (source `company_contact`) match a contact's flags and phones after a
 * change: `before` is the contact as it was (null when created), `after` as it is now (null when
 * deleted). Rows of other sources (opt-out replies, block list) are never touched; rows that stay
 * keep their original date.
 */
export async function syncCompanyOptOuts(
  trx: Kysely<Database>,
  tenantId: string,
  contactId: string,
  before: OptOutState | null,
  after: OptOutState | null,
): Promise<void> {
  const channels: [Channel, keyof Pick<OptOutState, 'optOutVoice' | 'optOutWhatsapp'>][] = [
    ['voice', 'optOutVoice'],
    ['whatsapp', 'optOutWhatsapp'],
  ];
  for (const [channel, flag] of channels) {
    const wanted = after?.[flag] ? after.phones : [];
    const stale = (before?.phones ?? []).filter((p) => !wanted.includes(p));
    if (stale.length) {
      await trx
        .deleteFrom('phone_opt_outs')
        .where('tenant_id', '=', tenantId)
        .where('channel', '=', channel)
        .where('source', '=', COMPANY_CONTACT_OPT_OUT_SOURCE)
        .where('phone', 'in', stale)
        .execute();
    }
    if (wanted.length) {
      await trx
        .insertInto('phone_opt_outs')
        .values(wanted.map((phone) => ({ tenant_id: tenantId, channel, phone, source: COMPANY_CONTACT_OPT_OUT_SOURCE, reason: `Contato Omni ${contactId}` })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }
}
