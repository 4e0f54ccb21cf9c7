import type { Kysely, Transaction } from 'kysely';
import { recordInteraction } from './interactions';
import type { Database, HandledByKind } from './schema';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * The buyer's interactions of the Mercado Livre channel, written in the transaction that records
 * the question, answer or message itself. Source keys: `mlq:<account>:<ML question id>` (the
 * question, inbound), `mla:<question uuid>` (its answer, outbound), `mlm:<conversation>:<message>`.
 */
export interface MlQuestionFacts {
  tenantId: string;
  accountId: string;
  questionId: string;
  mlQuestionId: string;
  buyerId: string;
  itemId: string;
  status: string;
  askedAt: Date;
  slaBreachedAt?: Date | null;
}

export const questionSourceKey = (accountId: string, mlQuestionId: string) => `mlq:${accountId}:${mlQuestionId}`;

export async function recordQuestionInteraction(db: Executor, q: MlQuestionFacts) {
  await recordInteraction(db, {
    tenantId: q.tenantId,
    channel: 'mercadolivre',
    direction: 'inbound',
    kind: 'question',
    sourceKey: questionSourceKey(q.accountId, q.mlQuestionId),
    mlBuyerId: q.buyerId,
    mlAccountId: q.accountId,
    startedAt: q.askedAt,
    outcome: q.status.toLowerCase(),
    details: { questionId: q.questionId, mlQuestionId: q.mlQuestionId, itemId: q.itemId },
    events: [{ type: 'asked', at: q.askedAt, key: 'asked' }, ...(q.slaBreachedAt ? [{ type: 'sla_breached', at: q.slaBreachedAt, key: 'sla_breached' }] : [])],
  });
}

export async function recordAnswerInteraction(
  db: Executor,
  a: {
    tenantId: string;
    accountId: string;
    questionId: string;
    mlQuestionId: string;
    buyerId: string;
    answeredAt: Date;
    via: 'agent' | 'auto' | 'mercadolivre';
    by?: string | null;
  },
) {
  const handledBy: { kind: HandledByKind; id?: string | null } =
    a.via === 'agent' ? { kind: 'user', id: a.by ?? null } : a.via === 'auto' ? { kind: 'rule', id: a.by ?? null } : { kind: 'system', id: 'mercadolivre' };
  await recordInteraction(db, {
    tenantId: a.tenantId,
    channel: 'mercadolivre',
    direction: 'outbound',
    kind: 'answer',
    sourceKey: `mla:${a.questionId}`,
    mlBuyerId: a.buyerId,
    mlAccountId: a.accountId,
    startedAt: a.answeredAt,
    endedAt: a.answeredAt,
    outcome: 'answered',
    handledBy,
    details: { questionId: a.questionId, mlQuestionId: a.mlQuestionId, via: a.via },
    events: [{ type: 'answered', at: a.answeredAt, key: 'answered' }],
  });
}

export async function recordMessageInteraction(
  db: Executor,
  m: {
    tenantId: string;
    accountId: string;
    conversationId: string;
    packId: string;
    messageKey: string;
    buyerId: string | null;
    direction: 'buyer' | 'seller';
    at: Date;
    moderation: string | null;
    by?: string | null;
  },
) {
  await recordInteraction(db, {
    tenantId: m.tenantId,
    channel: 'mercadolivre',
    direction: m.direction === 'buyer' ? 'inbound' : 'outbound',
    kind: 'message',
    sourceKey: `mlm:${m.conversationId}:${m.messageKey}`,
    mlBuyerId: m.buyerId,
    mlAccountId: m.accountId,
    startedAt: m.at,
    outcome: m.moderation === 'rejected' ? 'moderated' : 'sent',
    handledBy: m.direction === 'seller' ? { kind: 'user', id: m.by ?? null } : null,
    details: { conversationId: m.conversationId, packId: m.packId },
    events: [{ type: m.direction === 'buyer' ? 'received' : 'sent', at: m.at, key: 'created' }],
  });
}
