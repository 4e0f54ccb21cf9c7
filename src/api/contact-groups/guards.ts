import type { Kysely } from 'kysely';
import type { ContactGroup, Database } from '../../db/schema';
import { conflict, notFound } from '../problem';

export async function findGroup(db: Kysely<Database>, tenantId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<ContactGroup> {
  let query = db.selectFrom('contact_groups').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId);
  if (options.forUpdate) query = query.forUpdate();
  const group = await query.executeTakeFirst();
  if (!group) throw notFound('contact group', id);
  return group;
}

/** "Após o entrelaçamento de Campanha e Grupo de Contato não será mais possível a edição do Grupo." */
export function refuseIfLocked(group: ContactGroup): void {
  if (group.campaign_id) {
    throw conflict(
      'GROUP_LOCKED',
      `The group "${group.name}" is linked to campaign "${group.campaign_name ?? group.campaign_id}" and can no longer be edited.`,
      { campaign: { id: group.campaign_id, name: group.campaign_name } },
    );
  }
}
