import { sql, type Kysely } from 'kysely';

/**
 * The pace of a number (and of a send) as Meta counts it: at most `max_count` messages in any
 * window of `window_ms`, a log of the grants still in the window instead of a token bucket. A
 * bucket at the limit with a small burst cannot use the window fully (it starts with one burst,
 * and every slot a refused or late call wastes is lost for good); the log grants exactly what the
 * window has room for, a whole window at the start, and again each time old grants leave it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rate_buckets').execute();
  await db.schema
    .createTable('rate_windows')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('max_count', 'integer', (c) => c.notNull().check(sql`max_count > 0`))
    .addColumn('window_ms', 'integer', (c) => c.notNull().check(sql`window_ms > 0`))
    /** When each grant still in the window is counted from (epoch ms, in order), and its size. */
    .addColumn('grant_times', sql`bigint[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('grant_sizes', sql`integer[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .execute();
  // Taken hundreds of times a second under a row lock: unlogged commits need no WAL flush. After a
  // database crash the table is empty and every page defines its windows again.
  await sql`ALTER TABLE rate_windows SET UNLOGGED`.execute(db);

  /**
   * The earliest time from `p_from` on at which a window has room for `p_count` more, and not
   * before its last grant (grants stay in time order, so a new one only has to fit the window
   * that ends with it). Past `p_from + window` when it never has that much room.
   */
  await sql`
    CREATE FUNCTION rate_window_free_at(p_max int, p_window int, p_times bigint[], p_sizes int[], p_count int, p_from bigint)
    RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $fn$
    DECLARE
      v_room int := p_max;
      v_last bigint := coalesce(p_times[cardinality(p_times)], p_from);
    BEGIN
      FOR i IN 1 .. cardinality(p_times) LOOP
        IF p_times[i] > p_from - p_window THEN
          v_room := v_room - p_sizes[i];
        END IF;
      END LOOP;
      IF v_room >= p_count THEN
        RETURN greatest(p_from, v_last);
      END IF;
      FOR i IN 1 .. cardinality(p_times) LOOP
        IF p_times[i] > p_from - p_window THEN
          v_room := v_room + p_sizes[i];
          IF v_room >= p_count THEN
            RETURN greatest(p_times[i] + p_window, v_last);
          END IF;
        END IF;
      END LOOP;
      RETURN p_from + p_window + 1;
    END
    $fn$`.execute(db);

  /**
   * Takes up to `p_want` slots from every window at once, or none unless at least `p_least` can be
   * had, in one round trip; the rows are locked in key order, so workers taking the same windows
   * queue instead of deadlocking. Slots that free within `p_lead_ms` can be taken ahead: the grant
   * is then counted from when they free (`stamp`, `delay_ms` from now), and the caller records its
   * intent meanwhile and calls at that time, so the time that recording takes is not lost from
   * every window. With nothing granted, `wait_ms` says when to ask again. `windows` counts the
   * windows found.
   */
  await sql`
    CREATE FUNCTION rate_windows_take(p_keys text[], p_want int, p_least int, p_lead_ms int,
      OUT granted int, OUT wait_ms int, OUT delay_ms int, OUT stamp bigint, OUT windows int)
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_now bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
      v_horizon bigint := v_now + greatest(0, p_lead_ms);
      v_need int := greatest(1, least(p_least, p_want));
      v_at bigint := v_now;
      w record;
    BEGIN
      granted := greatest(1, p_want);
      wait_ms := 0;
      delay_ms := 0;
      stamp := v_now;
      windows := 0;
      -- What every window has room for by the horizon, and when it has room for that much.
      FOR w IN SELECT key, max_count, window_ms, grant_times, grant_sizes FROM rate_windows
               WHERE key = ANY(p_keys) ORDER BY key FOR UPDATE LOOP
        windows := windows + 1;
        v_need := least(v_need, w.max_count);
        granted := least(granted, w.max_count - (SELECT coalesce(sum(s), 0) FROM unnest(w.grant_times, w.grant_sizes) AS g(t, s)
                                                  WHERE t > v_horizon - w.window_ms)::int);
      END LOOP;
      granted := greatest(granted, 0);
      FOR w IN SELECT max_count, window_ms, grant_times, grant_sizes FROM rate_windows WHERE key = ANY(p_keys) LOOP
        v_at := greatest(v_at, rate_window_free_at(w.max_count, w.window_ms, w.grant_times, w.grant_sizes, greatest(granted, v_need), v_now));
      END LOOP;
      IF windows = 0 OR granted < v_need OR v_at > v_horizon THEN
        granted := 0;
        wait_ms := greatest(1, v_at - v_horizon)::int;
        RETURN;
      END IF;
      stamp := v_at;
      delay_ms := (v_at - v_now)::int;
      UPDATE rate_windows r SET
        grant_times = ARRAY(SELECT t FROM unnest(r.grant_times) WITH ORDINALITY AS g(t, o) WHERE t > v_now - r.window_ms ORDER BY o) || v_at,
        grant_sizes = ARRAY(SELECT s FROM unnest(r.grant_times, r.grant_sizes) WITH ORDINALITY AS g(t, s, o)
          WHERE t > v_now - r.window_ms ORDER BY o) || granted
      WHERE r.key = ANY(p_keys);
    END
    $fn$`.execute(db);

  /**
   * Counts `p_size` slots of the grant stamped `p_stamp` from now instead: calls that left later
   * than their grant's time (recording the intent took longer than the lead) are counted when
   * Meta counts them. Later is never less safe; a grant already gone from the window is left
   * alone; the moved slots go in time order.
   */
  await sql`
    CREATE FUNCTION rate_windows_restamp(p_keys text[], p_stamp bigint, p_size int) RETURNS void
    LANGUAGE plpgsql AS $fn$
    DECLARE
      v_now bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
      v_at int;
      v_before int;
      w record;
    BEGIN
      IF v_now <= p_stamp OR p_size <= 0 THEN
        RETURN;
      END IF;
      FOR w IN SELECT key, grant_times, grant_sizes FROM rate_windows WHERE key = ANY(p_keys) ORDER BY key FOR UPDATE LOOP
        v_at := NULL;
        FOR i IN 1 .. cardinality(w.grant_times) LOOP
          IF w.grant_times[i] = p_stamp AND w.grant_sizes[i] >= p_size THEN
            v_at := i;
            EXIT;
          END IF;
        END LOOP;
        CONTINUE WHEN v_at IS NULL;
        IF w.grant_sizes[v_at] = p_size THEN
          w.grant_times := w.grant_times[:v_at - 1] || w.grant_times[v_at + 1:];
          w.grant_sizes := w.grant_sizes[:v_at - 1] || w.grant_sizes[v_at + 1:];
        ELSE
          w.grant_sizes[v_at] := w.grant_sizes[v_at] - p_size;
        END IF;
        -- Before the first grant counted from later than now (taken ahead by another page).
        v_before := cardinality(w.grant_times) + 1;
        FOR i IN 1 .. cardinality(w.grant_times) LOOP
          IF w.grant_times[i] > v_now THEN
            v_before := i;
            EXIT;
          END IF;
        END LOOP;
        UPDATE rate_windows SET
          grant_times = w.grant_times[:v_before - 1] || v_now || w.grant_times[v_before:],
          grant_sizes = w.grant_sizes[:v_before - 1] || p_size || w.grant_sizes[v_before:]
        WHERE key = w.key;
      END LOOP;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS rate_windows_restamp(text[], bigint, int)`.execute(db);
  await sql`DROP FUNCTION IF EXISTS rate_windows_take(text[], int, int, int)`.execute(db);
  await sql`DROP FUNCTION IF EXISTS rate_window_free_at(int, int, bigint[], int[], int, bigint)`.execute(db);
  await db.schema.dropTable('rate_windows').ifExists().execute();
  await db.schema
    .createTable('rate_buckets')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('rate', 'double precision', (c) => c.notNull())
    .addColumn('burst', 'double precision', (c) => c.notNull())
    .addColumn('tokens', 'double precision', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .execute();
  await sql`ALTER TABLE rate_buckets SET UNLOGGED`.execute(db);
}
