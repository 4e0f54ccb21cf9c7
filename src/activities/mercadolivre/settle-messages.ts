import type { AccountRef } from './apply-question';
import type { MlDeps } from './deps';

export interface MessageSettleTimes {
  /** A message still `sending` this long after it was written is looked for in its conversation. */
  afterMs: number;
  /** One not found there this long after it was written is `failed` (its send ended long ago without reaching Mercado Livre). */
  failAfterMs: number;
}

export const defaultMessageSettleTimes: MessageSettleTimes = { afterMs: 5_000, failAfterMs: 60_000 };

const PACKS_PER_SWEEP = 20;

/**
 * Settles post-sale messages whose send never heard back (a timeout, a dropped connection, a 5xx):
 * their conversation is read again, which matches each one to the message Mercado Livre holds
 * (→ `sent`); one still missing once its send is long over is `failed`. Nothing is sent again,
 * so a message reaches the buyer at most once; the agent may write it anew.
 */
export function createMessageSettler(deps: MlDeps, applyPack: (account: AccountRef, packId: string) => Promise<void>, times: MessageSettleTimes) {
  const { db } = deps;
  return async function settleMessages(): Promise<{ sent: number; failed: number }> {
    const now = Date.now();
    const packs = await db
      .selectFrom('ml_messages as m')
      .innerJoin('ml_conversations as c', 'c.id', 'm.conversation_id')
      .innerJoin('ml_accounts as a', 'a.id', 'c.account_id')
      .select(['c.id as conversation_id', 'c.pack_id', 'a.id as account_id', 'a.tenant_id', 'a.seller_id'])
      .distinct()
      .where('m.state', '=', 'sending')
      .where('m.created_at', '<', new Date(now - times.afterMs))
      .where('a.status', '=', 'connected')
      .limit(PACKS_PER_SWEEP)
      .execute();
    const totals = { sent: 0, failed: 0 };
    for (const p of packs) {
      const before = await stillSending(p.conversation_id);
      try {
        await applyPack({ id: p.account_id, tenant_id: p.tenant_id, seller_id: String(p.seller_id) }, p.pack_id);
      } catch {
        continue; // Mercado Livre did not answer now: the next sweep reads it again.
      }
      // Read after the cutoff: a message older than it that the conversation does not show never got there.
      const failed = await db
        .updateTable('ml_messages')
        .set({ state: 'failed' })
        .where('conversation_id', '=', p.conversation_id)
        .where('state', '=', 'sending')
        .where('created_at', '<', new Date(now - times.failAfterMs))
        .returning('id')
        .execute();
      totals.failed += failed.length;
      totals.sent += before - failed.length - (await stillSending(p.conversation_id));
    }
    return totals;
  };

  async function stillSending(conversationId: string): Promise<number> {
    const row = await db
      .selectFrom('ml_messages')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('conversation_id', '=', conversationId)
      .where('state', '=', 'sending')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
