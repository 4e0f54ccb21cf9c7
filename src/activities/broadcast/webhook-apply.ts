import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { sql, type Kysely, type Transaction } from 'kysely';
import { recordWrittenMessageInteractions } from '../../db/interaction-sources';
import { recordInteractions, type InteractionInput } from '../../db/interactions';
import type { Database, MessageState } from '../../db/schema';
import { canonicalWhatsAppNumber, parseMessageKey } from '../../domain/broadcast';
import { withoutNinthDigit } from '../../domain/phone';
import { classifyWhatsAppError, isOptOutReply, nextStatus, type WhatsAppMessageStatus } from '../../domain/whatsapp-error-policy';
import { parseWebhook, type InboundMessage, type StatusEvent } from '../../integrations/whatsapp/webhook';
import { blockRecipients, type RecipientBlock } from './recipient-blocks';
import { retryOnDeadlock } from './recorder';
import { deliverSendHalts, haltSendsForTemplate, type SendHalt } from '../../db/template-halts';
import { templateStatusOf } from '../../domain/template-halt';

export interface WebhookApplyDeps {
  db: Kysely<Database>;
  /** The worker's orderly stop: the applier returns between batches (its workflow calls it again on the next worker). */
  draining?: AbortSignal;
}

export interface ApplyResult {
  events: number;
  statuses: number;
  orphansApplied: number;
  optOuts: number;
}

type Trx = Transaction<Database>;
const ORPHAN_MAX_AGE_MS = 7 * 86_400_000;
/** Applied webhook payloads are kept this long (for support), then deleted in small batches. */
const APPLIED_KEEP_DAYS = 7;
const toStatus = (state: MessageState): WhatsAppMessageStatus | undefined =>
  state === 'accepted' || state === 'sent' || state === 'delivered' || state === 'read' || state === 'failed' ? state : undefined;

/** Timestamps go to PostgreSQL as epoch milliseconds: node-postgres formats a Date in an array parameter slowly. */
const ms = (d: Date | undefined) => d?.getTime() ?? null;

interface Target {
  id: number;
  send_id: string;
  contact_id: number;
  wamid: string | null;
  state: MessageState;
  phone_key: string;
}

/** Messages of the channel's sends only (a webhook of channel X never touches channel Y's messages); no channel: the tenant's. */
const ofChannel = (alias: string, channelId: string | null) =>
  channelId === null ? sql`TRUE` : sql`EXISTS (SELECT 1 FROM broadcast_sends s WHERE s.id = ${sql.ref(`${alias}.send_id`)} AND s.channel_id = ${channelId})`;

/**
 * Applies status events of one channel (of one tenant) to their messages: matched by our key (biz_opaque_callback_data),
 * then by wamid, then — for a message still `sending`/`unknown` with no wamid — by the recipient
 * with or without the ninth digit when exactly one message fits. Statuses only move forward;
 * each status keeps its first timestamp. Returns the indexes of events with no message yet.
 */
export async function applyStatuses(
  trx: Trx,
  tenantId: string,
  channelId: string | null,
  events: StatusEvent[],
): Promise<{ unmatched: number[]; optOuts: number }> {
  if (events.length === 0) return { unmatched: [], optOuts: 0 };
  const keys = events.map((e) => parseMessageKey(e.bizOpaqueCallbackData));
  // Sorted by send and contact, which within a send is the rows' id order (the order the recorder
  // locks in), so the two seldom wait on each other; a deadlock across sends is retried.
  const keyed = keys
    .filter((k): k is NonNullable<typeof k> => k !== undefined)
    .sort((a, b) => (a.sendId === b.sendId ? a.contactId - b.contactId : a.sendId < b.sendId ? -1 : 1));
  // By our key first: one probe of its unique index per event (LATERAL keeps the planner from
  // scanning the tenant's whole history), whatever the table's size or statistics.
  const { rows } = await sql<Target>`
    SELECT m.id, m.send_id, m.contact_id, m.wamid, m.state, m.phone_key
    FROM unnest(${keyed.map((k) => k.sendId)}::uuid[], ${keyed.map((k) => k.contactId)}::bigint[]) AS k(send_id, contact_id)
    CROSS JOIN LATERAL (
      SELECT b.id, b.send_id, b.contact_id, b.wamid, b.state, b.phone_key FROM broadcast_messages b
      WHERE b.send_id = k.send_id AND b.contact_id = k.contact_id AND b.tenant_id = ${tenantId} AND ${ofChannel('b', channelId)}
      LIMIT 1 FOR UPDATE
    ) m`.execute(trx);
  const byKey = new Map(rows.map((r) => [`${r.send_id}:${r.contact_id}`, r]));
  const found: (Target | undefined)[] = keys.map((k) => (k ? byKey.get(`${k.sendId}:${k.contactId}`) : undefined));
  // Then by wamid, for events without our key (or with a key of no message of this tenant).
  const wamids = [...new Set(events.filter((_, i) => !found[i]).map((e) => e.wamid))];
  const byWamid = new Map<string, Target>();
  if (wamids.length > 0) {
    const byId = await sql<Target>`
      SELECT id, send_id, contact_id, wamid, state, phone_key FROM broadcast_messages m
      WHERE wamid = ANY(${wamids}::text[]) AND tenant_id = ${tenantId} AND ${ofChannel('m', channelId)}
      ORDER BY id FOR UPDATE`.execute(trx);
    for (const r of byId.rows) byWamid.set(r.wamid!, r);
  }

  const targets: (Target | undefined)[] = events.map((e, i) => found[i] || byWamid.get(e.wamid));
  // Last resort: the recipient, for a message whose answer (wamid) we never recorded.
  const loose = events.map((e, i) => (targets[i] || e.bizOpaqueCallbackData ? undefined : withoutNinthDigit(e.recipientId))).filter((k): k is string => !!k);
  if (loose.length > 0) {
    const candidates = await sql<Target>`
      SELECT id, send_id, contact_id, wamid, state, phone_key FROM broadcast_messages m
      WHERE tenant_id = ${tenantId} AND ${ofChannel('m', channelId)}
        AND phone_key = ANY(${[...new Set(loose)]}::text[]) AND wamid IS NULL AND state IN ('sending', 'unknown')
      ORDER BY id FOR UPDATE`.execute(trx);
    const byPhone = new Map<string, Target[]>();
    for (const c of candidates.rows) byPhone.set(c.phone_key, [...(byPhone.get(c.phone_key) ?? []), c]);
    events.forEach((e, i) => {
      if (targets[i] || e.bizOpaqueCallbackData) return;
      const fits = byPhone.get(withoutNinthDigit(e.recipientId));
      if (fits?.length === 1) targets[i] = fits[0];
    });
  }

  interface Change {
    state: WhatsAppMessageStatus | undefined;
    original: MessageState;
    wamid: string;
    waId: string;
    at: Partial<Record<WhatsAppMessageStatus, Date>>;
    error?: { code: number; title?: string; details?: string };
  }
  const changes = new Map<number, Change>();
  const unmatched: number[] = [];
  let optOuts = 0;
  const halts: { sendId: string; action: 'pause' | 'stop'; reason: string }[] = [];
  const optOutPhones: { phone: string; reason: string }[] = [];
  const blocks: RecipientBlock[] = [];
  events.forEach((e, i) => {
    const t = targets[i];
    if (!t) return void unmatched.push(i);
    const change = changes.get(t.id) ?? { state: toStatus(t.state), original: t.state, wamid: e.wamid, waId: e.recipientId, at: {} };
    change.state = nextStatus(change.state, e.status);
    const seen = change.at[e.status];
    if (!seen || e.timestamp < seen) change.at[e.status] = e.timestamp;
    if (e.status === 'failed' && e.errors?.[0]) {
      const err = e.errors[0];
      change.error = { code: err.code, title: err.title ?? err.message, details: err.details };
      const decision = classifyWhatsAppError(err.code);
      if (decision.action === 'permanent' && decision.retryAfterMs)
        blocks.push({ messageId: t.id, forMs: decision.retryAfterMs, reason: decision.reason, code: err.code });
      if (decision.action === 'permanent_opt_out')
        optOutPhones.push({ phone: canonicalWhatsAppNumber(e.recipientId), reason: err.title ?? 'user stopped marketing messages' });
      if (decision.action === 'pause_campaign' || decision.action === 'stop_campaign') {
        halts.push({ sendId: t.send_id, action: decision.action === 'pause_campaign' ? 'pause' : 'stop', reason: decision.reason });
      }
    }
    changes.set(t.id, change);
  });

  if (changes.size > 0) {
    const list = [...changes.entries()].sort((a, b) => a[0] - b[0]);
    const col = <T>(f: (c: Change, id: number) => T) => list.map(([id, c]) => f(c, id));
    // The messages and their interactions in one statement (from the rows as written).
    await recordWrittenMessageInteractions(
      trx,
      sql`WITH written AS (
      UPDATE broadcast_messages m SET
        state = coalesce(v.state, m.state),
        wamid = coalesce(m.wamid, v.wamid),
        wa_id = coalesce(m.wa_id, v.wa_id),
        sent_at = LEAST(m.sent_at, to_timestamp(v.sent_ms / 1000)),
        delivered_at = LEAST(m.delivered_at, to_timestamp(v.delivered_ms / 1000)),
        read_at = LEAST(m.read_at, to_timestamp(v.read_ms / 1000)),
        failed_at = CASE WHEN v.state = 'failed' THEN LEAST(m.failed_at, to_timestamp(v.failed_ms / 1000)) ELSE m.failed_at END,
        error_code = CASE WHEN v.state = 'failed' THEN coalesce(v.code, m.error_code)
          WHEN v.state IN ('sent', 'delivered', 'read') THEN NULL ELSE m.error_code END,
        error_title = CASE WHEN v.state = 'failed' THEN coalesce(v.title, m.error_title)
          WHEN v.state IN ('sent', 'delivered', 'read') THEN NULL ELSE m.error_title END,
        error_details = CASE WHEN v.state = 'failed' THEN coalesce(v.details, m.error_details)
          WHEN v.state IN ('sent', 'delivered', 'read') THEN NULL ELSE m.error_details END
      FROM unnest(
        ${col((_, id) => id)}::bigint[], ${col((c) => c.state ?? null)}::text[], ${col((c) => c.wamid)}::text[], ${col((c) => c.waId)}::text[],
        ${col((c) => ms(c.at.sent))}::float8[], ${col((c) => ms(c.at.delivered))}::float8[],
        ${col((c) => ms(c.at.read))}::float8[], ${col((c) => ms(c.at.failed))}::float8[],
        ${col((c) => c.error?.code ?? null)}::int[], ${col((c) => c.error?.title ?? null)}::text[], ${col((c) => c.error?.details ?? null)}::text[]
      ) AS v(id, state, wamid, wa_id, sent_ms, delivered_ms, read_ms, failed_ms, code, title, details)
      WHERE m.id = v.id
      RETURNING m.*)`,
      sql`written`,
    );
  }
  await blockRecipients(trx, blocks);
  for (const o of optOutPhones) optOuts += await addOptOut(trx, tenantId, o.phone, 'whatsapp_131050', o.reason);
  for (const h of halts) {
    await trx
      .updateTable('broadcast_sends')
      .set({ halt_action: h.action, halt_reason: h.reason })
      .where('id', '=', h.sendId)
      .where('status', 'in', ['running', 'waiting', 'scheduled'])
      .where(sql<boolean>`halt_action IS NULL OR (halt_action = 'pause' AND ${h.action}::text = 'stop')`)
      .execute();
  }
  return { unmatched, optOuts };
}

/** Puts a number on the tenant's WhatsApp opt-out list and flags the company contacts that have it. */
async function addOptOut(trx: Trx, tenantId: string, phone: string, source: string, reason: string): Promise<number> {
  const added = await trx
    .insertInto('phone_opt_outs')
    .values({ tenant_id: tenantId, channel: 'whatsapp', phone, source, reason })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  await trx
    .updateTable('company_contacts')
    .set({ opt_out_whatsapp: true, updated_at: new Date() })
    .where('tenant_id', '=', tenantId)
    .where(sql<boolean>`phones && ${[phone, withoutNinthDigit(phone)]}::text[]`)
    .where('opt_out_whatsapp', '=', false)
    .execute();
  return Number(added.numInsertedOrUpdatedRows ?? 0n);
}

async function applyInbound(trx: Trx, tenantId: string, messages: InboundMessage[]): Promise<number> {
  let added = 0;
  for (const m of messages) {
    if (!isOptOutReply(m.text)) continue;
    added += await addOptOut(trx, tenantId, canonicalWhatsAppNumber(m.waId), 'whatsapp_reply', `Resposta "${(m.text ?? '').slice(0, 60)}"`);
  }
  await recordInteractions(
    trx,
    messages.map((m) => replyInteraction(tenantId, m)),
  );
  return added;
}

/** A reply is an inbound interaction of its own (keyed by its wamid); an opt-out word makes it `opt_out`. */
function replyInteraction(tenantId: string, m: InboundMessage): InteractionInput {
  const optOut = isOptOutReply(m.text);
  return {
    tenantId,
    channel: 'whatsapp',
    direction: 'inbound',
    kind: 'reply',
    sourceKey: m.id,
    phone: canonicalWhatsAppNumber(m.waId),
    startedAt: m.timestamp,
    endedAt: m.timestamp,
    outcome: optOut ? 'opt_out' : 'received',
    handledBy: { kind: 'system' },
    details: { type: m.type, text: m.text ?? null, profileName: m.profileName ?? null, inReplyTo: m.contextWamid ?? null },
    events: [{ type: 'received', key: 'received', at: m.timestamp }, ...(optOut ? [{ type: 'opt_out', key: 'opt_out', at: m.timestamp }] : [])],
  };
}

/**
 * `message_template_status_update` changes (Meta tells us a template was paused, disabled,
 * approved again…): the template's status is updated, and sends using it are paused (PAUSED) or
 * stopped (DISABLED, gone) with the reason; their workflows adopt it.
 */
async function applyTemplateUpdates(trx: Trx, channelId: string, payload: unknown): Promise<SendHalt[]> {
  const entries = (payload as { entry?: { changes?: { field?: string; value?: Record<string, unknown> }[] }[] })?.entry ?? [];
  const halts: SendHalt[] = [];
  for (const change of entries.flatMap((e) => e.changes ?? [])) {
    if (change.field !== 'message_template_status_update' || !change.value) continue;
    const { event, message_template_name: name, message_template_language: language } = change.value as Record<string, string | undefined>;
    if (!event || !name) continue;
    const status = templateStatusOf(event);
    let update = trx.updateTable('whatsapp_templates').set({ status, synced_at: new Date() }).where('channel_id', '=', channelId).where('name', '=', name);
    if (language) update = update.where('language', '=', language);
    await update.execute();
    halts.push(...(await haltSendsForTemplate(trx, channelId, { name, language, status })));
  }
  return halts;
}

interface StoredEvent extends Omit<StatusEvent, 'timestamp'> {
  timestamp: string;
}
const revive = (e: StoredEvent): StatusEvent => ({ ...e, timestamp: new Date(e.timestamp) });

/**
 * The worker side of the webhooks: takes stored POSTs in order (SKIP LOCKED, so several appliers
 * can share the work), applies their statuses and opt-out replies in one transaction per batch,
 * keeps events with no message yet as orphans and retries them.
 */
export function createWebhookActivities({ db, draining }: WebhookApplyDeps) {
  async function applyBatch(limit: number): Promise<ApplyResult & { halts: SendHalt[] }> {
    return retryOnDeadlock(() =>
      db.transaction().execute(async (trx) => {
        const events = await trx
          .selectFrom('webhook_events')
          .select(['id', 'tenant_id', 'channel_id', 'payload'])
          .where('applied_at', 'is', null)
          .orderBy('id')
          .limit(limit)
          .forUpdate()
          .skipLocked()
          .execute();
        const result: ApplyResult & { halts: SendHalt[] } = { events: events.length, statuses: 0, orphansApplied: 0, optOuts: 0, halts: [] };
        if (events.length === 0) return result;
        // By channel: a payload signed with channel X's secret applies to X's messages only.
        const byChannel = new Map<string, { tenantId: string; channelId: string; statuses: StatusEvent[]; messages: InboundMessage[] }>();
        const counts = new Map<number, number>();
        const errors = new Map<number, string>();
        for (const e of events) {
          try {
            const parsed = parseWebhook(e.payload);
            const bucket = byChannel.get(e.channel_id) ?? { tenantId: e.tenant_id, channelId: e.channel_id, statuses: [], messages: [] };
            bucket.statuses.push(...parsed.statuses);
            bucket.messages.push(...parsed.messages);
            byChannel.set(e.channel_id, bucket);
            counts.set(e.id, parsed.statuses.length);
            result.halts.push(...(await applyTemplateUpdates(trx, e.channel_id, e.payload)));
          } catch (error) {
            errors.set(e.id, String((error as Error).message).slice(0, 500));
          }
        }
        for (const { tenantId, channelId, statuses, messages } of byChannel.values()) {
          const { unmatched, optOuts } = await applyStatuses(trx, tenantId, channelId, statuses);
          result.statuses += statuses.length;
          result.optOuts += optOuts + (await applyInbound(trx, tenantId, messages));
          if (unmatched.length > 0) {
            await trx
              .insertInto('webhook_orphan_statuses')
              .values(unmatched.map((i) => ({ tenant_id: tenantId, channel_id: channelId, event: JSON.stringify(statuses[i]) })))
              .execute();
          }
        }
        await sql`
          UPDATE webhook_events w SET applied_at = now(), statuses = v.n, error = v.err
          FROM unnest(${events.map((e) => e.id)}::bigint[], ${events.map((e) => counts.get(e.id) ?? 0)}::int[],
                      ${events.map((e) => errors.get(e.id) ?? null)}::text[]) AS v(id, n, err)
          WHERE w.id = v.id`.execute(trx);
        return result;
      }),
    );
  }

  async function retryOrphans(limit: number): Promise<number> {
    return retryOnDeadlock(() =>
      db.transaction().execute(async (trx) => {
        const orphans = await trx
          .selectFrom('webhook_orphan_statuses')
          .select(['id', 'tenant_id', 'channel_id', 'event', 'received_at'])
          .orderBy('id')
          .limit(limit)
          .forUpdate()
          .skipLocked()
          .execute();
        if (orphans.length === 0) return 0;
        const done: number[] = [];
        const kept: number[] = [];
        const byChannel = new Map<string, typeof orphans>();
        for (const o of orphans) byChannel.set(`${o.tenant_id}:${o.channel_id}`, [...(byChannel.get(`${o.tenant_id}:${o.channel_id}`) ?? []), o]);
        for (const list of byChannel.values()) {
          const { unmatched } = await applyStatuses(
            trx,
            list[0].tenant_id,
            list[0].channel_id,
            list.map((o) => revive(o.event as StoredEvent)),
          );
          const still = new Set(unmatched);
          list.forEach((o, i) => {
            const expired = Date.now() - new Date(o.received_at).getTime() > ORPHAN_MAX_AGE_MS;
            (still.has(i) && !expired ? kept : done).push(o.id);
          });
        }
        if (done.length) await trx.deleteFrom('webhook_orphan_statuses').where('id', 'in', done).execute();
        if (kept.length) await trx.updateTable('webhook_orphan_statuses').set({ tries: sql`tries + 1` }).where('id', 'in', kept).execute();
        return done.length;
      }),
    );
  }

  return {
    /**
     * Applies stored webhooks for up to `maxMs`, then returns (the workflow calls it again). Idle,
     * it looks for new events every `idleMs`; orphans are retried every `orphanEveryMs`.
     */
    async applyWebhookEvents(input: { maxMs: number; batch?: number; idleMs?: number; orphanEveryMs?: number }): Promise<ApplyResult> {
      const ctx = Context.current();
      const total: ApplyResult = { events: 0, statuses: 0, orphansApplied: 0, optOuts: 0 };
      const until = Date.now() + input.maxMs;
      let orphansAt = 0;
      let prunedAt = 0;
      while (Date.now() < until && !ctx.cancellationSignal.aborted && !draining?.aborted) {
        const r = await applyBatch(input.batch ?? 20);
        // Committed: now tell the sends whose template changed (the same delivery as the manual sync).
        if (r.halts.length > 0) {
          for (const u of await deliverSendHalts(ctx.client, r.halts))
            ctx.log.error('a send could not be told of its template status', { sendId: u.id, action: u.action, error: u.error });
        }
        total.events += r.events;
        total.statuses += r.statuses;
        total.optOuts += r.optOuts;
        if (Date.now() - orphansAt > (input.orphanEveryMs ?? 500)) {
          orphansAt = Date.now();
          total.orphansApplied += await retryOrphans(2000);
        }
        if (r.events === 0 && Date.now() - prunedAt > 60_000) {
          prunedAt = Date.now();
          await sql`DELETE FROM webhook_events WHERE id IN (
            SELECT id FROM webhook_events WHERE applied_at < now() - ${APPLIED_KEEP_DAYS} * interval '1 day' ORDER BY id LIMIT 5000)`.execute(db);
        }
        ctx.heartbeat(total);
        if (r.events === 0) await sleep(input.idleMs ?? 100);
      }
      return total;
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
