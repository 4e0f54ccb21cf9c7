import type { Kysely } from 'kysely';
import type { ContactGroup, Database } from '../../db/schema';
import { groupEditRefusal } from '../../domain/group-lock';
import { conflict, notFound } from '../problem';

export async function findGroup(db: Kysely<Database>, tenantId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<ContactGroup> {
  let query = db.selectFrom('contact_groups').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId);
  if (options.forUpdate) query = query.forUpdate();
  const group = await query.executeTakeFirst();
  if (!group) throw notFound('contact group', id);
  return group;
}

/** 409 GROUP_LOCKED for any edit of a group linked to a campaign (the rule: domain/group-lock.ts). */
export function refuseIfLocked(group: ContactGroup): void {
  const refusal = groupEditRefusal(group);
  if (refusal) throw conflict(refusal.code, refusal.message, { campaign: refusal.campaign });
}
