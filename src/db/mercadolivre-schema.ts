import type { ColumnType, Generated, Selectable } from 'kysely';

/** Kysely types of the Mercado Livre tables (migration 0050). */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string | undefined, string>;

export type MlAccountStatus = 'connected' | 'needs_reauthorization' | 'disconnected';
export type MlQuestionStatus = 'UNANSWERED' | 'ANSWERED' | 'CLOSED_UNANSWERED' | 'UNDER_REVIEW' | 'BANNED' | 'DELETED';

export interface MlAccountsTable {
  id: Generated<string>;
  tenant_id: string;
  seller_id: ColumnType<string, string | number, string | number>;
  nickname: string;
  status: MlAccountStatus;
  access_token_enc: string | null;
  refresh_token_enc: string | null;
  token_expires_at: NullableStamp;
  token_generation: Generated<number>;
  refresh_count: Generated<number>;
  last_refresh_at: NullableStamp;
  last_notification_at: NullableStamp;
  throttled_until: NullableStamp;
  throttle_level: Generated<number>;
  status_reason: string | null;
  connected_by: string | null;
  connected_at: Stamp;
  created_at: CreatedAt;
  updated_at: Stamp;
}

export interface MlOauthStatesTable {
  state: string;
  tenant_id: string;
  user_id: string | null;
  key_id: string | null;
  expires_at: Stamp;
  used_at: NullableStamp;
  created_at: CreatedAt;
}

export interface MlSettingsTable {
  tenant_id: string;
  answer_sla_minutes: Generated<number>;
  business_hours: ColumnType<unknown | null, string | null | undefined, string | null>;
  out_of_hours_answer: string | null;
  updated_at: Stamp;
}

export interface MlAutoRulesTable {
  id: Generated<string>;
  tenant_id: string;
  account_id: string | null;
  name: string;
  keywords: ColumnType<string[], string[] | undefined, string[]>;
  item_id: string | null;
  answer_text: string;
  priority: Generated<number>;
  enabled: Generated<boolean>;
  created_at: CreatedAt;
}

export type MlNotificationState = 'pending' | 'applied' | 'ignored' | 'failed';

export interface MlNotificationsTable {
  id: Generated<string>;
  dedup_key: string;
  tenant_id: string | null;
  account_id: string | null;
  topic: string;
  resource: string;
  user_id: string;
  application_id: string;
  attempts: Generated<number>;
  source: Generated<string>;
  state: MlNotificationState;
  ignore_reason: string | null;
  duplicates: Generated<number>;
  tries: Generated<number>;
  next_attempt_at: Stamp;
  claimed_until: NullableStamp;
  last_error: string | null;
  received_at: Stamp;
  applied_at: NullableStamp;
}

export interface MlQuestionsTable {
  id: Generated<string>;
  tenant_id: string;
  account_id: string;
  ml_question_id: ColumnType<string, string | number, string | number>;
  item_id: string;
  item_title: string | null;
  buyer_id: ColumnType<string, string | number, string | number>;
  text: string;
  status: MlQuestionStatus;
  asked_at: Stamp;
  sla_deadline: Stamp;
  sla_breached_at: NullableStamp;
  answer_text: string | null;
  answer_status: string | null;
  answered_at: NullableStamp;
  answered_via: 'agent' | 'auto' | 'mercadolivre' | null;
  hold: Generated<boolean>;
  suspected_spam: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: Stamp;
}

export interface MlAnswersTable {
  id: Generated<string>;
  tenant_id: string;
  question_id: string;
  text: string;
  source: 'agent' | 'auto';
  rule_id: string | null;
  requested_by_user: string | null;
  requested_by_key: string | null;
  state: 'pending' | 'sent' | 'failed';
  attempts: Generated<number>;
  last_error: string | null;
  next_attempt_at: Stamp;
  claimed_until: NullableStamp;
  sent_at: NullableStamp;
  created_at: CreatedAt;
}

export interface MlConversationsTable {
  id: Generated<string>;
  tenant_id: string;
  account_id: string;
  pack_id: string;
  buyer_id: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  status: Generated<'active' | 'blocked'>;
  substatus: string | null;
  unread_count: Generated<number>;
  last_message_at: NullableStamp;
  created_at: CreatedAt;
  updated_at: Stamp;
}

export interface MlMessagesTable {
  id: Generated<string>;
  tenant_id: string;
  conversation_id: string;
  ml_message_id: string | null;
  client_key: string | null;
  direction: 'buyer' | 'seller';
  text: string;
  option_id: string | null;
  state: Generated<'sending' | 'sent' | 'failed'>;
  moderation_status: string | null;
  moderation_reason: string | null;
  attachments: Json<unknown[]>;
  sent_by: string | null;
  sent_at: Stamp;
  read_at: NullableStamp;
  created_at: CreatedAt;
}

export interface MercadoLivreTables {
  ml_accounts: MlAccountsTable;
  ml_oauth_states: MlOauthStatesTable;
  ml_settings: MlSettingsTable;
  ml_auto_rules: MlAutoRulesTable;
  ml_notifications: MlNotificationsTable;
  ml_questions: MlQuestionsTable;
  ml_answers: MlAnswersTable;
  ml_conversations: MlConversationsTable;
  ml_messages: MlMessagesTable;
}

export type MlAccount = Selectable<MlAccountsTable>;
export type MlQuestion = Selectable<MlQuestionsTable>;
export type MlConversation = Selectable<MlConversationsTable>;
export type MlMessageRow = Selectable<MlMessagesTable>;
