// One report run's work in its own process (the worker's activity code, outside Temporal), printing
// its rows, elapsed time and peak RSS as JSON. Run by run.ts under the worker's heap flags.
import { MockActivityEnvironment } from '@temporalio/testing';
import { createReportActivities } from '../../src/activities/reports/index';
import { createDb } from '../../src/db/database';

const [url, exportId, tenantId, reportId, format, pagesAtOnce] = process.argv.slice(2);
const { db, close } = createDb({ connectionString: url, poolSize: 4 });
const activities = createReportActivities({ db, pageSize: 5000, ...(pagesAtOnce ? { linePagesAtOnce: Number(pagesAtOnce) } : {}) });
const started = process.hrtime.bigint();
let rows = 0;
if (format === 'xlsx') {
  const file = (await new MockActivityEnvironment().run(activities.writeReportXlsx, {
    exportId,
    tenantId,
    reportId,
    filters: {},
    locale: 'pt-BR' as const,
  })) as { rows: number };
  rows = file.rows;
} else {
  // As the export workflow does: one activity call per page, carrying the cursor.
  let cursor: string | null = null;
  for (let seq = 0; ; ) {
    const page = await activities.writeReportPage({ exportId, tenantId, reportId, filters: {}, locale: 'pt-BR' as const, cursor, seq });
    rows += page.rows;
    cursor = page.nextCursor;
    seq += page.pages ?? 1;
    if (page.done) break;
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const bytes = await db
  .selectFrom('export_chunks')
  .select((eb) => eb.fn.sum<string>(eb.fn('length', ['data'])).as('n'))
  .where('export_id', '=', exportId)
  .executeTakeFirstOrThrow();
console.log(JSON.stringify({ rows, seconds, bytes: Number(bytes.n), maxRssMb: process.resourceUsage().maxRSS / 1024 }));
await close();
