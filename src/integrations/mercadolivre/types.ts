/** Mercado Livre's shapes as the API answers them (only the fields we read). */

export interface MlTokenGrant {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
  user_id: number;
  refresh_token: string;
}

export type MlQuestionStatus = 'UNANSWERED' | 'ANSWERED' | 'CLOSED_UNANSWERED' | 'UNDER_REVIEW' | 'BANNED' | 'DELETED';

export interface MlQuestion {
  id: number;
  item_id: string;
  seller_id: number;
  status: MlQuestionStatus;
  text: string;
  date_created: string;
  hold?: boolean;
  deleted_from_listing?: boolean;
  suspected_spam?: boolean;
  from: { id: number };
  answer: null | { text: string; status: string; date_created: string };
}

export interface MlMessage {
  id: string;
  from: { user_id: number | string };
  to: { user_id: number | string };
  text: string;
  attachments?: unknown[];
  date_created: string;
  date_read?: string | null;
  status?: string;
  moderation?: { status?: string; reason?: string };
  message_resources?: { id: string; name: string }[];
}

export interface MlPackMessages {
  paging: { limit: number; offset: number; total: number };
  conversation_status: { status: 'active' | 'blocked'; substatus: string | null; status_date?: string };
  messages: MlMessage[];
}

export interface MlActionOption {
  id: string;
  enabled: boolean;
  type: string;
  templates: { id: string }[] | null;
  char_limit?: number;
  cap_available: number;
}

export interface MlActionGuide {
  options: MlActionOption[];
}

export interface MlOrder {
  id: number;
  pack_id: number | null;
  buyer: { id: number };
  seller: { id: number };
}

/** A notification: a pointer to a resource, never the data. */
export interface MlNotification {
  _id?: string;
  resource: string;
  user_id: number | string;
  topic: string;
  application_id: number | string;
  attempts?: number;
  sent?: string;
  received?: string;
}
