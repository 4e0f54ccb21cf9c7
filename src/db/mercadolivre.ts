import { sql, type Kysely, type Transaction } from 'kysely';
import type { MlTokenGrant } from '../integrations/mercadolivre/types';
import type { SellerToken } from '../integrations/mercadolivre/session';
import type { Database } from './schema';
import type { SecretBox } from './secrets';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * A seller's tokens at rest: sealed under SECRETS_KEY, with a generation that grows on every
 * refresh so a caller can say which token failed. Read through a short cache (a burst of
 * notifications of one seller reads them once).
 */
export function createMlTokenStore(db: Kysely<Database>, box: SecretBox, cacheMs = 2000) {
  const cache = new Map<string, { at: number; token: SellerToken }>();
  return {
    async current(accountId: string): Promise<SellerToken> {
      const hit = cache.get(accountId);
      if (hit && Date.now() - hit.at < cacheMs) return hit.token;
      const row = await db.selectFrom('ml_accounts').select(['access_token_enc', 'token_generation', 'status']).where('id', '=', accountId).executeTakeFirst();
      if (!row?.access_token_enc || row.status !== 'connected') throw new MlAccountUnavailableError(accountId, row?.status ?? 'missing');
      const token = { accessToken: box.open(row.access_token_enc), generation: row.token_generation };
      cache.set(accountId, { at: Date.now(), token });
      return token;
    },
    forget(accountId: string) {
      cache.delete(accountId);
    },
  };
}

export class MlAccountUnavailableError extends Error {
  constructor(
    public readonly accountId: string,
    public readonly status: string,
  ) {
    super(`Mercado Livre account ${accountId} is ${status}`);
    this.name = 'MlAccountUnavailableError';
  }
}

/** The sealed columns of a new token pair (the generation is bumped by the caller's SQL). */
export const sealGrant = (box: SecretBox, grant: MlTokenGrant) => ({
  access_token_enc: box.seal(grant.access_token),
  refresh_token_enc: box.seal(grant.refresh_token),
  token_expires_at: new Date(Date.now() + grant.expires_in * 1000),
});

export async function mlSettingsOf(db: Executor, tenantId: string) {
  const row = await db.selectFrom('ml_settings').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
  return {
    answerSlaMinutes: row?.answer_sla_minutes ?? 60,
    businessHours: (row?.business_hours ?? null) as never,
    outOfHoursAnswer: row?.out_of_hours_answer ?? null,
  };
}

/** The audit entry of something the system did (no user, no key). */
export async function auditSystem(
  db: Executor,
  entry: { tenantId: string; action: string; targetType: string; targetId: string; summary: string; details?: Record<string, unknown> },
) {
  await db
    .insertInto('audit_log')
    .values({
      tenant_id: entry.tenantId,
      actor_user_id: null,
      actor_key_id: null,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      summary: entry.summary,
      details: JSON.stringify({ actor: 'system', ...entry.details }),
      request_id: null,
    })
    .execute();
}

export interface NotificationRow {
  dedupKey: string;
  tenantId: string | null;
  accountId: string | null;
  topic: string;
  resource: string;
  userId: string;
  applicationId: string;
  attempts: number;
  source: 'webhook' | 'catch-up';
  ignoreReason?: string | null;
}

/**
 * Stores a notification once: a repeat of the same one (Mercado Livre's retries, a catch-up that
 * finds it again) only counts as a duplicate. Ignored ones (unknown application or seller) are
 * kept, never applied.
 */
export async function storeNotification(db: Executor, n: NotificationRow): Promise<void> {
  await sql`
    INSERT INTO ml_notifications (dedup_key, tenant_id, account_id, topic, resource, user_id, application_id, attempts, source, state, ignore_reason)
    VALUES (${n.dedupKey}, ${n.tenantId}, ${n.accountId}, ${n.topic}, ${n.resource}, ${n.userId}, ${n.applicationId}, ${n.attempts}, ${n.source},
      ${n.ignoreReason ? 'ignored' : 'pending'}, ${n.ignoreReason ?? null})
    ON CONFLICT ON CONSTRAINT ml_notifications_dedup_key DO UPDATE SET duplicates = ml_notifications.duplicates + 1,
      attempts = GREATEST(ml_notifications.attempts, EXCLUDED.attempts)`.execute(db);
}

/** Unread (buyer messages an agent has not opened) and the last message's time. */
export async function refreshConversationCounts(db: Executor, conversationId: string) {
  await sql`
    UPDATE ml_conversations c SET
      unread_count = (SELECT count(*) FROM ml_messages m WHERE m.conversation_id = c.id AND m.direction = 'buyer' AND m.read_at IS NULL),
      last_message_at = (SELECT max(sent_at) FROM ml_messages m WHERE m.conversation_id = c.id)
    WHERE c.id = ${conversationId}`.execute(db);
}
