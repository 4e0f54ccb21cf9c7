import { sql, type Kysely } from 'kysely';

/**
 * The ARI event journal (src/recorder.ts): every event of our dialer channels, written by an
 * always-on recorder so that a call's end outlives the worker that placed it. `event_key` makes a
 * re-delivered event (a reconnect, or two recorders side by side) a no-op. `ari_recorders` says
 * which stretch of time the journal covers: a recorder connected since `connected_since` has
 * written every event it received before `journaled_until`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE ari_events (
      id bigserial PRIMARY KEY,
      event_key text NOT NULL UNIQUE,
      channel_id text NOT NULL,
      type text NOT NULL,
      at timestamptz NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      payload jsonb NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX ari_events_channel ON ari_events (channel_id, id)`.execute(db);
  await sql`CREATE INDEX ari_events_received ON ari_events (received_at)`.execute(db);
  await sql`
    CREATE TABLE ari_recorders (
      recorder_id text PRIMARY KEY,
      app text NOT NULL,
      connected_since timestamptz,
      journaled_until timestamptz NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ari_recorders`.execute(db);
  await sql`DROP TABLE IF EXISTS ari_events`.execute(db);
}
