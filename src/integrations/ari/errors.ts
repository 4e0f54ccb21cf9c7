/**
 * A failed ARI call. `retryable` tells the caller (a Temporal activity) whether trying again can
 * help: server errors, refused or reset connections and timeouts can; a 400/401/404 cannot.
 */
export class AriError extends Error {
  override readonly name = 'AriError';

  constructor(
    message: string,
    /** HTTP status, or undefined when no response arrived. */
    readonly status: number | undefined,
    readonly retryable: boolean,
    /** Network error code (ECONNREFUSED, ECONNRESET, TIMEOUT, …) when there was no response. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static fromStatus(operation: string, status: number, body: string): AriError {
    const detail = messageOf(body);
    const retryable = status >= 500 || status === 408 || status === 429;
    return new AriError(`ARI ${operation} failed: HTTP ${status}${detail ? ` ${detail}` : ''}`, status, retryable);
  }

  static fromNetwork(operation: string, error: unknown): AriError {
    const name = (error as { name?: string } | undefined)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new AriError(`ARI ${operation} timed out`, undefined, true, 'TIMEOUT', { cause: error });
    }
    const code = networkCode(error);
    // Without a network code the failure is ours (bad URL, bad argument): retrying will not help.
    return new AriError(`ARI ${operation} failed: ${code ?? (error as Error)?.message ?? String(error)}`, undefined, code !== undefined, code, {
      cause: error,
    });
  }
}

/** ARI error bodies look like `{"message": "Channel not found"}`. */
function messageOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return body.trim().slice(0, 200) || undefined;
  }
}

/** undici wraps socket errors: `TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })`. */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
