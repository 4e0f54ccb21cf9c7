/**
 * The group lock, in one place: "após o entrelaçamento de Campanha e Grupo de Contato não será
 * mais possível a edição do Grupo". A group linked to a campaign cannot be edited at all — its
 * contacts, its imports, its status (deactivating it would stop the campaign from under it;
 * activating it cannot be needed, a group is linked only while active). The campaign's end
 * (deleted or archived) unlinks it. A campaign starts only on its own group, active.
 */
export interface LockedGroupView {
  name: string;
  status: string;
  campaign_id: string | null;
  campaign_name: string | null;
}

export interface GroupRefusal {
  code: string;
  message: string;
  campaign?: { id: string; name: string | null };
}

/** Why this group cannot be edited now (GROUP_LOCKED), or undefined when it can. */
export function groupEditRefusal(group: LockedGroupView): GroupRefusal | undefined {
  if (!group.campaign_id) return undefined;
  return {
    code: 'GROUP_LOCKED',
    message: `The group "${group.name}" is linked to campaign "${group.campaign_name ?? group.campaign_id}" and can no longer be edited.`,
    campaign: { id: group.campaign_id, name: group.campaign_name },
  };
}

/** The pause reason of a campaign whose group cannot be used when it starts. */
export const GROUP_UNUSABLE_REASON = 'group_inactive';

/** Why a campaign cannot start (or go on) on this group, or undefined when it can: active and still its own. */
export function groupStartRefusal(group: LockedGroupView, campaignId: string): GroupRefusal | undefined {
  if (group.campaign_id !== campaignId) return { code: 'GROUP_NOT_LINKED', message: `The group "${group.name}" is no longer linked to this campaign.` };
  if (group.status !== 'active') return { code: 'GROUP_INACTIVE', message: `The group "${group.name}" is inactive.` };
  return undefined;
}
