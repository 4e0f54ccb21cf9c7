import { WhatsAppApiError, WhatsAppTransportError } from './errors';
import { createTransport, type FetchLike, type PoolOptions } from './http';
import { bodyComponents } from './templates';
import type { GraphErrorBody, Paging, SendRefused, SendTemplateRequest, SendTemplateResult, WhatsAppTemplate } from './types';

export { templatePlaceholders } from './templates';
export { WhatsAppApiError, WhatsAppTransportError } from './errors';

export interface WhatsAppClientOptions extends PoolOptions {
  /** `https://graph.facebook.com`, or the simulator's URL. */
  baseUrl: string;
  /** Graph API version in the path. */
  version?: string;
  /** System-user access token of the channel. */
  accessToken: string;
  fetch?: FetchLike;
  /** Per request. A timed-out send may still have been accepted: see WhatsAppTransportError. */
  requestTimeoutMs?: number;
}

export interface ListTemplatesRequest {
  wabaId: string;
  /** Start after this cursor instead of the first page. */
  after?: string;
  /** Page size asked of the API. */
  limit?: number;
}

export interface WhatsAppClient {
  /** Never throws for a Graph error body (it is returned); throws WhatsAppTransportError otherwise. */
  sendTemplate(request: SendTemplateRequest): Promise<SendTemplateResult>;
  /** Every template of the WABA, following the cursors to the last page. */
  listTemplates(request: ListTemplatesRequest): Promise<WhatsAppTemplate[]>;
  /** The business numbers of the WABA that the token can read (`GET /{waba-id}/phone_numbers`, all pages). */
  listPhoneNumbers(request: { wabaId: string }): Promise<BusinessPhoneNumber[]>;
  close(): Promise<void>;
}

export interface BusinessPhoneNumber {
  id: string;
  displayPhoneNumber: string;
  verifiedName?: string;
}

export const DEFAULT_GRAPH_VERSION = 'v21.0';
const templateFields = 'id,name,language,status,category,quality_score,components,parameter_format';
const phoneNumberFields = 'id,display_phone_number,verified_name';

export function createWhatsAppClient(options: WhatsAppClientOptions): WhatsAppClient {
  const root = `${options.baseUrl.replace(/\/+$/, '')}/${options.version ?? DEFAULT_GRAPH_VERSION}`;
  const transport = createTransport(options.fetch, options);
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const authorization = `Bearer ${options.accessToken}`;

  async function call(operation: string, method: 'GET' | 'POST', url: string, json?: unknown) {
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    if (json !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await transport.send(url, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        timeoutMs,
      });
      return { status: response.status, body: parseJson(await response.text()) };
    } catch (error) {
      throw WhatsAppTransportError.from(operation, error);
    }
  }

  async function sendTemplate(request: SendTemplateRequest): Promise<SendTemplateResult> {
    const url = `${root}/${encodeURIComponent(request.phoneNumberId)}/messages`;
    const { status, body } = await call('send', 'POST', url, {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: request.to,
      type: 'template',
      template: {
        name: request.templateName,
        language: { policy: 'deterministic', code: request.language },
        components: bodyComponents(request.bodyParameters),
      },
      biz_opaque_callback_data: request.bizOpaqueCallbackData,
    });
    const accepted = acceptedMessage(body);
    if (status === 200 && accepted) return accepted;
    const error = graphError(body);
    if (error) return refusal(status, error);
    // An answer we cannot read: a 200 or a 5xx may hide an accepted message, a 4xx does not.
    throw new WhatsAppTransportError(`WhatsApp send: unreadable answer (HTTP ${status})`, 'bad_response', status === 200 || status >= 500, String(status));
  }

  /** Every item of a Graph edge, following the cursors to the last page. */
  async function listAll(operation: string, path: string, fields: string, limit: number, first?: string): Promise<unknown[]> {
    const items: unknown[] = [];
    const seen = new Set<string>();
    let after = first;
    for (;;) {
      const url = new URL(`${root}/${path}`);
      url.searchParams.set('fields', fields);
      url.searchParams.set('limit', String(limit));
      if (after) url.searchParams.set('after', after);
      const { status, body } = await call(operation, 'GET', url.toString());
      const error = graphError(body);
      if (status !== 200 || error) {
        if (error) throw new WhatsAppApiError(operation, status, error);
        throw new WhatsAppTransportError(`WhatsApp ${operation}: unreadable answer (HTTP ${status})`, 'bad_response', false, String(status));
      }
      const page = body as { data?: unknown[]; paging?: Paging };
      items.push(...(page.data ?? []));
      // Graph omits `next` on the last page; the repeat guard protects against a looping cursor.
      after = page.paging?.next ? page.paging.cursors?.after : undefined;
      if (!after || seen.has(after)) return items;
      seen.add(after);
    }
  }

  async function listTemplates(request: ListTemplatesRequest): Promise<WhatsAppTemplate[]> {
    const items = await listAll(
      'list templates',
      `${encodeURIComponent(request.wabaId)}/message_templates`,
      templateFields,
      request.limit ?? 100,
      request.after,
    );
    return items.map(normalizeTemplate);
  }

  async function listPhoneNumbers(request: { wabaId: string }): Promise<BusinessPhoneNumber[]> {
    const items = await listAll('list phone numbers', `${encodeURIComponent(request.wabaId)}/phone_numbers`, phoneNumberFields, 100);
    return items.map((item) => {
      const n = item as Record<string, unknown>;
      return {
        id: String(n.id ?? ''),
        displayPhoneNumber: String(n.display_phone_number ?? ''),
        verifiedName: typeof n.verified_name === 'string' ? n.verified_name : undefined,
      };
    });
  }

  return { sendTemplate, listTemplates, listPhoneNumbers, close: () => transport.close() };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function acceptedMessage(body: unknown): SendTemplateResult | undefined {
  const success = body as { contacts?: { input?: string; wa_id?: string }[]; messages?: { id?: string; message_status?: string }[] };
  const message = success?.messages?.[0];
  if (typeof message?.id !== 'string') return undefined;
  return {
    ok: true,
    wamid: message.id,
    waId: success.contacts?.[0]?.wa_id ?? success.contacts?.[0]?.input ?? '',
    messageStatus: message.message_status ?? 'accepted',
  };
}

function graphError(body: unknown): GraphErrorBody['error'] | undefined {
  const error = (body as Partial<GraphErrorBody> | undefined)?.error;
  return error && typeof error.code === 'number' ? error : undefined;
}

function refusal(httpStatus: number, error: GraphErrorBody['error']): SendRefused {
  const message = String(error.message ?? '');
  return {
    ok: false,
    httpStatus,
    code: error.code,
    title: error.error_user_title ?? message.replace(/^\(#\d+\)\s*/, ''),
    message,
    details: error.error_data?.details,
    type: error.type,
    fbtraceId: error.fbtrace_id,
  };
}

function normalizeTemplate(item: unknown): WhatsAppTemplate {
  const raw = item as Partial<WhatsAppTemplate> & { id?: string | number };
  return {
    id: String(raw.id ?? ''),
    name: String(raw.name ?? ''),
    language: String(raw.language ?? ''),
    status: String(raw.status ?? ''),
    category: String(raw.category ?? ''),
    quality_score: raw.quality_score,
    components: Array.isArray(raw.components) ? raw.components : [],
    parameter_format: raw.parameter_format,
  };
}
