import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ReportLocale } from '../../domain/reports/cells';
import type { Database } from '../schema';
import { csvLineOf, eventsCell, type LineCell, lineTimeZone, millisBetween } from './csv-cells';
import { callsPageQuery } from './dialer';
import { interactionsPageQuery } from './interactions';
import { microsCursor, type ReportQuery } from './source';

/** A page of finished CSV lines: `ord` numbers them in the page's order, `cursor` resumes after that row. */
export interface CsvLineRow {
  ord: string;
  line: string;
  cursor: string;
}

/** The reports big enough to be written line by line in SQL (the others go through `csvRow`). */
export type CsvLineSource = (db: Kysely<Database>, query: ReportQuery, cursor: string | null, limit: number, locale: ReportLocale) => RawBuilder<CsvLineRow>;

/**
 * The page's values (`c0`…, computed once each in the inner query, which has the ORDER BY and
 * LIMIT) and the line written from them in the outer one.
 */
function linesOf(cells: readonly LineCell[], locale: ReportLocale) {
  return {
    values: cells.map((c, i) => sql`${c.value}`.as(`c${i}`)),
    line: (inner: RawBuilder<unknown>) =>
      sql<CsvLineRow>`SELECT p.ord, p.cursor, ${csvLineOf(
        cells.map((c, i) => ({ kind: c.kind, value: sql.ref(`p.c${i}`) })),
        locale,
      )} AS line FROM (${inner}) p`,
  };
}

/** Relatório de Chamadas, the columns of its catalogue entry. */
const callsLines: CsvLineSource = (db, query, cursor, limit, locale) => {
  const known = sql`a.outcome IS NOT NULL AND a.outcome <> ''`;
  const { values, line } = linesOf(
    [
      { kind: 'datetime', value: sql.ref('a.started_at') },
      { kind: 'text', value: sql.ref('c.name') },
      { kind: 'plain', value: sql.ref('a.campaign_id') },
      { kind: 'plain', value: sql.ref('a.contact_id') },
      { kind: 'text', value: sql.ref('ct.name') },
      { kind: 'text', value: sql.ref('a.phone') },
      { kind: 'integer', value: sql.ref('a.attempt_no') },
      { kind: 'integer', value: sql.ref('a.dial_no') },
      { kind: 'text', value: sql`COALESCE(a.outcome, CASE WHEN a.state = 'dialing' THEN 'em_andamento' ELSE '' END)` },
      { kind: 'text', value: sql.ref('a.cause') },
      { kind: 'text', value: sql.ref('a.cause_txt') },
      { kind: 'seconds', value: sql.ref('a.ring_ms') },
      { kind: 'seconds', value: sql.ref('a.talk_ms') },
      { kind: 'integer', value: sql.ref('a.strategy_version') },
      { kind: 'text', value: sql.ref('a.attempt_key') },
      { kind: 'integer', value: sql.ref('a.cycle') },
      { kind: 'text', value: sql.ref('a.amd_status') },
      { kind: 'plain', value: sql`CASE WHEN a.outcome = 'unknown' THEN 'sim' WHEN ${known} THEN 'nao' ELSE '' END` },
      { kind: 'plain', value: sql`CASE WHEN ${known} THEN (CASE WHEN a.lost THEN 'sim' ELSE 'nao' END) ELSE '' END` },
    ],
    locale,
  );
  const inner = callsPageQuery(db, query, cursor, limit).select([
    sql<string>`row_number() OVER (ORDER BY a.id)`.as('ord'),
    sql<string>`a.id::text`.as('cursor'),
    ...values,
  ]);
  return line(sql`${inner}`);
};

/** Rastreio de Interações, the columns of its catalogue entry. */
const interactionsLines: CsvLineSource = (db, query, cursor, limit, locale) => {
  const { values, line } = linesOf(
    [
      { kind: 'plain', value: sql.ref('i.id') },
      { kind: 'datetime', value: sql.ref('i.started_at') },
      { kind: 'datetime', value: sql.ref('i.ended_at') },
      { kind: 'seconds', value: millisBetween(sql.ref('i.started_at'), sql.ref('i.ended_at')) },
      { kind: 'text', value: sql.ref('i.channel') },
      { kind: 'text', value: sql.ref('i.direction') },
      { kind: 'text', value: sql.ref('i.kind') },
      { kind: 'text', value: sql.ref('i.phone') },
      { kind: 'plain', value: sql.ref('i.company_contact_id') },
      { kind: 'plain', value: sql.ref('i.contact_id') },
      { kind: 'text', value: sql.ref('i.ml_buyer_id') },
      { kind: 'text', value: sql`COALESCE(dc.name, bc.name)` },
      { kind: 'plain', value: sql.ref('i.campaign_id') },
      { kind: 'plain', value: sql.ref('i.send_id') },
      { kind: 'plain', value: sql.ref('i.ml_account_id') },
      { kind: 'text', value: sql.ref('i.outcome') },
      { kind: 'text', value: sql.ref('i.handled_by_kind') },
      { kind: 'text', value: sql.ref('i.handled_by_id') },
      { kind: 'plain', value: eventsCell(sql.ref('i.events'), locale) },
      { kind: 'text', value: sql`NULLIF(i.details::text, '{}')` },
      { kind: 'text', value: sql.ref('i.source_key') },
    ],
    locale,
  );
  const inner = interactionsPageQuery(db, query, cursor, limit).select([
    sql<string>`row_number() OVER (ORDER BY i.started_at, i.id)`.as('ord'),
    sql<string>`json_build_array(${microsCursor('i.started_at')}, i.id)::text`.as('cursor'),
    ...values,
  ]);
  return line(sql`${inner}`);
};

export const csvLineSources: Record<string, CsvLineSource> = { calls: callsLines, interactions: interactionsLines };

export interface CsvLinePage {
  rows: number;
  /** The cursor after the page's last row (null when the page is empty). */
  lastCursor: string | null;
}

/**
 * Writes one page of a report as export chunk `seq` inside PostgreSQL: the lines are formatted,
 * joined and stored by one statement, none of them travels to the worker. Keyed by (export, seq):
 * a retried page overwrites itself.
 */
export async function storeCsvLinePage(
  db: Kysely<Database>,
  lines: RawBuilder<CsvLineRow>,
  chunk: { exportId: string; seq: number; head: string; locale: ReportLocale },
): Promise<CsvLinePage> {
  const result = await inLineTimeZone(db, chunk.locale, (trx) =>
    sql<{ rows: number; last_cursor: string | null }>`
    WITH page AS MATERIALIZED (${lines}),
    stored AS (
      INSERT INTO export_chunks (export_id, seq, data)
      SELECT ${chunk.exportId}, ${chunk.seq}, convert_to(${chunk.head} || COALESCE(string_agg(line, '' ORDER BY ord), ''), 'UTF8') FROM page
      ON CONFLICT (export_id, seq) DO UPDATE SET data = EXCLUDED.data
    )
    SELECT count(*)::int AS rows, (array_agg(cursor ORDER BY ord DESC))[1] AS last_cursor FROM page`.execute(trx),
  );
  const row = result.rows[0];
  return { rows: row.rows, lastCursor: row.last_cursor };
}

/** One page of a report's lines as text, for a CSV streamed to the client. */
export async function readCsvLinePage(
  db: Kysely<Database>,
  lines: RawBuilder<CsvLineRow>,
  locale: ReportLocale,
): Promise<{ text: string; rows: number; lastCursor: string | null }> {
  const result = await inLineTimeZone(db, locale, (trx) =>
    sql<{ line: string; cursor: string }>`SELECT line, cursor FROM (${lines}) page ORDER BY ord`.execute(trx),
  );
  const rows = result.rows;
  return { text: rows.map((r) => r.line).join(''), rows: rows.length, lastCursor: rows.length ? rows[rows.length - 1].cursor : null };
}

/**
 * Runs a line statement in a transaction whose TimeZone is the locale's (dateTimeCell writes in it)
 * and whose stored chunks are compressed with lz4 rather than the default pglz where the server has
 * it: a page's ~3.4 MB of text costs pglz ~15 ms, lz4 ~3 ms (reading it back is the same). The
 * embedded PostgreSQL is built without lz4, so the setting is only asked for where it exists.
 */
function inLineTimeZone<T>(db: Kysely<Database>, locale: ReportLocale, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('TimeZone', ${lineTimeZone(locale)}, true),
      set_config('default_toast_compression', CASE WHEN 'lz4' = ANY(enumvals) THEN 'lz4' ELSE 'pglz' END, true)
      FROM pg_settings WHERE name = 'default_toast_compression'`.execute(trx);
    return work(trx);
  });
}
