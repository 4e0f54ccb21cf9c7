import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLineSources, readCsvLinePage } from '../../src/db/reports/csv-lines';
import { reportSources } from '../../src/db/reports/index';
import { reportById } from '../../src/domain/reports/catalogue';
import type { ReportLocale } from '../../src/domain/reports/cells';
import { csvBody } from '../../src/domain/reports/csv';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

/**
 * The CSV lines PostgreSQL writes (src/db/reports/csv-lines.ts) against the reference writer
 * (`csvRow` over the same report's row source) on values chosen to break one or the other: quotes,
 * `;`, CR/LF, leading = + - @ tab CR, nulls and empty text, tenths of a second on rounding ties,
 * grouped thousands, and times around São Paulo's midnight and its old daylight-saving changes.
 */

const TEXTS = [
  'Maria da Silva',
  'a "quoted" name',
  'x;y',
  'line\nbreak',
  'cr\rhere',
  'crlf\r\nend',
  '=SOMA(A1:A9)',
  '+5511987654321',
  '-User busy',
  '@cmd',
  '\tTab first',
  '\rCR first',
  "'already quoted",
  '=a;"b"\nc',
  '',
  'Ção é ü 😀',
  '\u0001=after the separator',
  'ends with ;',
  '"',
  ';',
];
const MILLIS = [null, 0, 49, 50, 149, 150, 949, 950, 1050, 1150, 999_949, 999_950, 9_999_950, 123_456_789, 2_147_483_647];
const WHOLE = [1, 999, 1000, 1_234_567, 2_147_483_647];
// São Paulo kept daylight-saving time until 2019 (started 2018-11-04, ended 2019-02-17); microseconds are cut, never rounded.
const TIMES = [
  '2018-11-04 02:59:59.999999+00',
  '2018-11-04 03:00:00+00',
  '2019-02-17 01:59:59.5+00',
  '2019-02-17 02:00:00+00',
  '2026-12-03 02:59:59.999999+00',
  '2026-12-03 03:00:00.000001+00',
  '2000-02-29 12:00:00.123456+00',
  '1999-12-31 23:59:59.9995+00',
];
const N = 120;
const at = <T>(list: readonly T[], i: number) => list[i % list.length];

let t: TestDatabase;
let tenantId: string;
const CAMPAIGN = '00000000-0000-0000-0000-0000000000c1';

beforeAll(async () => {
  t = await createTestDatabase('report_fast');
  tenantId = (await t.db.insertInto('tenants').values({ name: 'Fast' }).returning('id').executeTakeFirstOrThrow()).id;
  await sql`INSERT INTO contact_groups (id, tenant_id, kind, name, name_key, source)
      VALUES ('00000000-0000-0000-0000-0000000000a1', ${tenantId}, 'dialer', 'G', 'g', 'csv')`.execute(t.db);
  await sql`INSERT INTO dial_strategies (id, tenant_id, name, name_key, config) VALUES ('00000000-0000-0000-0000-0000000000b1', ${tenantId}, 'S', 's', '{}')`.execute(
    t.db,
  );
  await sql`INSERT INTO dialer_campaigns (id, tenant_id, name, name_key, group_id, strategy_id, status)
      VALUES (${CAMPAIGN}, ${tenantId}, '=Cobrança "Dez"; 2026', 'cobranca', '00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b1', 'completed')`.execute(
    t.db,
  );
  for (let i = 0; i < TEXTS.length; i++) {
    await sql`INSERT INTO contacts (group_id, name, phones) VALUES ('00000000-0000-0000-0000-0000000000a1', ${TEXTS[i]}, ARRAY['5511987654321'])`.execute(t.db);
  }
  const contacts = (await sql<{ id: number }>`SELECT id FROM contacts ORDER BY id`.execute(t.db)).rows.map((r) => r.id);
  for (let i = 0; i < N; i++) {
    const outcome = at([null, 'answered', 'busy', 'unknown', ''], i);
    await sql`
      INSERT INTO dial_attempts (attempt_key, tenant_id, campaign_id, contact_id, dial_no, attempt_no, phone, strategy_version, state, outcome, cause,
        cause_txt, ring_ms, talk_ms, lost, started_at, ended_at, cycle, amd_status)
      VALUES (${`${at(TEXTS, i + 3)}#${i}`}, ${tenantId}, ${CAMPAIGN}, ${at(contacts, i)}, ${995 + i}, ${at(WHOLE, i)}, ${at(TEXTS, i + 7) || '0'},
        ${at(WHOLE, i + 2)}, ${outcome === null && i % 2 ? 'dialing' : 'done'}, ${outcome}, ${i % 4 ? 16 + (i % 3) : null}, ${i % 5 ? at(TEXTS, i + 11) : null},
        ${at(MILLIS, i) ?? 0}, ${at(MILLIS, i + 5)}, ${i % 3 === 0}, ${at(TIMES, i)}, ${i % 2 ? at(TIMES, i + 1) : null}, ${at(WHOLE, i + 3)},
        ${i % 2 ? at(TEXTS, i + 13) : null})`.execute(t.db);
  }
  // A flow per tricky name; every third attempt ran one (its node, keys and disposition tricky too).
  const flows: string[] = [];
  for (let i = 0; i < TEXTS.length; i++) {
    flows.push(
      (
        await sql<{ id: string }>`INSERT INTO ivr_flows (tenant_id, name, name_key, version, definition)
        VALUES (${tenantId}, ${TEXTS[i]}, ${`f${i}`}, ${at(WHOLE, i)}, '{}') RETURNING id`.execute(t.db)
      ).rows[0]!.id,
    );
  }
  await sql`
    INSERT INTO ivr_calls (attempt_key, tenant_id, campaign_id, contact_id, phone, flow_id, flow_version, state, current_node, keys, disposition)
    SELECT a.attempt_key, a.tenant_id, a.campaign_id, a.contact_id, a.phone, (${flows}::uuid[])[1 + a.id % ${flows.length}], a.dial_no, '{}',
      (${TEXTS}::text[])[1 + (a.id + 1) % ${TEXTS.length}], (${TEXTS}::text[])[1 + (a.id + 2) % ${TEXTS.length}],
      NULLIF((${TEXTS}::text[])[1 + (a.id + 3) % ${TEXTS.length}], '')
    FROM dial_attempts a WHERE a.tenant_id = ${tenantId} AND a.id % 3 = 0`.execute(t.db);
  for (let i = 0; i < N; i++) {
    // Events out of order, with ties on `at` (kept in stored order), across the same instants.
    const events = Array.from({ length: i % 4 }, (_, k) => ({
      key: `e${k}`,
      type: at(['accepted', 'read', 'dialing', 'ended'], i + k),
      at: at(TIMES, i + 3 - k - (k % 2)),
    })).map((e) => ({ ...e, at: new Date(e.at.replace(' ', 'T').replace('+00', 'Z')).toISOString() }));
    const details = at([{}, { text: at(TEXTS, i) }, { ivr: { keys: '12', flowName: at(TEXTS, i + 1) }, talkMs: at(MILLIS, i) }, { q: '=1;2' }], i);
    await sql`
      INSERT INTO interactions (tenant_id, channel, direction, kind, source_key, phone, phone_key, company_contact_id, contact_id, ml_buyer_id, campaign_id,
        send_id, ml_account_id, started_at, ended_at, outcome, handled_by_kind, handled_by_id, details, events)
      VALUES (${tenantId}, ${at(['voice', 'whatsapp', 'mercadolivre'], i)}, ${i % 2 ? 'inbound' : 'outbound'}, ${at(['call', 'template_message', 'question'], i)},
        ${`${at(TEXTS, i + 2)}#${i}`}, ${i % 3 ? at(TEXTS, i + 4) : null}, ${i % 3 ? '551187654321' : null}, NULL, ${i % 2 ? null : 1},
        ${i % 5 ? null : at(TEXTS, i + 6)}, ${i % 2 ? CAMPAIGN : null}, NULL, NULL, ${at(TIMES, i)}, ${i % 3 ? at(TIMES, i + 2) : null},
        ${i % 6 ? at(TEXTS, i + 8) : null}, ${at(['agent', 'rule', 'system', null], i)}, ${i % 4 ? at(TEXTS, i + 9) : null},
        ${JSON.stringify(details)}::jsonb, ${JSON.stringify(events)}::jsonb)`.execute(t.db);
  }
});
afterAll(() => t?.destroy());

/** The whole report through the reference writer: csvRow over the row source, page by page. */
async function reference(reportId: string, locale: ReportLocale, pageSize: number) {
  const columns = reportById(reportId)!.columns;
  let text = '';
  const cursors: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await reportSources[reportId](t.db, { tenantId, filters: {} }, cursor, pageSize);
    text += csvBody(columns, page.rows, locale);
    cursor = page.nextCursor;
    if (cursor) cursors.push(cursor);
  } while (cursor);
  return { text, cursors };
}

/** The same through PostgreSQL's lines, paged the same way. */
async function fastPath(reportId: string, locale: ReportLocale, pageSize: number) {
  let text = '';
  const cursors: string[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await readCsvLinePage(t.db, csvLineSources[reportId].page(t.db, { tenantId, filters: {} }, cursor, pageSize, locale), locale);
    text += page.text;
    if (page.rows < pageSize) break;
    cursor = page.lastCursor;
    cursors.push(cursor!);
  }
  return { text, cursors };
}

describe('report CSV lines written by PostgreSQL', () => {
  for (const reportId of ['calls', 'interactions'] as const) {
    for (const locale of ['pt-BR', 'iso'] as const) {
      it(`${reportId} ${locale}: the same bytes and page cursors as csvRow over the row source`, async () => {
        const ours = await fastPath(reportId, locale, 7);
        const ref = await reference(reportId, locale, 7);
        expect(ours.text.split('\r\n')).toEqual(ref.text.split('\r\n'));
        expect(ours.text).toBe(ref.text);
        expect(ours.cursors.map((c) => JSON.parse(c))).toEqual(ref.cursors.map((c) => JSON.parse(c)));
        // Every row is there, and the tricky values are in it.
        expect(ours.text.match(/\r\n/g)!.length).toBeGreaterThanOrEqual(N);
        expect(ours.text).toContain("'=");
      });
    }
  }

  it('every big report has its lines derived from its columns', () => {
    expect(Object.keys(csvLineSources).sort()).toEqual(['calls', 'interactions']);
  });
});
