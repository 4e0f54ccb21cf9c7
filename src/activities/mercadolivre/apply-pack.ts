import { sql, type Transaction } from 'kysely';
import { refreshConversationCounts } from '../../db/mercadolivre';
import { recordMessageInteraction } from '../../db/ml-interactions';
import type { Database } from '../../db/schema';
import type { MlMessage, MlPackMessages } from '../../integrations/mercadolivre/types';
import type { AccountRef } from './apply-question';
import type { MlDeps } from './deps';

/**
 * Fetches a pack's conversation with the seller's token (without marking it read) and applies it:
 * status and substatus, every message once (ours matched by Mercado Livre's id, or by text while
 * its send is unconfirmed), unread count, and an interaction per new message.
 */
export function createPackApplier(deps: MlDeps) {
  return async function applyPack(account: AccountRef, packId: string, knownBuyerId?: string): Promise<void> {
    const pages: MlPackMessages[] = [];
    for (let offset = 0; offset < 1000; ) {
      const page = await deps.withSellerToken(account.id, (t) => deps.client.packMessages(t, packId, account.seller_id, { offset, limit: 100 }));
      pages.push(page);
      offset += page.messages.length;
      if (page.messages.length === 0 || offset >= page.paging.total) break;
    }
    await deps.db.transaction().execute((trx) => applyPackPages(trx, account, packId, pages, knownBuyerId));
  };
}

const sellerOf = (m: MlMessage, sellerId: string) => String(m.from.user_id) === sellerId;

export async function applyPackPages(trx: Transaction<Database>, account: AccountRef, packId: string, pages: MlPackMessages[], knownBuyerId?: string) {
  const status = pages[0]?.conversation_status;
  const messages = pages.flatMap((p) => p.messages);
  const buyerId = knownBuyerId ?? messages.map((m) => (sellerOf(m, account.seller_id) ? String(m.to.user_id) : String(m.from.user_id)))[0] ?? null;
  const conversation = await trx
    .insertInto('ml_conversations')
    .values({
      tenant_id: account.tenant_id,
      account_id: account.id,
      pack_id: packId,
      buyer_id: buyerId,
      status: status?.status ?? 'active',
      substatus: status?.substatus ?? null,
      updated_at: new Date(),
    })
    .onConflict((oc) =>
      oc.constraint('ml_conversations_pack_key').doUpdateSet({
        status: status?.status ?? 'active',
        substatus: status?.substatus ?? null,
        buyer_id: sql`COALESCE(ml_conversations.buyer_id, EXCLUDED.buyer_id)`,
        updated_at: new Date(),
      }),
    )
    .returning(['id', 'buyer_id'])
    .executeTakeFirstOrThrow();

  for (const m of messages) {
    const direction = sellerOf(m, account.seller_id) ? 'seller' : 'buyer';
    const at = new Date(m.date_created);
    const moderation = m.moderation?.status ?? null;
    const existing = await trx
      .selectFrom('ml_messages')
      .select(['id'])
      .where('conversation_id', '=', conversation.id)
      .where('ml_message_id', '=', m.id)
      .executeTakeFirst();
    if (existing) {
      await trx
        .updateTable('ml_messages')
        .set({ moderation_status: moderation, moderation_reason: m.moderation?.reason ?? null })
        .where('id', '=', existing.id)
        .execute();
      continue;
    }
    // One of ours whose answer we never got (still `sending`): the same text, or an action-guide
    // option (Mercado Livre writes its template's text), the oldest first.
    if (direction === 'seller') {
      const pending = await trx
        .updateTable('ml_messages')
        .set({ ml_message_id: m.id, state: 'sent', moderation_status: moderation, moderation_reason: m.moderation?.reason ?? null, sent_at: at })
        .where(
          'id',
          '=',
          trx
            .selectFrom('ml_messages')
            .select('id')
            .where('conversation_id', '=', conversation.id)
            .where('ml_message_id', 'is', null)
            .where('state', '=', 'sending')
            .where((eb) => eb.or([eb('text', '=', m.text ?? ''), eb('option_id', 'is not', null)]))
            .orderBy(sql`text = ${m.text ?? ''}`, 'desc')
            .orderBy('created_at')
            .limit(1),
        )
        .returning(['id', 'sent_by'])
        .executeTakeFirst();
      if (pending) {
        await recordMessageInteraction(trx, {
          tenantId: account.tenant_id,
          accountId: account.id,
          conversationId: conversation.id,
          packId,
          messageKey: m.id,
          buyerId: conversation.buyer_id,
          direction,
          at,
          moderation,
          by: pending.sent_by,
        });
        continue;
      }
    }
    const inserted = await trx
      .insertInto('ml_messages')
      .values({
        tenant_id: account.tenant_id,
        conversation_id: conversation.id,
        ml_message_id: m.id,
        direction,
        text: m.text ?? '',
        moderation_status: moderation,
        moderation_reason: m.moderation?.reason ?? null,
        attachments: JSON.stringify(m.attachments ?? []),
        sent_at: at,
      })
      .onConflict((oc) => oc.constraint('ml_messages_ml_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) continue;
    await recordMessageInteraction(trx, {
      tenantId: account.tenant_id,
      accountId: account.id,
      conversationId: conversation.id,
      packId,
      messageKey: m.id,
      buyerId: conversation.buyer_id,
      direction,
      at,
      moderation,
    });
  }
  await refreshConversationCounts(trx, conversation.id);
}
