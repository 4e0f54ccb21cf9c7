import { Context } from '@temporalio/activity';
import { foldSendTallies } from '../../db/broadcast-tallies';
import { sql, type Kysely } from 'kysely';
import type { BroadcastSend, Database, SendStatus } from '../../db/schema';
import type { ChannelClients } from '../../db/whatsapp-channels';
import { recordMessageInteractions } from '../../db/interaction-sources';
import { messagingLimitOf } from '../../domain/messaging-limits';
import { GROUP_UNUSABLE_REASON } from '../../domain/group-lock';
import { campaignGroupRefusal } from '../campaign-group';
import { claimBatch, type MessagingLimit } from './claim';
import { createRateLimiter } from './limiter';
import { claimPage } from './page-claim';
import { createDispatcher } from './page-dispatch';
import { runPageLoop } from './page-loop';
import { pagePace } from './page-pace';
import { createRecorder } from './recorder';
import { createPageTurns } from './page-turns';

export interface BroadcastSendDeps {
  db: Kysely<Database>;
  clients: ChannelClients;
  /** Tries per message for retryable errors before it fails with the last code. */
  maxAttempts?: number;
  /** API calls in flight at once per page activity. */
  concurrency?: number;
  /** How much longer our pace window is than Meta's second (see paceWindow). */
  windowMarginMs?: number;
  /** The worker's orderly stop: a page stops taking messages, settles those in flight and returns (see index.ts). */
  draining?: AbortSignal;
}

export interface PageRef {
  sendId: string;
  /** Exclusive. */
  fromSeq: number;
  /** Inclusive. */
  toSeq: number;
}

export interface Halt {
  action: 'pause' | 'stop';
  reason: string;
}

export interface PageResult {
  claimed: number;
  accepted: number;
  failed: number;
  retry: number;
  skipped: number;
  /** Calls whose outcome is unknown (connection lost after sending): left `sending` for the webhook. */
  unsettled: number;
  /** The page stopped early: the send is no longer running, or this worker is shutting down. */
  interrupted: boolean;
  halt?: Halt;
  /** The channel's messaging limit is reached: nothing more can start before this time (ISO). */
  limitedUntil?: string;
}

export interface SendSummary {
  pending: number;
  /** Pending messages within the released share (gradual release). */
  pendingReleased: number;
  /** Earliest retry time among those, ISO; null when some are due now. */
  nextDueAt: string | null;
  sending: number;
  oldestSendingAt: string | null;
  halt?: Halt;
}

/**
 * How far ahead of their time slots are taken: the batch's intent is recorded meanwhile, and its
 * calls leave when the slots are counted from instead of that much later. Claimed rows wait at
 * most this long for their call (a worker dying then leaves them `sending`, settled as any other).
 */
const CLAIM_LEAD_MS = 50;
const withoutNinthSql = (col: string) =>
  sql.raw(`CASE WHEN length(${col}) = 13 AND left(${col}, 2) = '55' AND substr(${col}, 5, 1) = '9' THEN left(${col}, 4) || substr(${col}, 6) ELSE ${col} END`);

const haltOf = (row: { halt_action: string | null; halt_reason: string | null }): Halt | undefined =>
  row.halt_action ? { action: row.halt_action as Halt['action'], reason: row.halt_reason ?? row.halt_action } : undefined;

/** Activities of the send workflow: prepare the message rows, send pages, settle, record states. */
export function createBroadcastSendActivities(deps: BroadcastSendDeps) {
  const { db, clients } = deps;
  const limiter = createRateLimiter(db);
  const turns = createPageTurns();
  const maxAttempts = deps.maxAttempts ?? 6;
  const concurrency = deps.concurrency ?? 200;

  const loadSend = (sendId: string) => db.selectFrom('broadcast_sends').selectAll().where('id', '=', sendId).executeTakeFirstOrThrow();

  async function setHalt(sendId: string, halt: Halt): Promise<void> {
    await db
      .updateTable('broadcast_sends')
      .set({ halt_action: halt.action, halt_reason: halt.reason })
      .where('id', '=', sendId)
      .where(sql<boolean>`halt_action IS NULL OR (halt_action = 'pause' AND ${halt.action}::text = 'stop')`)
      .execute();
  }

  return {
    /**
     * One message row per contact (the business key), numbered 1..N in contact order, with the
     * number to use and opt-outs marked skipped. Batches commit on their own; a retry resumes
     * after the last contact written.
     */
    async prepareSend(input: { sendId: string; batchSize?: number }): Promise<{ total: number }> {
      const send = await loadSend(input.sendId);
      const batch = input.batchSize ?? 20_000;
      if (!send.prepared) {
        for (;;) {
          Context.current().heartbeat();
          const last = await db
            .selectFrom('broadcast_messages')
            .select([sql<number>`coalesce(max(contact_id), 0)`.as('contact'), sql<number>`coalesce(max(seq), 0)`.as('seq')])
            .where('send_id', '=', send.id)
            .executeTakeFirstOrThrow();
          const inserted = await sql<{ n: number }>`
            WITH src AS (
              SELECT c.id, c.company_contact_id,
                     coalesce((SELECT x FROM unnest(c.phones) x WHERE length(x) = 13 LIMIT 1), c.phones[1]) AS phone
              FROM contacts c WHERE c.group_id = ${send.group_id} AND c.id > ${last.contact} AND cardinality(c.phones) > 0
              ORDER BY c.id LIMIT ${batch}
            ), keyed AS (
              SELECT src.*, ${withoutNinthSql('src.phone')} AS phone_key,
                     row_number() OVER (ORDER BY src.id) + ${last.seq} AS seq FROM src
            ), marked AS (
              SELECT keyed.*, (
                EXISTS (SELECT 1 FROM phone_opt_outs o WHERE o.tenant_id = ${send.tenant_id} AND o.channel = 'whatsapp'
                          AND o.phone IN (keyed.phone, keyed.phone_key))
                OR EXISTS (SELECT 1 FROM company_contacts cc WHERE cc.tenant_id = ${send.tenant_id} AND cc.opt_out_whatsapp
                          AND (cc.id = keyed.company_contact_id OR cc.phones @> ARRAY[keyed.phone]))
              ) AS opted_out FROM keyed
            ), ins AS (
              INSERT INTO broadcast_messages (send_id, tenant_id, contact_id, seq, phone, phone_key, state, skip_reason, skipped_at)
              SELECT ${send.id}, ${send.tenant_id}, id, seq, phone, phone_key,
                     CASE WHEN opted_out THEN 'skipped' ELSE 'pending' END,
                     CASE WHEN opted_out THEN 'opt_out' END, CASE WHEN opted_out THEN now() END
              FROM marked ORDER BY seq
              ON CONFLICT (send_id, contact_id) DO NOTHING RETURNING 1
            ) SELECT count(*)::int AS n FROM ins`.execute(db);
          if ((inserted.rows[0]?.n ?? 0) < batch) break;
        }
        const total = await db
          .selectFrom('broadcast_messages')
          .select(sql<number>`count(*)::int`.as('n'))
          .where('send_id', '=', send.id)
          .executeTakeFirstOrThrow();
        await db.updateTable('broadcast_sends').set({ total_contacts: total.n, prepared: true }).where('id', '=', send.id).execute();
        return { total: total.n };
      }
      return { total: send.total_contacts };
    },

    /** The next page of due pending messages after `afterSeq` (within the released share). */
    async nextPage(input: { sendId: string; afterSeq: number; limit: number; maxSeq: number }): Promise<{ page: PageRef | null; halt?: Halt }> {
      // Only the page's last seq comes back (not a row per message).
      const { rows } = await sql<{ last: number | null }>`
        SELECT max(seq)::int AS last FROM (
          SELECT seq FROM broadcast_messages
          WHERE send_id = ${input.sendId} AND state = 'pending' AND seq > ${input.afterSeq} AND seq <= ${input.maxSeq}
            AND (next_attempt_at IS NULL OR next_attempt_at <= now())
          ORDER BY seq LIMIT ${input.limit}) page`.execute(db);
      const send = await db
        .selectFrom('broadcast_sends')
        .select(['halt_action', 'halt_reason', 'group_id', 'campaign_id'])
        .where('id', '=', input.sendId)
        .executeTakeFirstOrThrow();
      if (!send.halt_action && (await campaignGroupRefusal(db, send.group_id, send.campaign_id))) {
        // The group lock checked again as the send goes: an unusable group pauses it, with why.
        const halt: Halt = { action: 'pause', reason: GROUP_UNUSABLE_REASON };
        await setHalt(input.sendId, halt);
        return { page: null, halt };
      }
      const last = rows[0]?.last;
      return { page: last ? { sendId: input.sendId, fromSeq: input.afterSeq, toSeq: last } : null, halt: haltOf(send) };
    },

    /**
     * Sends the page's due pending messages at the pace both windows allow (the channel's number
     * and the send). For each batch of slots: record the intent (`sending`) first, then call the
     * API with our key in biz_opaque_callback_data, then record the answer. A message left
     * `sending` (worker died, answer lost) is never sent again: a webhook or the unknown-timeout
     * settles it.
     */
    async sendPage(page: PageRef): Promise<PageResult> {
      const ctx = Context.current();
      const result: PageResult = { claimed: 0, accepted: 0, failed: 0, retry: 0, skipped: 0, unsettled: 0, interrupted: false };
      const send: BroadcastSend = await loadSend(page.sendId);
      if (send.status !== 'running' || send.halt_action) return { ...result, interrupted: true, halt: haltOf(send) };
      // Read afresh: a tier or throughput just changed (and the send woken for it) applies now.
      const channel = await clients.channel(send.channel_id, 0);
      const client = clients.clientFor(channel);
      const template = await db
        .selectFrom('whatsapp_templates')
        .select(['placeholders', 'parameter_format'])
        .where('channel_id', '=', send.channel_id)
        .where('name', '=', send.template_name)
        .where('language', '=', send.template_language)
        .executeTakeFirstOrThrow();
      let pace = pagePace(channel, send, deps.windowMarginMs);
      await limiter.define(pace.windows);
      const slots = { least: pace.least, most: pace.most };

      const claimed = await claimPage(db, send, template, page);
      result.skipped += claimed.skipped;
      if (claimed.read === 0) return result;
      const { queue } = claimed;
      const users = messagingLimitOf(channel.messaging_limit_tier);
      const limit: MessagingLimit | undefined = users === null ? undefined : { channelId: channel.id, users };
      const recorder = createRecorder(db);
      const dispatchMessage = createDispatcher({ db, client, channel, send, maxAttempts, record: (o) => recorder.add(o), result, setHalt });

      // Heartbeats go on while the last answers come in, so only a dead worker misses them.
      const beat = setInterval(() => ctx.heartbeat({ left: queue.length }), 1000);
      try {
        await runPageLoop({
          queue,
          concurrency,
          slots,
          acquire: (want, least) => limiter.acquire(pace.keys, want, least, CLAIM_LEAD_MS),
          restamp: (grant, size) => limiter.restamp(pace.keys, grant, size),
          claim: (batch, grant) => claimBatch(db, batch, limit, { keys: pace.keys, stamp: grant.stamp, size: batch.length }),
          dispatch: dispatchMessage,
          flush: () => recorder.flush(),
          check: async () => {
            const now = await loadSend(page.sendId);
            if (now.status !== 'running' || now.halt_action) return { running: false, halt: haltOf(now) };
            if (now.pace_mps !== send.pace_mps) {
              // The pace was edited while the page runs: the send's window and the batch sizes follow at once.
              send.pace_mps = now.pace_mps;
              pace = pagePace(channel, send, deps.windowMarginMs);
              await limiter.define(pace.windows);
              Object.assign(slots, { least: pace.least, most: pace.most });
            }
            return { running: true };
          },
          // A worker's orderly stop ends the page like a cancellation: its rest stays pending for the next worker.
          cancelled: () => ctx.cancellationSignal.aborted || deps.draining?.aborted === true,
          turn: { set: (waiting, wake) => turns.set(page.sendId, page.fromSeq, waiting, wake), isTurn: () => turns.isTurn(page.sendId, page.fromSeq) },
          result,
        });
      } finally {
        clearInterval(beat);
      }
      await recorder.flush();
      if (result.halt) result.interrupted = true;
      return result;
    },

    async sendSummary(input: { sendId: string; maxSeq: number }): Promise<SendSummary> {
      const row = await sql<{ pending: number; released: number; next_due: Date | null; due_now: number; sending: number; oldest: Date | null }>`
        SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending,
               count(*) FILTER (WHERE state = 'pending' AND seq <= ${input.maxSeq})::int AS released,
               count(*) FILTER (WHERE state = 'pending' AND seq <= ${input.maxSeq} AND (next_attempt_at IS NULL OR next_attempt_at <= now()))::int AS due_now,
               min(next_attempt_at) FILTER (WHERE state = 'pending' AND seq <= ${input.maxSeq}) AS next_due,
               count(*) FILTER (WHERE state = 'sending')::int AS sending,
               min(sending_since) FILTER (WHERE state = 'sending') AS oldest
        FROM broadcast_messages WHERE send_id = ${input.sendId}`.execute(db);
      const r = row.rows[0];
      const send = await db.selectFrom('broadcast_sends').select(['halt_action', 'halt_reason']).where('id', '=', input.sendId).executeTakeFirstOrThrow();
      return {
        pending: r.pending,
        pendingReleased: r.released,
        nextDueAt: r.due_now > 0 || !r.next_due ? null : new Date(r.next_due).toISOString(),
        sending: r.sending,
        oldestSendingAt: r.oldest ? new Date(r.oldest).toISOString() : null,
        halt: haltOf(send),
      };
    },

    /** Messages `sending` for longer than the settle time and not settled by a webhook: `unknown`. */
    async settleUnknown(input: { sendId: string; olderThanMs: number }): Promise<number> {
      // An unknown outcome may still have reached the person: it is an interaction too.
      const settled = await db.transaction().execute(async (trx) => {
        const rows = await trx
          .updateTable('broadcast_messages')
          .set({ state: 'unknown', unknown_at: new Date() })
          .where('send_id', '=', input.sendId)
          .where('state', '=', 'sending')
          .where('sending_since', '<', sql<Date>`now() - ${input.olderThanMs} * interval '1 millisecond'`)
          .returning('id')
          .execute();
        await recordMessageInteractions(
          trx,
          rows.map((r) => r.id),
        );
        return rows.length;
      });
      return settled;
    },

    /** Mirrors the workflow's state in PostgreSQL (API lists, page activities' control checks). */
    async setSendState(input: {
      sendId: string;
      status: SendStatus;
      reason: string | null;
      version: number;
      clearHalt?: boolean;
      last?: boolean;
      /** ISO: until when a waiting send expects to wait. */
      until?: string | null;
    }): Promise<void> {
      const final = input.status === 'completed' || input.status === 'stopped';
      if (input.status === 'stopped') {
        await db
          .updateTable('broadcast_messages')
          .set({ state: 'skipped', skip_reason: 'send_stopped', skipped_at: new Date() })
          .where('send_id', '=', input.sendId)
          .where('state', '=', 'pending')
          .execute();
      }
      await db
        .updateTable('broadcast_sends')
        .set((eb) => ({
          status: input.status,
          status_reason: input.reason,
          status_until: input.until ?? null,
          state_version: input.version,
          halt_action: input.clearHalt ? null : eb.ref('halt_action'),
          halt_reason: input.clearHalt ? null : eb.ref('halt_reason'),
          started_at: input.status === 'running' ? sql`coalesce(started_at, now())` : eb.ref('started_at'),
          finished_at: final ? sql`coalesce(finished_at, now())` : eb.ref('finished_at'),
        }))
        .where('id', '=', input.sendId)
        .where('state_version', '<', input.version)
        .execute();
      // A finished send's tallies shrink to a row per key now, whether or not anyone watches it.
      if (final) await foldSendTallies(db, [input.sendId]);
      // A finished send's own pace window is no longer needed (the number's window stays).
      if (input.last) await db.deleteFrom('rate_windows').where('key', '=', `send:${input.sendId}`).execute();
    },
  };
}

export type BroadcastSendActivities = ReturnType<typeof createBroadcastSendActivities>;
