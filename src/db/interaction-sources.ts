import { sql } from 'kysely';
import { agentNameSql } from './agents';
import { eventSql, phoneKeySql, upsertInteractionsFrom, type RecordedInteraction } from './interactions';
import type { Database } from './schema';
import type { Kysely, RawBuilder, Transaction } from 'kysely';

/**
 * The interactions of the dialer and of broadcast, projected in SQL from the rows their own
 * transactions just wrote (so the interaction can never say something the source row does not).
 * Each is one INSERT … SELECT per batch; the upsert's merge rules make a repeat harmless.
 */

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * A call's time in an IVR flow (issue 13), for its interaction: flow and version, the nodes in order,
 * the keys pressed, the node it ended on and how it left it (once the flow is over), disposition,
 * opt-out and transfer. NULL (left out) for a call that ran no flow.
 */
const ivrDetails = sql`CASE WHEN ivr.attempt_key IS NOT NULL THEN jsonb_build_object('flowId', ivr.flow_id, 'flowName', ivr_flow.name,
  'flowVersion', ivr.flow_version, 'keys', ivr.keys, 'finalNode', ivr.current_node, 'disposition', ivr.disposition, 'optedOut', ivr.opted_out,
  'transferredTo', ivr.transferred_to, 'path', (SELECT jsonb_agg(s.node ORDER BY s.seq) FROM ivr_path_steps s WHERE s.attempt_key = ivr.attempt_key),
  'exit', CASE WHEN ivr.ended_at IS NOT NULL THEN (SELECT s.exit FROM ivr_path_steps s WHERE s.attempt_key = ivr.attempt_key ORDER BY s.seq DESC LIMIT 1) END) END`;

/** Finished call attempts (by attempt key): one `voice` interaction each, with its ring/answer/end events. */
export async function recordCallInteractions(trx: Executor, attemptKeys: string[]): Promise<RecordedInteraction[]> {
  if (attemptKeys.length === 0) return [];
  return upsertInteractionsFrom(trx, callInteractionsOf(sql`dial_attempts`, attemptKeys));
}

/**
 * The same, in the statement that finishes the attempts: `withClause` defines the data-modifying
 * CTE `written` (`UPDATE dial_attempts … RETURNING a.*`), whose rows are the attempts as written
 * (a read of the table in the same statement sees them as they were). Attempts among `attemptKeys`
 * already done before the statement are projected again from the table, as
 * {@link recordCallInteractions} does after its own update.
 */
export function recordWrittenCallInteractions(trx: Executor, withClause: RawBuilder<unknown>, written: RawBuilder<unknown>, attemptKeys: string[]) {
  const rows = sql`(SELECT * FROM ${written} UNION ALL SELECT * FROM dial_attempts WHERE attempt_key = ANY(${attemptKeys}::text[]) AND state = 'done')`;
  return upsertInteractionsFrom(trx, callInteractionsOf(rows, attemptKeys), withClause);
}

/** The interaction columns projected from the done attempts among `attemptKeys` in `rows` (dial_attempts' columns). */
function callInteractionsOf(rows: RawBuilder<unknown>, attemptKeys: string[]) {
  const phone = sql.ref('a.phone');
  return sql`SELECT a.tenant_id, 'voice', 'outbound', 'call', a.attempt_key, a.phone, ${phoneKeySql(phone)}, ct.company_contact_id, a.contact_id,
          NULL, a.campaign_id, NULL, NULL, a.started_at, a.ended_at, a.outcome,
          -- The agent the customer was bridged to handled the call (agent-connect.ts); otherwise the dialer alone.
          CASE WHEN a.agent_id IS NOT NULL THEN 'agent' ELSE 'system' END, a.agent_id::text,
          jsonb_strip_nulls(jsonb_build_object('attemptNo', a.attempt_no, 'dialNo', a.dial_no, 'cycle', a.cycle, 'cause', a.cause,
            'causeTxt', a.cause_txt, 'ringMs', a.ring_ms, 'talkMs', a.talk_ms, 'amdStatus', a.amd_status, 'lost', a.lost,
            'strategyVersion', a.strategy_version, 'campaignName', c.name, 'contactName', ct.name, 'ivr', ${ivrDetails},
            'agentId', a.agent_id, 'agentName', ${agentNameSql('au')}, 'agentWaitMs', a.agent_wait_ms, 'agentTalkMs', a.agent_talk_ms)),
          ${eventSql('dialing', sql`a.started_at`)} || ${eventSql('answered', sql`a.answered_at`)}
            || ${eventSql('amd', sql`CASE WHEN a.amd_status IS NOT NULL THEN a.answered_at END`, sql`jsonb_build_object('status', a.amd_status)`)}
            || ${eventSql('bridged', sql`a.bridged_at`, sql`jsonb_build_object('agentId', a.agent_id)`)}
            || ${eventSql('ended', sql`a.ended_at`, sql`jsonb_build_object('outcome', a.outcome, 'cause', a.cause, 'causeTxt', a.cause_txt)`)}
        FROM ${rows} a
        JOIN dialer_campaigns c ON c.id = a.campaign_id
        LEFT JOIN contacts ct ON ct.id = a.contact_id
        LEFT JOIN ivr_calls ivr ON ivr.attempt_key = a.attempt_key
        LEFT JOIN ivr_flows ivr_flow ON ivr_flow.id = ivr.flow_id
        LEFT JOIN agents ag ON ag.id = a.agent_id
        LEFT JOIN users au ON au.id = ag.user_id
        WHERE a.attempt_key = ANY(${attemptKeys}::text[]) AND a.state = 'done'
        ORDER BY a.attempt_key`;
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
