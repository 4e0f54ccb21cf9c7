import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema';

/**
 * Recipients a channel must leave alone for a while: Meta's per-user marketing cap (131049) says
 * not to try that user again within 24 h, whichever send would do it.
 */

/** The phone keys among `keys` that the channel may not message now. */
export async function blockedRecipients(db: Kysely<Database>, channelId: string, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .selectFrom('whatsapp_recipient_blocks')
    .select('phone_key')
    .where('channel_id', '=', channelId)
    .where('phone_key', 'in', keys)
    .where('until', '>', sql<Date>`now()`)
    .execute();
  return new Set(rows.map((r) => r.phone_key));
}

export interface RecipientBlock {
  /** The message whose answer asked for it: its send gives the channel, its phone_key the user. */
  messageId: number;
  forMs: number;
  reason: string;
  code: number;
}

/** Blocks the recipients of these messages on their sends' channels (a later block never shortens one). */
export async function blockRecipients(db: Kysely<Database>, blocks: RecipientBlock[]): Promise<void> {
  if (blocks.length === 0) return;
  await sql`
    INSERT INTO whatsapp_recipient_blocks (channel_id, phone_key, until, reason, error_code, send_id)
    SELECT DISTINCT ON (s.channel_id, m.phone_key) s.channel_id, m.phone_key, now() + b.ms * interval '1 millisecond', b.reason, b.code, s.id
    FROM unnest(${blocks.map((b) => b.messageId)}::bigint[], ${blocks.map((b) => b.forMs)}::bigint[],
      ${blocks.map((b) => b.reason)}::text[], ${blocks.map((b) => b.code)}::int[])
      AS b(id, ms, reason, code)
    JOIN broadcast_messages m ON m.id = b.id
    JOIN broadcast_sends s ON s.id = m.send_id
    ORDER BY s.channel_id, m.phone_key, b.ms DESC
    ON CONFLICT (channel_id, phone_key) DO UPDATE
      SET until = GREATEST(whatsapp_recipient_blocks.until, excluded.until), reason = excluded.reason,
          error_code = excluded.error_code, send_id = excluded.send_id`.execute(db);
}
