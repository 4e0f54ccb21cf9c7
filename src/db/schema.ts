import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { MessagingLimitTier } from '../domain/messaging-limits';
import type { AgentTables } from './agents-schema';
import type { MissingVariables } from '../domain/broadcast';
import type { MercadoLivreTables } from './mercadolivre-schema';
import type { IvrTables } from './ivr-schema';
import type { SignInTables } from './sign-in-schema';

/** Kysely table types. One interface per table; migrations are the source of truth. */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string | T, string | T>;
/** A JSON column with a database default: optional on insert. */
type JsonWithDefault<T = unknown> = ColumnType<T, string | T | undefined, string | T>;

/** `agent` (0070) sits between viewer and supervisor: a viewer who also changes their own agent state. */
export type Role = 'admin' | 'supervisor' | 'agent' | 'viewer';

export interface TenantsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
  /** 0061: days a finished report file is kept before it is deleted. */
  report_retention_days: Generated<number>;
}

export interface UsersTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  email: string;
  role: Role;
  created_at: CreatedAt;
  /** 0120: argon2id hash; null until the user accepts an invite (API keys only). */
  password_hash: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ApiKeysTable {
  /** Public part of the key, e.g. `k_3f9a…`; the secret part is only stored hashed. */
  id: string;
  tenant_id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  tenant_id: string;
  actor_user_id: string | null;
  actor_key_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  summary: string;
  details: JsonWithDefault<Record<string, unknown>>;
  request_id: string | null;
  created_at: CreatedAt;
  /** 0021: who acted — a person through the API, operations (a Temporal signal) or the system. */
  actor_kind: Generated<'user' | 'operations' | 'system'>;
  /** 0021: a workflow entry's own key (written once however often its activity runs). */
  event_key: string | null;
}

export type ExportStatus = 'running' | 'completed' | 'cancelled' | 'failed';

export interface ExportsTable {
  id: Generated<string>;
  tenant_id: string;
  kind: string;
  params: JsonWithDefault<Record<string, unknown>>;
  status: ExportStatus;
  file_name: string;
  rows_written: Generated<number>;
  bytes_written: Generated<number>;
  error: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  finished_at: Timestamp | null;
  /** 0061: the catalogue report this run is of, its file format and locale, and the file's retention. */
  report_id: string | null;
  format: Generated<'csv' | 'xlsx'>;
  locale: Generated<'pt-BR' | 'iso'>;
  expires_at: Timestamp | null;
  file_deleted_at: Timestamp | null;
}

export interface ExportChunksTable {
  export_id: string;
  seq: number;
  data: Buffer;
}

export interface UploadsTable {
  id: Generated<string>;
  tenant_id: string;
  file_name: string;
  size_bytes: Generated<number>;
  chunk_count: Generated<number>;
  created_by: string | null;
  created_at: CreatedAt;
  state: Generated<UploadState>;
  last_chunk_at: Date | null;
}

/** `arriving`: an import reads it while its chunks are still being stored (src/db/uploads.ts). */
export type UploadState = 'arriving' | 'complete' | 'abandoned';

export interface UploadChunksTable {
  upload_id: string;
  seq: number;
  data: Buffer;
}

export type GroupKind = 'dialer' | 'broadcast';
export type GroupStatus = 'active' | 'inactive';

export interface ContactGroupsTable {
  id: Generated<string>;
  tenant_id: string;
  kind: GroupKind;
  name: string;
  name_key: string;
  source: 'csv' | 'company_contacts';
  status: Generated<GroupStatus>;
  contact_count: Generated<number>;
  /** Bumped by every write that adds, changes or removes the group's phones. */
  phones_revision: Generated<string>;
  campaign_id: string | null;
  campaign_name: string | null;
  linked_at: Timestamp | null;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface ContactsTable {
  id: Generated<number>;
  group_id: string;
  name: string;
  phones: string[];
  email: string | null;
  document: string | null;
  custom: JsonWithDefault<Record<string, string>>;
  import_id: string | null;
  line_no: number | null;
  company_contact_id: string | null;
  created_at: CreatedAt;
}

export type ImportStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type PhonePolicy = 'reject_row' | 'drop_invalid';

export interface ImportsTable {
  id: Generated<string>;
  tenant_id: string;
  target: 'contact_group' | 'company_contacts';
  group_id: string | null;
  upload_id: string | null;
  file_name: string;
  status: ImportStatus;
  phone_policy: Generated<PhonePolicy>;
  /** The import came with its group's creation: cut off mid-upload, the group goes too. */
  creates_group: Generated<boolean>;
  encoding: string | null;
  rows_read: Generated<number>;
  rows_imported: Generated<number>;
  rows_rejected: Generated<number>;
  checkpoint_line: Generated<number>;
  checkpoint_offset: Generated<number>;
  header: string[] | null;
  error: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** Set by a cancel: no batch commits after it (0020). */
  cancel_requested_at: Timestamp | null;
  cancelled_by: string | null;
}

export interface ImportRejectionsTable {
  import_id: string;
  line_no: number;
  raw: string;
  reasons: Json<unknown[]>;
}

export interface CompanyContactsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  name_key: string;
  phones: string[];
  email: string | null;
  document: string | null;
  custom: JsonWithDefault<Record<string, string>>;
  opt_out_voice: Generated<boolean>;
  opt_out_whatsapp: Generated<boolean>;
  /** Mercado Livre buyer ids of the same person (their questions and messages join the timeline). */
  ml_buyer_ids: Generated<string[]>;
  import_id: string | null;
  line_no: number | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type Channel = 'voice' | 'whatsapp';

export interface PhoneOptOutsTable {
  tenant_id: string;
  channel: Channel;
  phone: string;
  source: string;
  reason: string | null;
  created_at: CreatedAt;
}

// ---- Dialer (0003)

export type DialerCampaignStatus = 'draft' | 'scheduled' | 'running' | 'paused' | 'completed' | 'stopped';
export type DialerContactState = 'pending' | 'queued' | 'dialing' | 'done' | 'blocked' | 'exhausted';

export interface DialStrategiesTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  name_key: string;
  version: Generated<number>;
  telemarketing: Generated<boolean>;
  config: Json<unknown>;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface DialerCampaignsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  name_key: string;
  group_id: string;
  strategy_id: string;
  status: DialerCampaignStatus;
  waiting_window: Generated<boolean>;
  next_window_at: Timestamp | null;
  pause_reason: string | null;
  state_seq: Generated<number>;
  start_at: Timestamp | null;
  end_at: Timestamp | null;
  recurrence: Json<unknown> | null;
  total_contacts: Generated<number>;
  prepared: Generated<boolean>;
  created_by: string | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** 0 before the first start; each recurrence occurrence begins the next (0005). */
  cycle: Generated<number>;
  /** A recurring campaign between cycles: when the next one starts. */
  next_run_at: Timestamp | null;
  /** 0105: archived (out of the lists, its group unlinked; its attempts and reports stay). */
  archived_at: Timestamp | null;
  archived_by: string | null;
  /** 0070: after-call work of the campaign's agents, in seconds (0: straight back to available). */
  wrap_up_seconds: Generated<number>;
}

export interface DialerContactsTable {
  campaign_id: string;
  contact_id: number;
  phones: string[];
  state: Generated<DialerContactState>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  phone_idx: Generated<number>;
  ddd: string | null;
  attempts: Generated<number>;
  phone_attempts: ColumnType<number[], number[] | undefined, number[]>;
  dials: Generated<number>;
  last_outcome: string | null;
  final_outcome: string | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface DialAttemptsTable {
  id: Generated<number>;
  attempt_key: string;
  tenant_id: string;
  campaign_id: string;
  contact_id: number;
  dial_no: number;
  attempt_no: number;
  phone: string;
  strategy_version: number;
  state: Generated<'dialing' | 'done'>;
  outcome: string | null;
  cause: number | null;
  cause_txt: string | null;
  ring_ms: number | null;
  talk_ms: number | null;
  lost: Generated<boolean>;
  started_at: ColumnType<Date, Date | string | undefined, Date | string>;
  answered_at: Timestamp | null;
  ended_at: Timestamp | null;
  cycle: Generated<number>;
  /** AMDSTATUS of an answered call when the strategy asked for detection (MACHINE, HUMAN, NOTSURE, HANGUP). */
  amd_status: string | null;
  /** 0150: the agent the answered call was given to, and how that went (agent-connect.ts). */
  agent_id: string | null;
  agent_dialed_at: Timestamp | null;
  bridged_at: Timestamp | null;
  agent_wait_ms: number | null;
  agent_talk_ms: number | null;
  abandoned_at: Timestamp | null;
}

/** 0140: the live state of a campaign's pacer (src/db/pacing-live.ts). */
export interface DialerPacingLiveTable {
  campaign_id: string;
  tenant_id: string;
  mode: 'power' | 'progressive' | 'predictive';
  phase: string | null;
  /** Calls not yet connected to an agent per active agent, at the last grant. */
  dial_level: number | null;
  gain: number | null;
  recomputed_at: ColumnType<Date, Date | string, Date | string>;
  windows: ColumnType<unknown, string, string>;
  agents: ColumnType<unknown, string | null, string | null>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type DialStrategyRow = Selectable<DialStrategiesTable>;
export type DialerCampaignRow = Selectable<DialerCampaignsTable>;

// ---- Broadcast (0004)

export interface WhatsAppChannelsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  phone_number_id: string;
  waba_id: string;
  display_number: string;
  access_token_enc: string;
  app_secret_enc: string;
  verify_token: string;
  mps_limit: Generated<number>;
  /** 0006: unique users per rolling 24 h (Meta's messaging limit). */
  messaging_limit_tier: Generated<MessagingLimitTier>;
  templates_synced_at: Timestamp | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface WhatsAppTemplatesTable {
  channel_id: string;
  name: string;
  language: string;
  meta_id: string;
  status: string;
  category: string;
  quality: string | null;
  parameter_format: Generated<string>;
  components: JsonWithDefault<unknown[]>;
  placeholders: string[];
  synced_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface BroadcastCampaignsTable {
  id: Generated<string>;
  tenant_id: string;
  channel_id: string;
  name: string;
  name_key: string;
  description: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  /** 0105: archived (out of the lists, its groups unlinked; its sends and reports stay). */
  archived_at: Timestamp | null;
  archived_by: string | null;
}

export type SendStatus = 'scheduled' | 'running' | 'paused' | 'waiting' | 'completed' | 'stopped';
export type VariableSource = { column: string } | { text: string };

export interface BroadcastSendsTable {
  id: Generated<string>;
  tenant_id: string;
  campaign_id: string;
  channel_id: string;
  group_id: string;
  template_name: string;
  template_language: string;
  variables: JsonWithDefault<Record<string, VariableSource>>;
  start_at: Timestamp | null;
  sending_hours: Json<unknown> | null;
  pace_mps: number;
  gradual: Json<{ percent: number; everyMinutes: number }> | null;
  status: SendStatus;
  status_reason: string | null;
  state_version: Generated<number>;
  halt_action: 'pause' | 'stop' | null;
  halt_reason: string | null;
  total_contacts: Generated<number>;
  prepared: Generated<boolean>;
  created_by: string | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** 0006: until when a waiting send expects to go on. */
  status_until: Timestamp | null;
  /** 0100: what to do when a mapped column is empty for a contact (see domain/broadcast MissingVariables). */
  missing_variables: JsonWithDefault<MissingVariables>;
}

export type MessageState = 'pending' | 'sending' | 'accepted' | 'sent' | 'delivered' | 'read' | 'failed' | 'skipped' | 'unknown';

export interface BroadcastMessagesTable {
  id: Generated<number>;
  send_id: string;
  tenant_id: string;
  contact_id: number;
  seq: number;
  phone: string;
  phone_key: string;
  wa_id: string | null;
  state: MessageState;
  skip_reason: string | null;
  /** 0100: placeholders that had no value (the contact skipped, or sent their defaults). */
  missing_variables: string[] | null;
  attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  sending_since: Timestamp | null;
  wamid: string | null;
  message_status: string | null;
  error_code: number | null;
  error_title: string | null;
  error_details: string | null;
  accepted_at: Timestamp | null;
  sent_at: Timestamp | null;
  delivered_at: Timestamp | null;
  read_at: Timestamp | null;
  failed_at: Timestamp | null;
  unknown_at: Timestamp | null;
  skipped_at: Timestamp | null;
  created_at: CreatedAt;
}

/** What one write moved into (n > 0) or out of (n < 0) a key of the send monitor's counts (0200). Written by triggers. */
export interface BroadcastSendTalliesTable {
  id: Generated<number>;
  send_id: string;
  state: MessageState;
  error_code: number | null;
  error_title: string | null;
  skip_reason: string | null;
  missing: boolean;
  n: number;
  handed: Generated<number>;
  at: Generated<Timestamp>;
}

/** A pace as a sliding window (0009): the grants still in it, oldest first. */
export interface RateWindowsTable {
  key: string;
  max_count: number;
  window_ms: number;
  grant_times: ColumnType<string[], string[] | undefined, string[]>;
  grant_sizes: ColumnType<number[], number[] | undefined, number[]>;
}

// ---- Broadcast limits (0006)

export interface WhatsAppLimitUsersTable {
  channel_id: string;
  user_key: string;
  window_start: Timestamp;
  counted: boolean;
}

export interface WhatsAppLimitUsageTable {
  channel_id: string;
  used: Generated<number>;
}

export interface WhatsAppRecipientBlocksTable {
  channel_id: string;
  phone_key: string;
  until: Timestamp;
  reason: string;
  error_code: number | null;
  send_id: string | null;
  created_at: CreatedAt;
}

export interface WebhookEventsTable {
  id: Generated<number>;
  provider: Generated<string>;
  channel_id: string;
  tenant_id: string;
  payload: Json<unknown>;
  received_at: CreatedAt;
  applied_at: Timestamp | null;
  statuses: Generated<number>;
  error: string | null;
}

export interface WebhookOrphanStatusesTable {
  id: Generated<number>;
  tenant_id: string;
  /** The channel whose webhook brought it (null: stored before 0040). */
  channel_id: string | null;
  event: Json<unknown>;
  received_at: CreatedAt;
  tries: Generated<number>;
}

export type WhatsAppChannel = Selectable<WhatsAppChannelsTable>;
export type WhatsAppTemplateRow = Selectable<WhatsAppTemplatesTable>;
export type BroadcastCampaign = Selectable<BroadcastCampaignsTable>;
export type BroadcastSend = Selectable<BroadcastSendsTable>;

// ---- Interactions (0060)

export type InteractionChannel = 'voice' | 'whatsapp' | 'mercadolivre';
export type InteractionDirection = 'outbound' | 'inbound';
export type HandledByKind = 'agent' | 'rule' | 'system' | 'user';

/** One entry of an interaction's `events`: `key` makes a repeated write a no-op. */
export interface InteractionEvent {
  key: string;
  /** ISO 8601. */
  at: string;
  type: string;
  data?: Record<string, unknown>;
}

export interface InteractionsTable {
  id: Generated<number>;
  tenant_id: string;
  channel: InteractionChannel;
  direction: InteractionDirection;
  kind: string;
  source_key: string;
  phone: string | null;
  phone_key: string | null;
  company_contact_id: string | null;
  contact_id: number | null;
  ml_buyer_id: string | null;
  campaign_id: string | null;
  send_id: string | null;
  ml_account_id: string | null;
  started_at: Timestamp;
  ended_at: Timestamp | null;
  outcome: string | null;
  handled_by_kind: HandledByKind | null;
  handled_by_id: string | null;
  details: JsonWithDefault<Record<string, unknown>>;
  events: JsonWithDefault<InteractionEvent[]>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type InteractionRow = Selectable<InteractionsTable>;

/** The ARI event journal (migration 0030, src/recorder.ts). */
export interface AriEventsTable {
  id: Generated<string>;
  event_key: string;
  channel_id: string;
  type: string;
  at: ColumnType<Date, Date | string, Date | string>;
  received_at: ColumnType<Date, Date | string | undefined, Date | string>;
  payload: ColumnType<unknown, string, string>;
}

export interface AriRecordersTable {
  recorder_id: string;
  app: string;
  connected_since: ColumnType<Date | null, Date | string | null, Date | string | null>;
  journaled_until: ColumnType<Date, Date | string, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface Database extends MercadoLivreTables, AgentTables, IvrTables, SignInTables {
  tenants: TenantsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  exports: ExportsTable;
  export_chunks: ExportChunksTable;
  uploads: UploadsTable;
  upload_chunks: UploadChunksTable;
  contact_groups: ContactGroupsTable;
  contacts: ContactsTable;
  imports: ImportsTable;
  import_rejections: ImportRejectionsTable;
  company_contacts: CompanyContactsTable;
  phone_opt_outs: PhoneOptOutsTable;
  dial_strategies: DialStrategiesTable;
  dialer_campaigns: DialerCampaignsTable;
  dialer_contacts: DialerContactsTable;
  dial_attempts: DialAttemptsTable;
  dialer_pacing_live: DialerPacingLiveTable;
  whatsapp_channels: WhatsAppChannelsTable;
  whatsapp_templates: WhatsAppTemplatesTable;
  broadcast_campaigns: BroadcastCampaignsTable;
  broadcast_sends: BroadcastSendsTable;
  broadcast_messages: BroadcastMessagesTable;
  broadcast_send_tallies: BroadcastSendTalliesTable;
  rate_windows: RateWindowsTable;
  whatsapp_limit_users: WhatsAppLimitUsersTable;
  whatsapp_limit_usage: WhatsAppLimitUsageTable;
  whatsapp_recipient_blocks: WhatsAppRecipientBlocksTable;
  webhook_events: WebhookEventsTable;
  webhook_orphan_statuses: WebhookOrphanStatusesTable;
  interactions: InteractionsTable;
  ari_events: AriEventsTable;
  ari_recorders: AriRecordersTable;
}

export type ContactGroup = Selectable<ContactGroupsTable>;
export type Contact = Selectable<ContactsTable>;
export type ImportRow = Selectable<ImportsTable>;
export type CompanyContact = Selectable<CompanyContactsTable>;

export type Tenant = Selectable<TenantsTable>;
export type User = Selectable<UsersTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type NewAuditEntry = Insertable<AuditLogTable>;
export type ExportRow = Selectable<ExportsTable>;
