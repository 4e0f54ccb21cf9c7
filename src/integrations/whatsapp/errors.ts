import type { GraphErrorBody } from './types';

export type TransportFailure = 'timeout' | 'network' | 'bad_response';

/** Socket errors raised before any byte of the request left: the message certainly was not sent. */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * No usable answer from the Cloud API: a timeout, a dropped connection, or a body that is not
 * the Graph API's. Always retryable, but for a send `maybeSent` says whether Meta may have
 * accepted the message anyway, in which case the caller settles it from the status webhook
 * (our `biz_opaque_callback_data`) instead of sending again.
 */
export class WhatsAppTransportError extends Error {
  override readonly name = 'WhatsAppTransportError';
  readonly retryable = true;

  constructor(
    message: string,
    readonly failure: TransportFailure,
    readonly maybeSent: boolean,
    /** Socket error code (ECONNRESET, …) or HTTP status of an unreadable answer. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static from(operation: string, error: unknown): WhatsAppTransportError {
    const name = (error as { name?: string } | undefined)?.name;
    const code = socketCode(error);
    if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new WhatsAppTransportError(`WhatsApp ${operation} timed out`, 'timeout', true, code ?? 'TIMEOUT', { cause: error });
    }
    const text = code ?? (error as Error)?.message ?? String(error);
    const maybeSent = code === undefined || !notSentCodes.has(code);
    return new WhatsAppTransportError(`WhatsApp ${operation} failed: ${text}`, 'network', maybeSent, code, { cause: error });
  }
}

/** A Graph API error body for a call other than a send (sends return it as a value instead). */
export class WhatsAppApiError extends Error {
  override readonly name = 'WhatsAppApiError';

  constructor(
    readonly operation: string,
    readonly httpStatus: number,
    readonly body: GraphErrorBody['error'],
  ) {
    super(`WhatsApp ${operation} failed: HTTP ${httpStatus} ${body.message}`);
  }

  get code(): number {
    return this.body.code;
  }
}

/** undici nests socket errors: `TypeError('fetch failed', { cause: { code } })`. */
function socketCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
