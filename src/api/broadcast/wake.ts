import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import { withoutNinthDigit } from '../../domain/phone';
import { sendWorkflowId, wakeSendSignal } from '../../workflows/broadcast/messages';

/**
 * Wakes every unfinished send of a channel after a change that may free it (a higher messaging
 * tier, a new throughput limit): a send waiting for capacity looks again now, not when its timer
 * ends (up to 24 h). Answers the ids woken; a send that cannot be signalled is logged, and still
 * wakes at the end of its own wait.
 */
export async function wakeChannelSends(
  deps: { temporal: Client; db: Kysely<Database>; log: FastifyBaseLogger },
  channelId: string,
  reason: string,
): Promise<string[]> {
  const sends = await deps.db
    .selectFrom('broadcast_sends')
    .select('id')
    .where('channel_id', '=', channelId)
    .where('status', 'in', ['running', 'waiting'])
    .execute();
  return wakeSends(
    deps,
    sends.map((s) => s.id),
    reason,
  );
}

/** Signals `wake` to each send; answers the ids woken (one that cannot be signalled is logged, and looks again when its own wait ends). */
export async function wakeSends(deps: { temporal: Client; log: FastifyBaseLogger }, sendIds: string[], reason: string): Promise<string[]> {
  const woken: string[] = [];
  for (const id of sendIds) {
    try {
      await deps.temporal.workflow.getHandle(sendWorkflowId(id)).signal(wakeSendSignal, { reason });
      woken.push(id);
    } catch (error) {
      deps.log.warn({ err: error, sendId: id }, 'could not wake a send; it looks again when its wait ends');
    }
  }
  return woken;
}

/**
 * An opt-out lifted (a company contact's WhatsApp flag cleared, or its phones changed): the
 * messages of unfinished sends skipped only for it (reason `opt_out`, the number not opted out by
 * any other source) go back to `pending`, in the caller's transaction. Answers the sends to wake
 * once it commits, so they send them now rather than never.
 */
export async function reofferLiftedOptOuts(trx: Kysely<Database>, tenantId: string, phones: string[]): Promise<string[]> {
  if (phones.length === 0) return [];
  const keys = [...new Set(phones.flatMap((p) => [p, withoutNinthDigit(p)]))];
  const { rows } = await sql<{ send_id: string }>`
    UPDATE broadcast_messages m SET state = 'pending', skip_reason = NULL, skipped_at = NULL, next_attempt_at = NULL
    FROM broadcast_sends s
    WHERE s.id = m.send_id AND s.tenant_id = ${tenantId} AND s.status IN ('scheduled', 'running', 'paused', 'waiting')
      AND m.tenant_id = ${tenantId} AND m.phone_key = ANY(${keys}::text[]) AND m.state = 'skipped' AND m.skip_reason = 'opt_out'
      AND NOT EXISTS (SELECT 1 FROM phone_opt_outs o WHERE o.tenant_id = ${tenantId} AND o.channel = 'whatsapp' AND o.phone IN (m.phone, m.phone_key))
      AND NOT EXISTS (SELECT 1 FROM company_contacts cc WHERE cc.tenant_id = ${tenantId} AND cc.opt_out_whatsapp AND cc.phones && ARRAY[m.phone, m.phone_key])
    RETURNING m.send_id`.execute(trx);
  return [...new Set(rows.map((r) => r.send_id))];
}
