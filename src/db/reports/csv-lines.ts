import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ReportLocale } from '../../domain/reports/cells';
import type { Database } from '../schema';
import { csvLineOf, dateTimeCell, eventsCell, integerCell, millisBetween, plainCell, secondsCell, textCell } from './csv-cells';
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

/** Relatório de Chamadas, the columns of its catalogue entry. */
const callsLines: CsvLineSource = (db, query, cursor, limit, locale) => {
  const known = sql`a.outcome IS NOT NULL AND a.outcome <> ''`;
  const line = csvLineOf([
    dateTimeCell(sql.ref('a.started_at'), locale),
    textCell(sql.ref('c.name')),
    plainCell(sql.ref('a.campaign_id')),
    plainCell(sql.ref('a.contact_id')),
    textCell(sql.ref('ct.name')),
    textCell(sql.ref('a.phone')),
    integerCell(sql.ref('a.attempt_no'), locale),
    integerCell(sql.ref('a.dial_no'), locale),
    textCell(sql`COALESCE(a.outcome, CASE WHEN a.state = 'dialing' THEN 'em_andamento' ELSE '' END)`),
    textCell(sql.ref('a.cause')),
    textCell(sql.ref('a.cause_txt')),
    secondsCell(sql.ref('a.ring_ms'), locale),
    secondsCell(sql.ref('a.talk_ms'), locale),
    integerCell(sql.ref('a.strategy_version'), locale),
    textCell(sql.ref('a.attempt_key')),
    integerCell(sql.ref('a.cycle'), locale),
    textCell(sql.ref('a.amd_status')),
    sql<string>`CASE WHEN a.outcome = 'unknown' THEN 'sim' WHEN ${known} THEN 'nao' ELSE '' END`,
    sql<string>`CASE WHEN ${known} THEN (CASE WHEN a.lost THEN 'sim' ELSE 'nao' END) ELSE '' END`,
  ]);
  const page = callsPageQuery(db, query, cursor, limit).select([
    sql<string>`row_number() OVER (ORDER BY a.id)`.as('ord'),
    line.as('line'),
    sql<string>`a.id::text`.as('cursor'),
  ]);
  return sql<CsvLineRow>`${page}`;
};

/** Rastreio de Interações, the columns of its catalogue entry. */
const interactionsLines: CsvLineSource = (db, query, cursor, limit, locale) => {
  const line = csvLineOf([
    plainCell(sql.ref('i.id')),
    dateTimeCell(sql.ref('i.started_at'), locale),
    dateTimeCell(sql.ref('i.ended_at'), locale),
    secondsCell(millisBetween(sql.ref('i.started_at'), sql.ref('i.ended_at')), locale),
    textCell(sql.ref('i.channel')),
    textCell(sql.ref('i.direction')),
    textCell(sql.ref('i.kind')),
    textCell(sql.ref('i.phone')),
    plainCell(sql.ref('i.company_contact_id')),
    plainCell(sql.ref('i.contact_id')),
    textCell(sql.ref('i.ml_buyer_id')),
    textCell(sql`COALESCE(dc.name, bc.name)`),
    plainCell(sql.ref('i.campaign_id')),
    plainCell(sql.ref('i.send_id')),
    plainCell(sql.ref('i.ml_account_id')),
    textCell(sql.ref('i.outcome')),
    textCell(sql.ref('i.handled_by_kind')),
    textCell(sql.ref('i.handled_by_id')),
    eventsCell(sql.ref('i.events'), locale),
    textCell(sql`NULLIF(i.details::text, '{}')`),
    textCell(sql.ref('i.source_key')),
  ]);
  const page = interactionsPageQuery(db, query, cursor, limit).select([
    sql<string>`row_number() OVER (ORDER BY i.started_at, i.id)`.as('ord'),
    line.as('line'),
    sql<string>`json_build_array(${microsCursor('i.started_at')}, i.id)::text`.as('cursor'),
  ]);
  return sql<CsvLineRow>`${page}`;
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
  chunk: { exportId: string; seq: number; head: string },
): Promise<CsvLinePage> {
  const result = await sql<{ rows: number; last_cursor: string | null }>`
    WITH page AS MATERIALIZED (${lines}),
    stored AS (
      INSERT INTO export_chunks (export_id, seq, data)
      SELECT ${chunk.exportId}, ${chunk.seq}, convert_to(${chunk.head} || COALESCE(string_agg(line, '' ORDER BY ord), ''), 'UTF8') FROM page
      ON CONFLICT (export_id, seq) DO UPDATE SET data = EXCLUDED.data
    )
    SELECT count(*)::int AS rows, (array_agg(cursor ORDER BY ord DESC))[1] AS last_cursor FROM page`.execute(db);
  const row = result.rows[0];
  return { rows: row.rows, lastCursor: row.last_cursor };
}

/** One page of a report's lines as text, for a CSV streamed to the client. */
export async function readCsvLinePage(db: Kysely<Database>, lines: RawBuilder<CsvLineRow>): Promise<{ text: string; rows: number; lastCursor: string | null }> {
  const result = await sql<{ line: string; cursor: string }>`SELECT line, cursor FROM (${lines}) page ORDER BY ord`.execute(db);
  const rows = result.rows;
  return { text: rows.map((r) => r.line).join(''), rows: rows.length, lastCursor: rows.length ? rows[rows.length - 1].cursor : null };
}
