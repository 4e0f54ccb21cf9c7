import { sql } from 'kysely';
import { eventSql, phoneKeySql, upsertInteractionsFrom, type RecordedInteraction } from './interactions';
import type { Database } from './schema';
import type { Kysely, RawBuilder, Transaction } from 'kysely';

/**
 * The interactions of the dialer and of broadcast, projected in SQL from the rows their own
 * transactions just wrote (so the interaction can never say something the source row does not).
 * Each is one INSERT … SELECT per batch; the upsert's merge rules make a repeat harmless.
 */

type Executor = Kysely<Database> | Transaction<Database>;

/** Finished call attempts (by attempt key): one `voice` interaction each, with its ring/answer/end events. */
export async function recordCallInteractions(trx: Executor, attemptKeys: string[]): Promise<RecordedInteraction[]> {
  if (attemptKeys.length === 0) return [];
  const phone = sql.ref('a.phone');
  return upsertInteractionsFrom(
    trx,
    sql`SELECT a.tenant_id, 'voice', 'outbound', 'call', a.attempt_key, a.phone, ${phoneKeySql(phone)}, ct.company_contact_id, a.contact_id,
          NULL, a.campaign_id, NULL, NULL, a.started_at, a.ended_at, a.outcome, 'system', NULL,
          jsonb_strip_nulls(jsonb_build_object('attemptNo', a.attempt_no, 'dialNo', a.dial_no, 'cycle', a.cycle, 'cause', a.cause,
            'causeTxt', a.cause_txt, 'ringMs', a.ring_ms, 'talkMs', a.talk_ms, 'amdStatus', a.amd_status, 'lost', a.lost,
            'strategyVersion', a.strategy_version, 'campaignName', c.name, 'contactName', ct.name)),
          ${eventSql('dialing', sql`a.started_at`)} || ${eventSql('answered', sql`a.answered_at`)}
            || ${eventSql('amd', sql`CASE WHEN a.amd_status IS NOT NULL THEN a.answered_at END`, sql`jsonb_build_object('status', a.amd_status)`)}
            || ${eventSql('ended', sql`a.ended_at`, sql`jsonb_build_object('outcome', a.outcome, 'cause', a.cause, 'causeTxt', a.cause_txt)`)}
        FROM dial_attempts a
        JOIN dialer_campaigns c ON c.id = a.campaign_id
        LEFT JOIN contacts ct ON ct.id = a.contact_id
        WHERE a.attempt_key = ANY(${attemptKeys}::text[]) AND a.state = 'done'
        ORDER BY a.attempt_key`,
  );
}

/**
 * WhatsApp template messages (by message id) that reached the API or beyond: one `whatsapp`
 * interaction each (source key = the message key `bm:<send>:<contact>`), its outcome the message's
 * state, an event per status with its first time. Messages still pending/sending or skipped are
 * not touches and are left out.
 */
export async function recordMessageInteractions(trx: Executor, messageIds: number[]): Promise<RecordedInteraction[]> {
  if (messageIds.length === 0) return [];
  return upsertInteractionsFrom(trx, messageInteractionsOf(sql`(SELECT * FROM broadcast_messages WHERE id = ANY(${messageIds}::bigint[]))`));
}

/**
 * The same, for the message rows a data-modifying CTE of the statement returned (`RETURNING m.*`):
 * `withClause` defines it, `rows` names it. A CTE's rows are the rows as written, which a read of
 * the table in the same statement would not see yet.
 */
export function recordWrittenMessageInteractions(trx: Executor, withClause: RawBuilder<unknown>, rows: RawBuilder<unknown>): Promise<RecordedInteraction[]> {
  return upsertInteractionsFrom(trx, messageInteractionsOf(rows), withClause);
}

/** The interaction columns projected from message rows `rows` (a relation with broadcast_messages' columns). */
function messageInteractionsOf(rows: RawBuilder<unknown>) {
  const error = sql`jsonb_build_object('code', m.error_code, 'title', m.error_title, 'details', m.error_details)`;
  return sql`SELECT m.tenant_id, 'whatsapp', 'outbound', 'template_message', 'bm:' || m.send_id || ':' || m.contact_id, m.phone, m.phone_key,
          ct.company_contact_id, m.contact_id, NULL, s.campaign_id, s.id, NULL,
          COALESCE(m.sending_since, m.accepted_at, m.sent_at, m.failed_at, m.unknown_at, m.created_at),
          CASE WHEN m.state IN ('read', 'failed') THEN COALESCE(m.read_at, m.failed_at) END, m.state, 'system', NULL,
          jsonb_strip_nulls(jsonb_build_object('template', s.template_name, 'language', s.template_language, 'wamid', m.wamid,
            'waId', m.wa_id, 'errorCode', m.error_code, 'errorTitle', m.error_title, 'attempts', m.attempts, 'campaignName', bc.name,
            'contactName', ct.name)),
          ${eventSql('accepted', sql`m.accepted_at`)} || ${eventSql('sent', sql`m.sent_at`)} || ${eventSql('delivered', sql`m.delivered_at`)}
            || ${eventSql('read', sql`m.read_at`)} || ${eventSql('failed', sql`m.failed_at`, error)} || ${eventSql('unknown', sql`m.unknown_at`)}
        FROM ${rows} m
        JOIN broadcast_sends s ON s.id = m.send_id
        JOIN broadcast_campaigns bc ON bc.id = s.campaign_id
        LEFT JOIN contacts ct ON ct.id = m.contact_id
        WHERE m.state IN ('accepted', 'sent', 'delivered', 'read', 'failed', 'unknown')
        ORDER BY m.id`;
}
