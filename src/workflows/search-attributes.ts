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

export const customSearchAttributes = [
  TenantId,
  CampaignId,
  CampaignKind,
  CampaignStatus,
  ContactGroupId,
  JobKind,
  JobStatus,
] as const;

/** `Name=Keyword` pairs, the form `temporal server start-dev --search-attribute` takes. */
export const searchAttributeFlags = (): string[] =>
  customSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
