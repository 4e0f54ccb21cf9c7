import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
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
  const woken: string[] = [];
  for (const send of sends) {
    try {
      await deps.temporal.workflow.getHandle(sendWorkflowId(send.id)).signal(wakeSendSignal, { reason });
      woken.push(send.id);
    } catch (error) {
      deps.log.warn({ err: error, sendId: send.id }, 'could not wake a send; it looks again when its wait ends');
    }
  }
  return woken;
}
