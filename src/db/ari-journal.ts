import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema';

/**
 * The ARI event journal: the recorder writes it (src/recorder.ts), a dialing lane reads it to
 * settle a call whose end it did not see (a dead worker's call, or one whose hangup went by while
 * its WebSocket was down).
 */

export interface JournalEvent {
  key: string;
  channelId: string;
  type: string;
  at: Date;
  payload: Record<string, unknown>;
}

/**
 * An event's identity: everything Asterisk said except which application it was delivered to, so
 * the same event seen twice (a reconnect, two recorders side by side) has one key.
 */
export function journalEventKey(event: Record<string, unknown>): string {
  const { application: _app, ...rest } = event;
  return createHash('sha1').update(JSON.stringify(rest)).digest('base64url');
}

export async function writeJournal(
  db: Kysely<Database>,
  events: JournalEvent[],
  recorder: { id: string; app: string; connectedSince: Date | null; journaledUntil: Date },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (events.length) {
      await sql`
        INSERT INTO ari_events (event_key, channel_id, type, at, payload)
        SELECT * FROM unnest(${events.map((e) => e.key)}::text[], ${events.map((e) => e.channelId)}::text[], ${events.map((e) => e.type)}::text[],
                             ${events.map((e) => e.at.toISOString())}::timestamptz[], ${events.map((e) => JSON.stringify(e.payload))}::jsonb[])
        ON CONFLICT (event_key) DO NOTHING`.execute(trx);
    }
    await trx
      .insertInto('ari_recorders')
      .values({ recorder_id: recorder.id, app: recorder.app, connected_since: recorder.connectedSince, journaled_until: recorder.journaledUntil })
      .onConflict((oc) =>
        oc.column('recorder_id').doUpdateSet({ connected_since: recorder.connectedSince, journaled_until: recorder.journaledUntil, updated_at: sql`now()` }),
      )
      .execute();
  });
}

/** Whether some recorder was listening the whole time from `from` and has written what it heard until `until`. */
export async function journalCovers(db: Kysely<Database>, from: Date, until: Date): Promise<boolean> {
  const row = await db
    .selectFrom('ari_recorders')
    .select('recorder_id')
    .where('connected_since', '<=', from)
    .where('journaled_until', '>=', until)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** What the journal knows about one channel. */
export interface JournaledCall {
  /** Any event at all: Asterisk created the channel. */
  placed: boolean;
  createdAt: Date | undefined;
  answeredAt: Date | undefined;
  destroyed: { cause: number; causeTxt: string; at: Date } | undefined;
  amdStatus: string | undefined;
}

export async function journaledCall(db: Kysely<Database>, channelId: string): Promise<JournaledCall> {
  const rows = await db.selectFrom('ari_events').select(['type', 'at', 'payload']).where('channel_id', '=', channelId).orderBy('id').execute();
  const call: JournaledCall = { placed: rows.length > 0, createdAt: undefined, answeredAt: undefined, destroyed: undefined, amdStatus: undefined };
  for (const row of rows) {
    const payload = row.payload as {
      channel?: { state?: string; creationtime?: string };
      cause?: number;
      cause_txt?: string;
      variable?: string;
      value?: string;
    };
    const at = new Date(row.at);
    if (payload.channel?.creationtime && !call.createdAt) {
      const created = new Date(payload.channel.creationtime.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
      if (!Number.isNaN(created.getTime())) call.createdAt = created;
    }
    if (payload.channel?.state === 'Up' && !call.answeredAt && row.type !== 'ChannelDestroyed') call.answeredAt = at;
    if (row.type === 'ChannelVarset' && payload.variable === 'AMDSTATUS' && payload.value) call.amdStatus = payload.value;
    if (row.type === 'ChannelDestroyed') call.destroyed = { cause: Number(payload.cause ?? 0), causeTxt: String(payload.cause_txt ?? ''), at };
  }
  return call;
}

/** Drops events older than `before` (the journal is for settling calls, not an archive). */
export async function purgeJournal(db: Kysely<Database>, before: Date): Promise<number> {
  const res = await db.deleteFrom('ari_events').where('received_at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows ?? 0);
}
