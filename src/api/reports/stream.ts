import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { csvLineSources, readCsvLinePage } from '../../db/reports/csv-lines';
import { reportSources } from '../../db/reports/index';
import type { Database } from '../../db/schema';
import { reportById, type ReportColumn } from '../../domain/reports/catalogue';
import type { ReportLocale } from '../../domain/reports/cells';
import { csvBody, csvHead } from '../../domain/reports/csv';

/**
 * A catalogue report streamed as CSV page by page (constant memory): the writer of the direct CSV
 * routes, the same as the report runs'. `sourceId` may name a source outside the catalogue that
 * shares a report's columns (the all-kinds import history).
 */
export function reportCsvStream(
  db: Kysely<Database>,
  reportId: string,
  query: { tenantId: string; filters: Record<string, string | undefined> },
  locale: ReportLocale = 'pt-BR',
  options: { sourceId?: string; columns?: readonly ReportColumn[]; pageSize?: number } = {},
): Readable {
  const columns = options.columns ?? reportById(reportId)!.columns;
  const source = reportSources[options.sourceId ?? reportId];
  const lines = options.sourceId || options.columns ? undefined : csvLineSources[reportId];
  // Lines written by PostgreSQL come in bigger pages: each is only its text.
  const pageSize = options.pageSize ?? (lines ? 10_000 : 2000);
  async function* chunks() {
    yield csvHead(columns);
    let cursor: string | null = null;
    while (lines) {
      const page = await readCsvLinePage(db, lines.page(db, query, cursor, pageSize, locale), locale);
      if (page.rows) yield page.text;
      if (page.rows < pageSize) return;
      cursor = page.lastCursor;
    }
    for (;;) {
      const page = await source(db, query, cursor, pageSize);
      if (page.rows.length) yield csvBody(columns, page.rows, locale);
      if (page.nextCursor === null) return;
      cursor = page.nextCursor;
    }
  }
  return Readable.from(chunks());
}
