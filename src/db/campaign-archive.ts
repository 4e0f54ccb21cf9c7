import type { Kysely } from 'kysely';
import type { Database } from './schema';

/**
 * Frees every group a campaign links (the dialer's one group, a broadcast campaign's groups of its
 * sends): they become editable again. Campaign ids are unique across both kinds (uuids).
 */
export async function unlinkCampaignGroups(db: Kysely<Database>, tenantId: string, campaignId: string): Promise<string[]> {
  const rows = await db
    .updateTable('contact_groups')
    .set({ campaign_id: null, campaign_name: null, linked_at: null })
    .where('tenant_id', '=', tenantId)
    .where('campaign_id', '=', campaignId)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
