import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { sql, type Kysely } from 'kysely';
import type { BroadcastSend, Database, SendStatus } from '../../db/schema';
import type { ChannelClients } from '../../db/whatsapp-channels';
import { recordMessageInteractions } from '../../db/interaction-sources';
import { messageKey, resolveParameters, type ContactFields, type VariableMapping } from '../../domain/broadcast';
import { messagingLimitOf, USER_CAP_SKIP_REASON } from '../../domain/messaging-limits';
import { classifyWhatsAppError } from '../../domain/whatsapp-error-policy';
import { WhatsAppTransportError } from '../../integrations/whatsapp/errors';
import { GROUP_UNUSABLE_REASON } from '../../domain/group-lock';
import { campaignGroupRefusal } from '../campaign-group';
import { claimBatch, type MessagingLimit } from './claim';
import { channelPaceKey, createRateLimiter, paceWindow, type Grant } from './limiter';
import { blockedRecipients, blockRecipients } from './recipient-blocks';
import { createRecorder, type Outcome } from './recorder';
import { createPageTurns } from './page-turns';
import { createWakeup } from './wakeup';

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

const MAX_BACKOFF_MS = 5 * 60_000;
/**
 * How far ahead of their time slots are taken: the batch's intent is recorded meanwhile, and its
 * calls leave when the slots are counted from instead of that much later. Claimed rows wait at
 * most this long for their call (a worker dying then leaves them `sending`, settled as any other).
 */
const CLAIM_LEAD_MS = 50;
/** A retry due this soon (e.g. 130429, throughput) is tried again by the same page instead of the next pass. */
const INLINE_RETRY_MS = 2_000;
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
      let send: BroadcastSend = await loadSend(page.sendId);
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
      // Keyed by our channel id, which no other tenant can name (a number is registered once, so
      // the channel stands for its number); a key built from the number let another tenant's
      // channel of the same id share the window and set its limit.
      const numberWindow = paceWindow(channelPaceKey(channel.id), channel.mps_limit, deps.windowMarginMs);
      const sendWindow = paceWindow(`send:${send.id}`, Math.min(send.pace_mps, channel.mps_limit), deps.windowMarginMs);
      await limiter.define([numberWindow, sendWindow]);
      // Slots in small batches: at least a hundredth of the window (not polling for each one), at
      // most a fortieth, so no batch's calls reach the API bunched up, later one time than another.
      const pace = {
        keys: [numberWindow.key, sendWindow.key],
        least: Math.max(1, Math.min(10, Math.floor(sendWindow.limit / 100))),
        most: Math.max(1, Math.floor(sendWindow.limit / 40)),
      };

      const rows = await db
        .selectFrom('broadcast_messages as m')
        .innerJoin('contacts as c', 'c.id', 'm.contact_id')
        .select(['m.id', 'm.contact_id', 'm.phone', 'm.phone_key', 'm.attempts', 'c.name', 'c.email', 'c.document', 'c.custom'])
        .where('m.send_id', '=', page.sendId)
        .where('m.seq', '>', page.fromSeq)
        .where('m.seq', '<=', page.toSeq)
        .where('m.state', '=', 'pending')
        .where((eb) => eb.or([eb('m.next_attempt_at', 'is', null), eb('m.next_attempt_at', '<=', sql<Date>`now()`)]))
        .orderBy('m.seq')
        .execute();
      if (rows.length === 0) return result;

      // Opted out since the rows were prepared (a SAIR reply during the campaign).
      const phones = [...new Set(rows.flatMap((r) => [r.phone, r.phone_key]))];
      const opted = new Set(
        (
          await db
            .selectFrom('phone_opt_outs')
            .select('phone')
            .where('tenant_id', '=', send.tenant_id)
            .where('channel', '=', 'whatsapp')
            .where('phone', 'in', phones)
            .execute()
        ).map((r) => r.phone),
      );
      // …or flagged on the company contact (Contatos Omni) meanwhile.
      const flagged = await sql<{ phones: string[] }>`
        SELECT phones FROM company_contacts
        WHERE tenant_id = ${send.tenant_id} AND opt_out_whatsapp AND phones && ${phones}::text[]`.execute(db);
      for (const f of flagged.rows) for (const p of f.phones) opted.add(p);
      const skip = new Set(rows.filter((r) => opted.has(r.phone) || opted.has(r.phone_key)).map((r) => r.id));
      // Capped by Meta (131049) in the last 24 h, by this send or another of the channel.
      const capped = await blockedRecipients(db, send.channel_id, [...new Set(rows.map((r) => r.phone_key))]);
      const cap = rows.filter((r) => !skip.has(r.id) && capped.has(r.phone_key)).map((r) => r.id);
      for (const [ids, reason] of [
        [[...skip], 'opt_out'],
        [cap, USER_CAP_SKIP_REASON],
      ] as const) {
        if (ids.length === 0) continue;
        const skipped = await db
          .updateTable('broadcast_messages')
          .set({ state: 'skipped', skip_reason: reason, skipped_at: new Date() })
          .where('id', 'in', ids)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        result.skipped += Number(skipped.numUpdatedRows);
      }
      for (const id of cap) skip.add(id);
      const queue = rows.filter((r) => !skip.has(r.id));
      const users = messagingLimitOf(channel.messaging_limit_tier);
      const limit: MessagingLimit | undefined = users === null ? undefined : { channelId: channel.id, users };

      const recorder = createRecorder(db);
      const inflight = new Set<Promise<void>>();
      type Row = (typeof queue)[number];
      /**
       * Short retries waiting in this page. A throughput refusal (130429) takes a new slot like any
       * message: sending it again in the slot it had (Meta did not count it) put more calls than
       * the limit into Meta's window and kept a tenth of all calls refused (measured: 12,599
       * refusals and 897 msg/s for 100,000 messages, against 3,375 and 942 msg/s this way).
       */
      const later: { row: Row; due: number }[] = [];
      /** Batches whose intent is being recorded: the next slots are taken meanwhile, so the two round trips overlap. */
      const claims = new Set<Promise<void>>();
      /** Retries whose `pending` is being written before they go back to the queue. */
      const returning = new Set<Promise<void>>();
      /** Rung whenever a call or an intent write finishes. */
      const wakeup = createWakeup();
      let claiming = 0;
      let claimFailure: unknown;
      let checkedAt = Date.now();
      const mapping = send.variables as VariableMapping;

      const record = (o: Outcome) => recorder.add(o);
      const callOne = async (row: (typeof queue)[number], attempt: number) => {
        const contact: ContactFields = { name: row.name, phone: row.phone, email: row.email, document: row.document, custom: row.custom };
        try {
          const answer = await client.sendTemplate({
            phoneNumberId: channel.phone_number_id,
            to: row.phone,
            templateName: send.template_name,
            language: send.template_language,
            bodyParameters: resolveParameters(mapping, template.placeholders, template.parameter_format, contact),
            bizOpaqueCallbackData: messageKey(send.id, row.contact_id),
          });
          if (answer.ok) {
            result.accepted++;
            return record({ id: row.id, kind: 'accepted', wamid: answer.wamid, waId: answer.waId, messageStatus: answer.messageStatus });
          }
          const decision = classifyWhatsAppError(answer.code);
          const error = { code: answer.code, title: answer.title, details: answer.details };
          switch (decision.action) {
            case 'retry':
            case 'retry_recipient_later': {
              if (attempt >= maxAttempts) {
                result.failed++;
                return record({ id: row.id, kind: 'failed', ...error });
              }
              result.retry++;
              const base = decision.retryAfterMs ?? 1000;
              const exponential = decision.action === 'retry' && !decision.flatBackoff;
              const backoff = exponential ? Math.min(MAX_BACKOFF_MS, base * 2 ** (attempt - 1)) : base;
              const delayMs = Math.round(backoff * (1 + Math.random() * 0.2));
              // Back to `pending` first (it was not sent); a short wait is then spent in this page.
              record({ id: row.id, kind: 'retry', ...error, delayMs });
              if (delayMs <= INLINE_RETRY_MS) later.push({ row, due: Date.now() + delayMs });
              return;
            }
            case 'permanent':
              result.failed++;
              record({ id: row.id, kind: 'failed', ...error });
              // 131049: no send of this channel may try this user again for a while.
              if (decision.retryAfterMs)
                await blockRecipients(db, [{ messageId: row.id, forMs: decision.retryAfterMs, reason: decision.reason, code: answer.code }]);
              return;
            case 'permanent_opt_out':
              result.failed++;
              record({ id: row.id, kind: 'failed', ...error });
              await db
                .insertInto('phone_opt_outs')
                .values({ tenant_id: send.tenant_id, channel: 'whatsapp', phone: row.phone, source: 'whatsapp_131050', reason: answer.title })
                .onConflict((oc) => oc.doNothing())
                .execute();
              return;
            case 'pause_campaign':
            case 'stop_campaign': {
              const halt: Halt = { action: decision.action === 'pause_campaign' ? 'pause' : 'stop', reason: decision.reason };
              if (!result.halt || halt.action === 'stop') result.halt = halt;
              record({ id: row.id, kind: 'release', ...error });
              await setHalt(send.id, halt);
              return;
            }
          }
        } catch (error) {
          if (error instanceof WhatsAppTransportError && !error.maybeSent) {
            result.retry++;
            return record({ id: row.id, kind: 'retry', code: null, title: error.message, delayMs: 2000 });
          }
          // Maybe accepted: leave it `sending`; the status webhook (our key) or the timeout settles it.
          result.unsettled++;
        }
      };

      // Heartbeats go on while the last answers come in, so only a dead worker misses them.
      const beat = setInterval(() => ctx.heartbeat({ left: queue.length, inflight: inflight.size }), 1000);
      try {
        await sendQueue();
      } finally {
        clearInterval(beat);
        turns.set(page.sendId, page.fromSeq, false, wakeup.ring);
      }
      await recorder.flush();
      if (result.halt) result.interrupted = true;
      return result;

      async function sendQueue() {
        while ((queue.length > 0 || later.length > 0 || inflight.size > 0 || claims.size > 0 || returning.size > 0) && !result.halt && !result.limitedUntil) {
          if (claimFailure) throw claimFailure;
          if (ctx.cancellationSignal.aborted || deps.draining?.aborted) {
            result.interrupted = true;
            break;
          }
          if (Date.now() - checkedAt > 300) {
            checkedAt = Date.now();
            send = await loadSend(page.sendId);
            if (send.status !== 'running' || send.halt_action) {
              result.interrupted = true;
              result.halt ??= haltOf(send);
              break;
            }
          }
          if (later.some((l) => l.due <= Date.now())) {
            const now = Date.now();
            const due = later.filter((l) => l.due <= now);
            later.splice(0, later.length, ...later.filter((l) => l.due > now));
            // Their `pending` must be written before they are claimed again. Not awaited here: a
            // recorder write waiting on rows the webhook applier holds must not stop this page
            // (nor, while it holds the turn, the pages after it) from sending the others.
            const back: Promise<void> = recorder
              .flush()
              .then(() => {
                for (const d of due) queue.push(d.row);
              })
              .catch((error) => {
                claimFailure ??= error;
              })
              .finally(() => {
                returning.delete(back);
                wakeup.ring();
              });
            returning.add(back);
          }
          if (queue.length === 0) {
            // Only answers in flight or short retries left: wait for whichever comes first.
            const nextDue = later.length ? Math.max(1, Math.min(...later.map((l) => l.due)) - Date.now()) : 250;
            await wakeup.wait(Math.min(nextDue, 250));
            continue;
          }
          if (inflight.size + claiming >= concurrency) {
            await wakeup.wait();
            continue;
          }
          turns.set(page.sendId, page.fromSeq, true, wakeup.ring);
          if (!turns.isTurn(page.sendId, page.fromSeq)) {
            await wakeup.wait(250);
            continue;
          }
          const want = Math.min(queue.length, concurrency - inflight.size - claiming, pace.most);
          const grant = await limiter.acquire(pace.keys, want, pace.least, CLAIM_LEAD_MS);
          if (grant.granted === 0) {
            await sleep(Math.min(grant.waitMs, 250));
            continue;
          }
          dispatch(queue.splice(0, grant.granted), grant, Date.now() + grant.delayMs);
          if (queue.length === 0) turns.set(page.sendId, page.fromSeq, false, wakeup.ring);
        }
        await Promise.all(claims);
        await Promise.all(inflight);
        await Promise.all(returning);
        if (claimFailure) throw claimFailure;
      }

      /**
       * Records the intent (and the messaging-limit admission) for a batch that has its slots, then
       * calls when its slots are counted from (`callAt`, local clock); runs alongside the loop,
       * which only waits for it to count the batch as in flight.
       */
      function dispatch(batch: Row[], grant: Grant, callAt: number): void {
        claiming += batch.length;
        const claim: Promise<void> = (async () => {
          // Committed before any call: from here on a retry never sends these again.
          const { attempts, limitedUntil } = await claimBatch(db, batch, limit);
          if (callAt > Date.now()) await sleep(callAt - Date.now());
          // Late (recording took longer than the lead, or the timer fired late): the calls leave
          // now, and the window counts them from now. Not awaited (the calls need not wait for
          // bookkeeping of the next window); if it fails the grant keeps its earlier time, which
          // risks a 130429, nothing more.
          if (Date.now() - callAt > 1) limiter.restamp(pace.keys, grant, batch.length).catch(() => undefined);
          result.claimed += attempts.size;
          // Refused by the messaging limit: left `pending` for when capacity frees; this page ends.
          if (limitedUntil) result.limitedUntil = limitedUntil;
          for (const row of batch) {
            const attempt = attempts.get(Number(row.id));
            if (attempt === undefined) continue;
            const call: Promise<void> = callOne(row, attempt).finally(() => {
              inflight.delete(call);
              wakeup.ring();
            });
            inflight.add(call);
          }
        })()
          .catch((error) => {
            claimFailure ??= error;
          })
          .finally(() => {
            claiming -= batch.length;
            claims.delete(claim);
            wakeup.ring();
          });
        claims.add(claim);
      }
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
      // A finished send's own pace window is no longer needed (the number's window stays).
      if (input.last) await db.deleteFrom('rate_windows').where('key', '=', `send:${input.sendId}`).execute();
    },
  };
}

export type BroadcastSendActivities = ReturnType<typeof createBroadcastSendActivities>;
