import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { MlConversation, MlMessageRow } from '../../../db/mercadolivre-schema';
import { recordMessageInteraction } from '../../../db/ml-interactions';
import { refreshConversationCounts } from '../../../db/mercadolivre';
import { MercadoLivreApiError, MercadoLivreTransportError, MESSAGE_MAX_CHARS } from '../../../integrations/mercadolivre/client';
import type { MlMessage } from '../../../integrations/mercadolivre/types';
import { audit } from '../../audit';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, parseSort, sortQuerySchema, toPage } from '../../pagination';
import { conflict, notFound, unprocessable } from '../../problem';
import { errorResponses, unavailableResponses } from '../../problem-schema';
import type { RoutePlugin } from '../../types';
import { mercadoLivreContext, mercadoLivreProblem } from '../shared';

const tags = ['mercadolivre'];
const iso = (d: Date | null) => (d ? d.toISOString() : null);

const conversationSchema = z.object({
  id: z.uuid(),
  accountId: z.uuid(),
  packId: z.string(),
  buyerId: z.string().nullable(),
  status: z.enum(['active', 'blocked']),
  substatus: z.string().nullable(),
  unreadCount: z.number().int(),
  lastMessageAt: z.string().nullable(),
});
const messageSchema = z.object({
  id: z.uuid(),
  mlMessageId: z.string().nullable(),
  direction: z.enum(['buyer', 'seller']),
  text: z.string(),
  optionId: z.string().nullable(),
  state: z.enum(['sending', 'sent', 'failed']),
  moderation: z.object({ status: z.string().nullable(), reason: z.string().nullable() }),
  attachments: z.array(z.unknown()),
  sentAt: z.string(),
  readAt: z.string().nullable(),
});

const conversationToApi = (c: MlConversation): z.infer<typeof conversationSchema> => ({
  id: c.id,
  accountId: c.account_id,
  packId: c.pack_id,
  buyerId: c.buyer_id === null ? null : String(c.buyer_id),
  status: c.status,
  substatus: c.substatus,
  unreadCount: c.unread_count,
  lastMessageAt: iso(c.last_message_at),
});
const messageToApi = (m: MlMessageRow): z.infer<typeof messageSchema> => ({
  id: m.id,
  mlMessageId: m.ml_message_id,
  direction: m.direction,
  text: m.text,
  optionId: m.option_id,
  state: m.state,
  moderation: { status: m.moderation_status, reason: m.moderation_reason },
  attachments: m.attachments,
  sentAt: m.sent_at.toISOString(),
  readAt: iso(m.read_at),
});

const sendBody = z.object({
  text: z.string().max(100_000).optional(),
  option: z
    .string()
    .max(60)
    .optional()
    .describe('Action-guide option (REQUEST_VARIANTS, REQUEST_BILLING_INFO, SEND_INVOICE_LINK, OTHER, …): required when the seller writes first'),
});

/** Post-sale conversations (one per pack) and writing to the buyer. */
export const mercadoLivreConversationRoutes: RoutePlugin = (app, { db, config, temporal }) => {
  const ml = mercadoLivreContext(db, config, temporal);
  const find = async (tenantId: string, packId: string) => {
    const c = await db.selectFrom('ml_conversations').selectAll().where('tenant_id', '=', tenantId).where('pack_id', '=', packId).executeTakeFirst();
    if (!c) throw notFound('Mercado Livre conversation', packId);
    return c;
  };

  app.get(
    '/mercadolivre/conversations',
    {
      schema: {
        tags,
        summary: 'Post-sale conversations, most recent first',
        querystring: pageQuerySchema.extend({
          sort: sortQuerySchema(['updatedAt'], '-updatedAt'),
          accountId: z.uuid().optional(),
          status: z.enum(['active', 'blocked']).optional(),
          unread: z.enum(['true', 'false']).optional(),
        }),
        response: { 200: pageSchema(conversationSchema), ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const { limit, cursor, sort, accountId, status, unread } = request.query;
      let query = db.selectFrom('ml_conversations').selectAll().where('tenant_id', '=', request.auth.tenantId);
      if (accountId) query = query.where('account_id', '=', accountId);
      if (status) query = query.where('status', '=', status);
      if (unread) query = query.where('unread_count', unread === 'true' ? '>' : '=', 0);
      const rows = await keysetPage(query, { sort: parseSort(sort, { updatedAt: 'updated_at:ts' }), idColumn: 'id', limit, cursor }).execute();
      return toPage(rows, limit, (r) => [dateCursor(r.updated_at), r.id], conversationToApi);
    },
  );

  app.get(
    '/mercadolivre/conversations/:packId',
    {
      schema: {
        tags,
        summary: "A conversation with its messages (reading it marks the buyer's messages read)",
        params: z.object({ packId: z.string().regex(/^\d{1,25}$/) }),
        response: { 200: conversationSchema.extend({ messages: z.array(messageSchema) }), ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const c = await find(request.auth.tenantId, request.params.packId);
      await db
        .updateTable('ml_messages')
        .set({ read_at: new Date() })
        .where('conversation_id', '=', c.id)
        .where('direction', '=', 'buyer')
        .where('read_at', 'is', null)
        .execute();
      await refreshConversationCounts(db, c.id);
      const fresh = await find(request.auth.tenantId, request.params.packId);
      const messages = await db.selectFrom('ml_messages').selectAll().where('conversation_id', '=', c.id).orderBy('sent_at').orderBy('created_at').execute();
      return { ...conversationToApi(fresh), messages: messages.map(messageToApi) };
    },
  );

  app.post(
    '/mercadolivre/conversations/:packId/messages',
    {
      schema: {
        tags,
        summary:
          `Writes to the buyer (free text up to ${MESSAGE_MAX_CHARS} characters; ` +
          `a seller writing first picks an action-guide option). Idempotency-Key makes a retry safe`,
        params: z.object({ packId: z.string().regex(/^\d{1,25}$/) }),
        headers: z.looseObject({ 'idempotency-key': z.string().min(1).max(200).optional() }),
        body: sendBody,
        response: {
          201: messageSchema,
          200: messageSchema.describe('A repeat of a request with the same Idempotency-Key: the message as it stands'),
          202: messageSchema.describe(
            'Sent, but Mercado Livre did not answer clearly (timeout, 5xx): `sending` until the worker finds it in the conversation (`sent`) or not (`failed`)',
          ),
          ...errorResponses,
          ...unavailableResponses,
        },
      },
    },
    async (request, reply) => {
      const c = await find(request.auth.tenantId, request.params.packId);
      const clientKey = request.headers['idempotency-key'] ?? randomUUID();
      const repeated = await db
        .selectFrom('ml_messages')
        .selectAll()
        .where('conversation_id', '=', c.id)
        .where('client_key', '=', clientKey)
        .executeTakeFirst();
      if (repeated) return reply.code(200).send(messageToApi(repeated));
      if (c.status === 'blocked')
        throw conflict('CONVERSATION_BLOCKED', `The conversation is blocked (${c.substatus ?? 'blocked'}).`, { substatus: c.substatus });
      const text = request.body.text?.trim() ?? '';
      if (text.length > MESSAGE_MAX_CHARS)
        throw unprocessable('MESSAGE_TEXT_TOO_LONG', `The text has ${text.length} characters; Mercado Livre takes at most ${MESSAGE_MAX_CHARS}.`, {
          maxLength: MESSAGE_MAX_CHARS,
        });
      const account = await ml.findAccount(request.auth.tenantId, c.account_id);
      const sellerId = String(account.seller_id);
      const buyerWrote = await db
        .selectFrom('ml_messages')
        .select('id')
        .where('conversation_id', '=', c.id)
        .where('direction', '=', 'buyer')
        .limit(1)
        .executeTakeFirst();
      const option = request.body.option;
      let templateId: string | undefined;
      if (!buyerWrote || option) {
        const guide = await ml.withSellerToken(account.id, (t) => ml.client.actionGuide(t, c.pack_id)).catch(mercadoLivreProblem);
        const options = guide.options.map((o) => ({
          id: o.id,
          type: o.type,
          enabled: o.enabled,
          capAvailable: o.cap_available,
          charLimit: o.char_limit ?? null,
        }));
        if (!option)
          throw unprocessable('OPTION_REQUIRED', 'The buyer has not written yet: a seller starting the conversation must pick an option of the action guide.', {
            options,
          });
        const chosen = guide.options.find((o) => o.id === option);
        if (!chosen || !chosen.enabled || chosen.cap_available <= 0)
          throw unprocessable('OPTION_NOT_AVAILABLE', `The option ${option} is not available for this conversation.`, { options });
        templateId = chosen.templates?.[0]?.id;
        if (chosen.type === 'free_text' && !text) throw unprocessable('MESSAGE_TEXT_EMPTY', `The option ${option} needs a text.`);
      } else if (!text) throw unprocessable('MESSAGE_TEXT_EMPTY', 'The message text is empty.');

      // The intent is recorded before the call (its business key is the client key).
      const row = await db
        .insertInto('ml_messages')
        .values({
          tenant_id: c.tenant_id,
          conversation_id: c.id,
          client_key: clientKey,
          direction: 'seller',
          text: text || `[${option}]`,
          option_id: option ?? null,
          state: 'sending',
          sent_by: request.auth.userId,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      let sent: MlMessage;
      try {
        sent = await ml.withSellerToken(account.id, (t) =>
          option
            ? ml.client.sendOption(t, c.pack_id, { optionId: option, templateId, text: text || undefined })
            : ml.client.sendMessage(t, c.pack_id, sellerId, String(c.buyer_id), text),
        );
      } catch (error) {
        if (error instanceof MercadoLivreApiError && !error.retryable) {
          await db.updateTable('ml_messages').set({ state: 'failed' }).where('id', '=', row.id).execute();
          if (error.status === 403 && /blocked/.test(error.error + error.message)) {
            // Blocked since we last looked: learn why from the conversation itself.
            const pack = await ml.withSellerToken(account.id, (t) => ml.client.packMessages(t, c.pack_id, sellerId, { limit: 1 })).catch(() => undefined);
            const substatus = pack?.conversation_status.substatus ?? c.substatus;
            if (pack)
              await db
                .updateTable('ml_conversations')
                .set({ status: pack.conversation_status.status, substatus, updated_at: new Date() })
                .where('id', '=', c.id)
                .execute();
            throw conflict('CONVERSATION_BLOCKED', `The conversation is blocked (${substatus ?? 'blocked'}).`, { substatus });
          }
        }
        if (error instanceof MercadoLivreTransportError || (error instanceof MercadoLivreApiError && error.status >= 500)) {
          // No clear answer: it may have reached the buyer. It stays `sending`; the worker reads the
          // conversation again and settles it (`sent` or `failed`), never sending it twice.
          request.log.warn({ err: error, messageId: row.id }, 'Mercado Livre message send outcome unknown');
          await audit(db, request, {
            action: 'mercadolivre_conversation.message',
            targetType: 'mercadolivre_conversation',
            targetId: c.id,
            summary: `Mensagem pós-venda enviada, confirmação pendente (pack ${c.pack_id})`,
            details: { option: option ?? null, messageId: row.id, outcome: 'unknown' },
          });
          return reply.code(202).send(messageToApi(row));
        }
        // Refused or never sent (a 429, an account needing authorization): nothing reached Mercado Livre.
        await db.updateTable('ml_messages').set({ state: 'failed' }).where('id', '=', row.id).where('state', '=', 'sending').execute();
        return mercadoLivreProblem(error);
      }
      const saved = await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('ml_messages')
          .set({
            ml_message_id: sent.id,
            state: 'sent',
            text: sent.text ?? row.text,
            moderation_status: sent.moderation?.status ?? null,
            moderation_reason: sent.moderation?.reason ?? null,
            sent_at: new Date(sent.date_created ?? Date.now()),
          })
          .where('id', '=', row.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordMessageInteraction(trx, {
          tenantId: c.tenant_id,
          accountId: account.id,
          conversationId: c.id,
          packId: c.pack_id,
          messageKey: sent.id,
          buyerId: c.buyer_id,
          direction: 'seller',
          at: updated.sent_at,
          moderation: updated.moderation_status,
          by: request.auth.userId,
        });
        await audit(trx, request, {
          action: 'mercadolivre_conversation.message',
          targetType: 'mercadolivre_conversation',
          targetId: c.id,
          summary: `Mensagem pós-venda enviada (pack ${c.pack_id})`,
          details: { option: option ?? null },
        });
        await refreshConversationCounts(trx, c.id);
        return updated;
      });
      return reply.code(201).send(messageToApi(saved));
    },
  );
};
