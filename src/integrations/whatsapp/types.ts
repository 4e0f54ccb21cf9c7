/** Shapes of the WhatsApp Cloud API (Graph API) that we send and read. */

export type TemplateStatus = 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED' | 'IN_APPEAL' | 'PENDING_DELETION' | 'DELETED' | 'LIMIT_EXCEEDED';

export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';

export type ParameterFormat = 'POSITIONAL' | 'NAMED';

/** One component as `GET /{waba-id}/message_templates` returns it (HEADER, BODY, FOOTER, BUTTONS). */
export interface TemplateComponent {
  type: string;
  format?: string;
  text?: string;
  example?: Record<string, unknown>;
  buttons?: unknown[];
  [key: string]: unknown;
}

export interface WhatsAppTemplate {
  id: string;
  name: string;
  /** Locale code, e.g. `pt_BR`. */
  language: string;
  status: TemplateStatus | string;
  category: TemplateCategory | string;
  /** e.g. `{ score: 'GREEN', date: 1717000000 }`; absent while unknown. */
  quality_score?: { score: string; date?: number; reasons?: string[] | null };
  components: TemplateComponent[];
  /** Absent means POSITIONAL (`{{1}}`, `{{2}}`…). */
  parameter_format?: ParameterFormat;
}

/** Graph API cursor paging. */
export interface Paging {
  cursors?: { before?: string; after?: string };
  next?: string;
  previous?: string;
}

/** Body parameters: positional values in order, or values by placeholder name (NAMED templates). */
export type BodyParameters = readonly string[] | Readonly<Record<string, string>>;

export interface SendTemplateRequest {
  phoneNumberId: string;
  /** Digits with country code, e.g. `5548998288774`. */
  to: string;
  templateName: string;
  /** e.g. `pt_BR`. */
  language: string;
  bodyParameters?: BodyParameters;
  /** Our business key, echoed in every status webhook of this message (≤ 512 characters). */
  bizOpaqueCallbackData?: string;
}

/** `accepted` normally; `held_for_quality_assessment` when Meta holds a marketing message. */
export type SendMessageStatus = 'accepted' | 'held_for_quality_assessment' | string;

export interface SendAccepted {
  ok: true;
  wamid: string;
  /** May differ from the number sent to (Brazil: without the ninth digit). */
  waId: string;
  messageStatus: SendMessageStatus;
}

export interface SendRefused {
  ok: false;
  httpStatus: number;
  code: number;
  /** The error's title: its message without the `(#CODE) ` prefix. */
  title: string;
  /** The error body's message as sent, e.g. `(#130429) Rate limit hit`. */
  message: string;
  details?: string;
  type?: string;
  fbtraceId?: string;
}

export type SendTemplateResult = SendAccepted | SendRefused;

/** The error body of any failed Graph API call. */
export interface GraphErrorBody {
  error: {
    message: string;
    type?: string;
    code: number;
    error_subcode?: number;
    error_user_title?: string;
    error_user_msg?: string;
    error_data?: { messaging_product?: string; details?: string };
    fbtrace_id?: string;
  };
}
