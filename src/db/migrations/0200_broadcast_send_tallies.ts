import { sql, type Kysely } from 'kysely';

/**
 * The send monitor's counts without reading the send's messages (issue 17): counting a send by
 * state once a second read every message (72 ms for 60,000; seen in 161 of 1,014 rounds of
 * bench/pg-activity.py while three sends ran), and it grows with the send. Every statement that inserts, updates or deletes messages now appends what it moved
 * (statement-level triggers over the statement's transition tables), so every write path — the
 * claim, the recorder, the webhook applier, a wake, a skip, a stop — is counted, including ones added
 * later. Only append: no writer waits on another for a counter row. The monitor sums a send's rows and
 * folds the old ones into one row per key now and then (`foldSendTallies`).
 *
 * A row is one key (state; the error code and title of a failure; the reason of a skip; whether a
 * placeholder had no value) and how many messages entered it (negative: left it), plus `handed`:
 * messages this write saw accepted (or sent) for the first time, for the rate of the last seconds.
 * No foreign key: each insert would lock the send's row (KEY SHARE) from every writer at once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE broadcast_send_tallies (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      send_id uuid NOT NULL,
      state text NOT NULL,
      error_code int,
      error_title text,
      skip_reason text,
      missing boolean NOT NULL,
      n int NOT NULL,
      handed int NOT NULL DEFAULT 0,
      at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`.execute(db);
  await sql`CREATE INDEX broadcast_send_tallies_send_idx ON broadcast_send_tallies (send_id, at)`.execute(db);

  // The monitor's breakdown by placeholder reads only the messages that had an empty variable.
  await sql`CREATE INDEX broadcast_messages_missing_idx ON broadcast_messages (send_id) WHERE missing_variables IS NOT NULL`.execute(db);

  // The key of a message row, as the monitor groups it.
  const key = (r: string) =>
    sql.raw(
      `${r}.send_id, ${r}.state, CASE WHEN ${r}.state = 'failed' THEN ${r}.error_code END, CASE WHEN ${r}.state = 'failed' THEN ${r}.error_title END, ` +
        `CASE WHEN ${r}.state = 'skipped' THEN ${r}.skip_reason END, ${r}.missing_variables IS NOT NULL`,
    );
  const handed = (r: string) => sql.raw(`coalesce(${r}.accepted_at, ${r}.sent_at) IS NOT NULL`);
  const into = sql.raw('INSERT INTO broadcast_send_tallies (send_id, state, error_code, error_title, skip_reason, missing, n, handed)');
  await sql`
    CREATE FUNCTION broadcast_tallies_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      ${into}
      SELECT ${key('m')}, count(*), count(*) FILTER (WHERE ${handed('m')}) FROM new_rows m GROUP BY 1, 2, 3, 4, 5, 6;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE FUNCTION broadcast_tallies_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      ${into}
      SELECT d.send_id, d.state, d.code, d.title, d.reason, d.missing, sum(d.n), sum(d.h)
      FROM (
        SELECT ${key('o')}, ${key('m')}, (${key('o')}) IS DISTINCT FROM (${key('m')}), NOT (${handed('o')}) AND ${handed('m')}
        FROM old_rows o JOIN new_rows m ON m.id = o.id
      ) AS p(o_send, o_state, o_code, o_title, o_reason, o_missing, send_id, state, code, title, reason, missing, moved, handed)
      -- A message that moved leaves its old key (-1) and enters its new one (+1); one handed over only counts there.
      CROSS JOIN LATERAL (
        SELECT p.o_send, p.o_state, p.o_code, p.o_title, p.o_reason, p.o_missing, -1, 0 WHERE p.moved
        UNION ALL
        SELECT p.send_id, p.state, p.code, p.title, p.reason, p.missing, p.moved::int, p.handed::int
      ) AS d(send_id, state, code, title, reason, missing, n, h)
      GROUP BY 1, 2, 3, 4, 5, 6
      HAVING sum(d.n) <> 0 OR sum(d.h) <> 0;
      RETURN NULL;
    END $$`.execute(db);
  // A send's own deletion takes its messages with it (cascade): its tallies go too, none is added.
  await sql`
    CREATE FUNCTION broadcast_tallies_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      ${into}
      SELECT ${key('m')}, -count(*), 0 FROM old_rows m
      WHERE EXISTS (SELECT 1 FROM broadcast_sends s WHERE s.id = m.send_id) GROUP BY 1, 2, 3, 4, 5, 6;
      DELETE FROM broadcast_send_tallies t WHERE t.send_id IN (SELECT DISTINCT send_id FROM old_rows)
        AND NOT EXISTS (SELECT 1 FROM broadcast_sends s WHERE s.id = t.send_id);
      RETURN NULL;
    END $$`.execute(db);
  await sql`CREATE TRIGGER broadcast_tallies_inserted AFTER INSERT ON broadcast_messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION broadcast_tallies_inserted()`.execute(db);
  await sql`CREATE TRIGGER broadcast_tallies_updated AFTER UPDATE ON broadcast_messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION broadcast_tallies_updated()`.execute(db);
  await sql`CREATE TRIGGER broadcast_tallies_deleted AFTER DELETE ON broadcast_messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION broadcast_tallies_deleted()`.execute(db);
  // The sends that exist already: counted once, in this transaction, while the triggers' lock on the
  // table holds every writer back (no write falls between the count and the triggers).
  await sql`
    ${into}
    SELECT ${key('m')}, count(*), 0 FROM broadcast_messages m GROUP BY 1, 2, 3, 4, 5, 6`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS broadcast_tallies_inserted ON broadcast_messages`.execute(db);
  await sql`DROP TRIGGER IF EXISTS broadcast_tallies_updated ON broadcast_messages`.execute(db);
  await sql`DROP TRIGGER IF EXISTS broadcast_tallies_deleted ON broadcast_messages`.execute(db);
  await sql`DROP FUNCTION IF EXISTS broadcast_tallies_inserted(), broadcast_tallies_updated(), broadcast_tallies_deleted()`.execute(db);
  await sql`DROP TABLE IF EXISTS broadcast_send_tallies`.execute(db);
  await sql`DROP INDEX IF EXISTS broadcast_messages_missing_idx`.execute(db);
}
