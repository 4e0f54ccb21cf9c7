import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { groupStartRefusal, type GroupRefusal } from '../domain/group-lock';

/**
 * The group lock checked again when a campaign starts (a cycle opens, a send's page is taken):
 * the group must still be the campaign's own and active (see domain/group-lock.ts).
 */
export async function campaignGroupRefusal(db: Kysely<Database>, groupId: string, campaignId: string): Promise<GroupRefusal | undefined> {
  const group = await db.selectFrom('contact_groups').select(['name', 'status', 'campaign_id', 'campaign_name']).where('id', '=', groupId).executeTakeFirst();
  if (!group) return { code: 'GROUP_NOT_FOUND', message: `The group ${groupId} no longer exists.` };
  return groupStartRefusal(group, campaignId);
}
