import { sql, type Kysely } from 'kysely';
import type { BroadcastSend, Database } from '../../db/schema';
import {
  buildMessage,
  MISSING_VARIABLE_SKIP_REASON,
  type BuiltMessage,
  type ContactFields,
  type MissingVariables,
  type VariableMapping,
} from '../../domain/broadcast';
import { USER_CAP_SKIP_REASON } from '../../domain/messaging-limits';
import type { BodyParameters } from '../../integrations/whatsapp/types';
import type { PageRef } from './send-activities';
import { blockedRecipients } from './recipient-blocks';

/** A due message of the page as read, with its contact's fields. */
export interface PageRow extends ContactFields {
  id: number;
  contact_id: number;
  phone_key: string;
  attempts: number;
}

/** A message that may go: its row and its body parameters, built once. */
export interface QueuedMessage {
  id: number;
  contact_id: number;
  phone: string;
  phone_key: string;
  parameters: BodyParameters;
}

export interface Screened {
  queue: QueuedMessage[];
  /** Skipped now, by reason. */
  skips: { reason: string; ids: number[] }[];
  /** Placeholders that had no value, per message (skipped for it, or sent with defaults). */
  noValue: { id: number; names: string[] }[];
}

/**
 * Which of a page's due messages may go, in order: not opted out (since the rows were prepared),
 * not capped by Meta for the channel, and with a message the send's missing-variable policy allows.
 * Pure: the reads are passed in.
 */
export function screenPage(rows: PageRow[], opted: ReadonlySet<string>, capped: ReadonlySet<string>, build: (row: PageRow) => BuiltMessage): Screened {
  const optOut: number[] = [];
  const cap: number[] = [];
  const missing: number[] = [];
  const noValue: { id: number; names: string[] }[] = [];
  const queue: QueuedMessage[] = [];
  for (const r of rows) {
    if (opted.has(r.phone) || opted.has(r.phone_key)) {
      optOut.push(r.id);
      continue;
    }
    if (capped.has(r.phone_key)) {
      cap.push(r.id);
      continue;
    }
    const built = build(r);
    const names = built.ok ? built.defaulted : built.missing;
    if (names.length) noValue.push({ id: r.id, names });
    if (!built.ok) {
      missing.push(r.id);
      continue;
    }
    queue.push({ id: r.id, contact_id: r.contact_id, phone: r.phone, phone_key: r.phone_key, parameters: built.parameters });
  }
  return {
    queue,
    skips: [
      { reason: 'opt_out', ids: optOut },
      { reason: USER_CAP_SKIP_REASON, ids: cap },
    ],
    noValue,
  };
}

/**
 * The page's claim: reads its due pending messages, skips those that may not go (writing the
 * reason, and which placeholders had no value) and answers the rest with their messages built.
 */
export async function claimPage(
  db: Kysely<Database>,
  send: BroadcastSend,
  template: { placeholders: string[]; parameter_format: string },
  page: PageRef,
): Promise<{ queue: QueuedMessage[]; skipped: number; read: number }> {
  const rows = (await db
    .selectFrom('broadcast_messages as m')
    .innerJoin('contacts as c', 'c.id', 'm.contact_id')
    .select(['m.id', 'm.contact_id', 'm.phone', 'm.phone_key', 'm.attempts', 'c.name', 'c.email', 'c.document', 'c.custom'])
    .where('m.send_id', '=', page.sendId)
    .where('m.seq', '>', page.fromSeq)
    .where('m.seq', '<=', page.toSeq)
    .where('m.state', '=', 'pending')
    .where((eb) => eb.or([eb('m.next_attempt_at', 'is', null), eb('m.next_attempt_at', '<=', sql<Date>`now()`)]))
    .orderBy('m.seq')
    .execute()) as PageRow[];
  if (rows.length === 0) return { queue: [], skipped: 0, read: 0 };

  // Opted out since the rows were prepared (a SAIR reply during the campaign)…
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
  // Capped by Meta (131049) in the last 24 h, by this send or another of the channel.
  const capped = await blockedRecipients(db, send.channel_id, [...new Set(rows.map((r) => r.phone_key))]);
  const mapping = send.variables as VariableMapping;
  const policy = send.missing_variables as MissingVariables;
  const screened = screenPage(rows, opted, capped, (r) => buildMessage(mapping, template.placeholders, template.parameter_format, r, policy));

  let skipped = 0;
  for (const { reason, ids } of screened.skips) {
    if (ids.length === 0) continue;
    const done = await db
      .updateTable('broadcast_messages')
      .set({ state: 'skipped', skip_reason: reason, skipped_at: new Date() })
      .where('id', 'in', ids)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    skipped += Number(done.numUpdatedRows);
  }
  const queued = new Set(screened.queue.map((q) => q.id));
  skipped += await markMissingVariables(db, screened.noValue, queued);
  return { queue: screened.queue, skipped, read: rows.length };
}

/**
 * Writes which placeholders had no value on each message; those not `queued` are skipped with
 * reason `missing_variable` (only while still pending). Answers how many were skipped.
 */
async function markMissingVariables(db: Kysely<Database>, rows: { id: number; names: string[] }[], queued: ReadonlySet<number>): Promise<number> {
  if (rows.length === 0) return 0;
  const { rows: done } = await sql<{ skipped: boolean }>`
    UPDATE broadcast_messages m SET missing_variables = ARRAY(SELECT jsonb_array_elements_text(u.names)),
      state = CASE WHEN u.skip THEN 'skipped' ELSE m.state END,
      skip_reason = CASE WHEN u.skip THEN ${MISSING_VARIABLE_SKIP_REASON} ELSE m.skip_reason END,
      skipped_at = CASE WHEN u.skip THEN now() ELSE m.skipped_at END
    FROM unnest(${rows.map((r) => r.id)}::bigint[], ${rows.map((r) => JSON.stringify(r.names))}::jsonb[], ${rows.map((r) => !queued.has(r.id))}::bool[])
      AS u(id, names, skip)
    WHERE m.id = u.id AND m.state = 'pending'
    RETURNING u.skip AS skipped`.execute(db);
  return done.filter((d) => d.skipped).length;
}
