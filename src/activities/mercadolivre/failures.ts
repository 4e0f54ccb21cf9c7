import { sql, type Kysely } from 'kysely';
import { MlAccountUnavailableError } from '../../db/mercadolivre';
import type { Database } from '../../db/schema';
import { throttleDelayMs } from '../../domain/mercadolivre';
import { MercadoLivreApiError, MercadoLivreTransportError } from '../../integrations/mercadolivre/client';
import { AccountNeedsAuthorizationError } from '../../integrations/mercadolivre/session';

export type Outcome = 'done' | 'retry' | 'throttled' | 'waiting_authorization';

export type Failure = { kind: 'final'; reason: string } | { kind: 'retry' | 'throttled' | 'waiting_authorization'; reason: string; delayMs: number };

/** How long a notification or answer waits for a seller who must authorize again before it is looked at. */
const REAUTH_WAIT_MS = 5 * 60_000;

/**
 * What a failed call means for the row that made it: 429 slows the whole account, 5xx and no
 * answer are retried with exponential backoff, an account that needs authorization waits for
 * it, 403/404/other 4xx are final.
 */
export function classifyFailure(error: unknown, attempt: number, maxAttempts: number): Failure {
  const backoff = Math.min(5 * 60_000, 500 * 2 ** Math.max(0, attempt - 1)) * (0.75 + Math.random() / 2);
  if (error instanceof AccountNeedsAuthorizationError || error instanceof MlAccountUnavailableError) {
    return { kind: 'waiting_authorization', reason: (error as Error).message, delayMs: REAUTH_WAIT_MS };
  }
  if (error instanceof MercadoLivreApiError) {
    if (error.status === 429) return { kind: 'throttled', reason: error.message, delayMs: backoff };
    if (!error.retryable) return { kind: 'final', reason: error.message };
  }
  const reason =
    error instanceof MercadoLivreTransportError || error instanceof MercadoLivreApiError ? error.message : String((error as Error)?.message ?? error);
  if (attempt >= maxAttempts) return { kind: 'final', reason: `gave up after ${attempt} tries: ${reason}` };
  return { kind: 'retry', reason, delayMs: backoff };
}

export const deferFor = (ms: number) => new Date(Date.now() + ms);

/** A 429 slows every call of this account: it waits until `throttled_until`, growing with each 429 in a row. */
export async function throttleAccount(db: Kysely<Database>, accountId: string): Promise<void> {
  const row = await db.selectFrom('ml_accounts').select('throttle_level').where('id', '=', accountId).executeTakeFirst();
  const level = (row?.throttle_level ?? 0) + 1;
  await db
    .updateTable('ml_accounts')
    .set({
      throttle_level: level,
      throttled_until: sql`GREATEST(COALESCE(throttled_until, now()), now() + ${`${throttleDelayMs(level)} milliseconds`}::interval)`,
    })
    .where('id', '=', accountId)
    .execute();
}

export async function clearThrottle(db: Kysely<Database>, accountId: string): Promise<void> {
  await db.updateTable('ml_accounts').set({ throttle_level: 0, throttled_until: null }).where('id', '=', accountId).where('throttle_level', '>', 0).execute();
}
