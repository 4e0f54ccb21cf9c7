import { sql, type Kysely } from 'kysely';

/**
 * Broadcast limits that outlive a single send: the channel's messaging-limit tier (unique users a
 * business may start conversations with in a rolling 24 h), the users counted in that window, and
 * recipients that must not be messaged for a while (131049, the per-user marketing cap).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('whatsapp_channels')
    .addColumn('messaging_limit_tier', 'text', (c) =>
      c.notNull().defaultTo('TIER_250').check(sql`messaging_limit_tier IN ('TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED')`),
    )
    .execute();

  /** Until when a waiting send expects to go on (e.g. when messaging-limit capacity frees). */
  await db.schema.alterTable('broadcast_sends').addColumn('status_until', 'timestamptz').execute();

  /** Users counted against a channel's messaging limit: counted while window_start is within 24 h. */
  await db.schema
    .createTable('whatsapp_limit_users')
    .addColumn('channel_id', 'uuid', (c) => c.notNull().references('whatsapp_channels.id').onDelete('cascade'))
    .addColumn('user_key', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('counted', 'boolean', (c) => c.notNull())
    .addPrimaryKeyConstraint('whatsapp_limit_users_pkey', ['channel_id', 'user_key'])
    .execute();
  await sql`CREATE INDEX whatsapp_limit_users_window_idx ON whatsapp_limit_users (channel_id, window_start) WHERE counted`.execute(db);

  /** The count of counted users per channel: its row lock serialises every worker's admissions. */
  await db.schema
    .createTable('whatsapp_limit_usage')
    .addColumn('channel_id', 'uuid', (c) => c.primaryKey().references('whatsapp_channels.id').onDelete('cascade'))
    .addColumn('used', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  /**
   * Admits users against the limit in one round trip: expires what left the window, lets through
   * users already in it (they do not count again) and new ones while there is room, in the order
   * given. Returns the admitted user keys and, when some were refused, when the oldest slot frees.
   */
  await sql`
    CREATE FUNCTION whatsapp_limit_admit(p_channel uuid, p_limit int, p_users text[], OUT admitted text[], OUT frees_at timestamptz)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_used int;
      v_expired int;
      v_new text[];
    BEGIN
      INSERT INTO whatsapp_limit_usage (channel_id, used) VALUES (p_channel, 0) ON CONFLICT DO NOTHING;
      SELECT used INTO v_used FROM whatsapp_limit_usage WHERE channel_id = p_channel FOR UPDATE;
      WITH gone AS (
        UPDATE whatsapp_limit_users SET counted = false
        WHERE channel_id = p_channel AND counted AND window_start <= now() - interval '24 hours' RETURNING 1
      ) SELECT count(*) INTO v_expired FROM gone;
      v_used := greatest(0, v_used - v_expired);
      SELECT coalesce(array_agg(u ORDER BY ord), '{}') INTO v_new FROM (
        SELECT DISTINCT ON (x.u) x.u, x.ord FROM unnest(p_users) WITH ORDINALITY AS x(u, ord)
        WHERE NOT EXISTS (SELECT 1 FROM whatsapp_limit_users w WHERE w.channel_id = p_channel AND w.user_key = x.u AND w.counted)
        ORDER BY x.u, x.ord
      ) fresh;
      v_new := v_new[1:greatest(0, p_limit - v_used)];
      INSERT INTO whatsapp_limit_users (channel_id, user_key, window_start, counted)
      SELECT p_channel, u, now(), true FROM unnest(v_new) u
      ON CONFLICT (channel_id, user_key) DO UPDATE SET window_start = now(), counted = true;
      UPDATE whatsapp_limit_usage SET used = v_used + cardinality(v_new) WHERE channel_id = p_channel;
      SELECT coalesce(array_agg(u), '{}') INTO admitted FROM unnest(p_users) u
      WHERE EXISTS (SELECT 1 FROM whatsapp_limit_users w WHERE w.channel_id = p_channel AND w.user_key = u AND w.counted);
      IF cardinality(admitted) < cardinality(p_users) THEN
        SELECT min(window_start) + interval '24 hours' INTO frees_at FROM whatsapp_limit_users WHERE channel_id = p_channel AND counted;
      END IF;
    END
    $fn$`.execute(db);

  /**
   * The pace buckets are taken hundreds of times a second under a row lock: unlogged, their commits
   * need no WAL flush, so the lock is held for microseconds. Their state is only a few ms of tokens;
   * after a database crash the table comes back empty and every page defines its buckets again.
   */
  await sql`ALTER TABLE rate_buckets SET UNLOGGED`.execute(db);

  /** Recipients no send of the channel may message before `until` (131049: Meta's per-user marketing cap). */
  await db.schema
    .createTable('whatsapp_recipient_blocks')
    .addColumn('channel_id', 'uuid', (c) => c.notNull().references('whatsapp_channels.id').onDelete('cascade'))
    .addColumn('phone_key', 'text', (c) => c.notNull())
    .addColumn('until', 'timestamptz', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('error_code', 'integer')
    .addColumn('send_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('whatsapp_recipient_blocks_pkey', ['channel_id', 'phone_key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('whatsapp_recipient_blocks').ifExists().execute();
  await sql`ALTER TABLE rate_buckets SET LOGGED`.execute(db);
  await sql`DROP FUNCTION IF EXISTS whatsapp_limit_admit(uuid, int, text[])`.execute(db);
  await db.schema.dropTable('whatsapp_limit_usage').ifExists().execute();
  await db.schema.dropTable('whatsapp_limit_users').ifExists().execute();
  await db.schema.alterTable('broadcast_sends').dropColumn('status_until').execute();
  await db.schema.alterTable('whatsapp_channels').dropColumn('messaging_limit_tier').execute();
}
