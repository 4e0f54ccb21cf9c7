import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Our custom search attributes (all Keyword). The embedded dev server, the test server and
 * docker-compose register exactly this list, so operations can filter in the Temporal UI/CLI:
 * `temporal workflow list --query 'TenantId="…" AND CampaignStatus="running"'`.
 */
export const TenantId = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const CampaignId = defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD);
export const CampaignKind = defineSearchAttributeKey('CampaignKind', SearchAttributeType.KEYWORD);
export const CampaignStatus = defineSearchAttributeKey('CampaignStatus', SearchAttributeType.KEYWORD);
export const ContactGroupId = defineSearchAttributeKey('ContactGroupId', SearchAttributeType.KEYWORD);
/** What kind of long job this is: `export`, `import`, `dialer-campaign`, `broadcast-send`, … */
export const JobKind = defineSearchAttributeKey('JobKind', SearchAttributeType.KEYWORD);
/** The job's current state, kept current by the workflow. */
export const JobStatus = defineSearchAttributeKey('JobStatus', SearchAttributeType.KEYWORD);

export const customSearchAttributes = [TenantId, CampaignId, CampaignKind, CampaignStatus, ContactGroupId, JobKind, JobStatus] as const;

/** `Name=Keyword` pairs, the form `temporal server start-dev --search-attribute` takes. */
export const searchAttributeFlags = (): string[] => customSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);

/** What a campaign workflow (dialer campaign or broadcast send) is found by, set when it starts. */
export const campaignSearchAttributes = (campaign: { tenantId: string; campaignId: string; kind: 'dialer' | 'broadcast'; status: string; groupId: string }) => [
  { key: TenantId, value: campaign.tenantId },
  { key: CampaignId, value: campaign.campaignId },
  { key: CampaignKind, value: campaign.kind },
  { key: CampaignStatus, value: campaign.status },
  { key: ContactGroupId, value: campaign.groupId },
  { key: JobKind, value: campaign.kind === 'dialer' ? 'dialer-campaign' : 'broadcast-send' },
  { key: JobStatus, value: campaign.status },
];

/** A campaign's new status, as the workflow upserts it. */
export const campaignStatusAttributes = (status: string) => [
  { key: CampaignStatus, value: status },
  { key: JobStatus, value: status },
];

/** What a Mercado Livre account workflow (`ml-account-<id>`) is found by from its start; the workflow keeps JobStatus current. */
export const mlAccountSearchAttributes = (account: { tenantId: string; status: string }) => [
  { key: TenantId, value: account.tenantId },
  { key: JobKind, value: 'ml-account' },
  { key: JobStatus, value: account.status },
];
