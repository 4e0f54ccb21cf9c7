import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReportActivities } from '../../src/activities/reports/index';
import { reportCsvStream } from '../../src/api/reports/stream';
import type { ReportLocale } from '../../src/domain/reports/cells';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { GOLDEN } from './report-csv-golden.expected';

/**
 * The exact bytes of the calls and interactions CSV over a small fixed fixture, pt-BR and iso, as
 * a report run writes them (pages of 2 rows, so page joins are covered) and as the direct CSV
 * stream writes them. Any change to how a cell is written shows here.
 */

let t: TestDatabase;
let tenantId: string;
const CAMPAIGN = '00000000-0000-0000-0000-0000000000c1';

beforeAll(async () => {
  t = await createTestDatabase('report_golden');
  tenantId = (await t.db.insertInto('tenants').values({ name: 'Golden' }).returning('id').executeTakeFirstOrThrow()).id;
  const other = (await t.db.insertInto('tenants').values({ name: 'Other' }).returning('id').executeTakeFirstOrThrow()).id;
  await sql`
    INSERT INTO contact_groups (id, tenant_id, kind, name, name_key, source) VALUES ('00000000-0000-0000-0000-0000000000a1', ${tenantId}, 'dialer', 'G', 'g', 'csv')`.execute(
    t.db,
  );
  await sql`INSERT INTO dial_strategies (id, tenant_id, name, name_key, config) VALUES ('00000000-0000-0000-0000-0000000000b1', ${tenantId}, 'S', 's', '{}')`.execute(
    t.db,
  );
  await sql`INSERT INTO dialer_campaigns (id, tenant_id, name, name_key, group_id, strategy_id, status)
      VALUES (${CAMPAIGN}, ${tenantId}, 'Cobrança "Dez"; 2026', 'cobranca', '00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000b1', 'completed')`.execute(
    t.db,
  );
  await sql`INSERT INTO contacts (group_id, name, phones) VALUES
      ('00000000-0000-0000-0000-0000000000a1', 'Maria da Silva', ARRAY['5511987654321']),
      ('00000000-0000-0000-0000-0000000000a1', '=SOMA(A1:A9)', ARRAY['5521912345678']),
      ('00000000-0000-0000-0000-0000000000a1', E'José\nSegunda linha', ARRAY['5548998288774'])`.execute(t.db);
  // Times with microseconds, one just before midnight in São Paulo, rounding ties of tenths of a second, big numbers.
  await sql`
    INSERT INTO dial_attempts (attempt_key, tenant_id, campaign_id, contact_id, dial_no, attempt_no, phone, strategy_version, state, outcome, cause, cause_txt,
      ring_ms, talk_ms, lost, started_at, ended_at, cycle, amd_status) VALUES
      ('dc:g:1', ${tenantId}, ${CAMPAIGN}, 1, 1, 1, '5511987654321', 1, 'done', 'answered', 16, 'Normal Clearing', 1150, 1234567, false,
        '2026-12-02 17:05:00.123456+00', '2026-12-02 17:25:36.000999+00', 1, 'HUMAN'),
      ('dc:g:2', ${tenantId}, ${CAMPAIGN}, 2, 1, 1234, '5521912345678', 3, 'done', 'busy', 17, '-User busy', 1250, NULL, true,
        '2026-12-03 02:59:59.999999+00', NULL, 2, NULL),
      ('dc:g:3', ${tenantId}, ${CAMPAIGN}, 3, 2, 2, '+5548998288774', 1, 'dialing', NULL, NULL, NULL, 50, 0, false,
        '2026-12-03 03:00:00+00', NULL, 1, NULL),
      ('dc:g;4', ${tenantId}, ${CAMPAIGN}, 1, 3, 3, '5511987654321', 1, 'done', 'unknown', NULL, E'tab\tand "quotes"', 999949, 1050, false,
        '2026-12-04 12:00:00.5+00', '2026-12-04 12:00:01.55+00', 1, 'MACHINE');
  `.execute(t.db);
  // The first call was bridged to an agent whose name needs quoting; waits and talks in tenths of a second.
  await sql`
    WITH u AS (INSERT INTO users (tenant_id, name, email, role) VALUES (${tenantId}, 'Ana "Agente"; 1', 'ana@golden.test', 'agent') RETURNING id),
         ag AS (INSERT INTO agents (tenant_id, user_id, sip_endpoint) SELECT ${tenantId}, id, 'PJSIP/agent-1' FROM u RETURNING id)
    UPDATE dial_attempts SET agent_id = (SELECT id FROM ag), agent_wait_ms = 250, agent_talk_ms = 1234449, bridged_at = '2026-12-02 17:05:01+00'
    WHERE attempt_key = 'dc:g:1'`.execute(t.db);
  // Two attempts ran an IVR flow (one still in it); the others never entered one.
  await sql`INSERT INTO ivr_flows (id, tenant_id, name, name_key, version, definition)
      VALUES ('00000000-0000-0000-0000-0000000000f1', ${tenantId}, '=URA; "Cobrança"', 'ura', 2, '{}')`.execute(t.db);
  await sql`
    INSERT INTO ivr_calls (attempt_key, tenant_id, campaign_id, contact_id, phone, flow_id, flow_version, state, current_node, keys, disposition,
      entered_at, ended_at) VALUES
      ('dc:g:1', ${tenantId}, ${CAMPAIGN}, 1, '5511987654321', '00000000-0000-0000-0000-0000000000f1', 2, '{}', 'fim', '52', 'boleto_enviado',
        '2026-12-02 17:05:01+00', '2026-12-02 17:05:30+00'),
      ('dc:g;4', ${tenantId}, ${CAMPAIGN}, 1, '5511987654321', '00000000-0000-0000-0000-0000000000f1', 1, '{}', '-menu', '', NULL,
        '2026-12-04 12:00:01+00', NULL)`.execute(t.db);
  await sql`
    INSERT INTO interactions (tenant_id, channel, direction, kind, source_key, phone, phone_key, company_contact_id, contact_id, ml_buyer_id, campaign_id,
      send_id, ml_account_id, started_at, ended_at, outcome, handled_by_kind, handled_by_id, details, events) VALUES
      (${tenantId}, 'voice', 'outbound', 'call', 'dc:g:1', '5511987654321', '551187654321', NULL, 1, NULL, ${CAMPAIGN}, NULL, NULL,
        '2026-12-02 17:05:00.123456+00', '2026-12-02 17:05:01.273999+00', 'answered', 'agent', 'agente-7',
        '{"ivr": {"flowName": "Cobrança", "keys": "12"}, "talkMs": 35000}',
        '[{"key": "ended", "type": "ended", "at": "2026-12-02T17:05:01.273Z"}, {"key": "dialing", "type": "dialing", "at": "2026-12-02T17:05:00.123Z"},
          {"key": "answered", "type": "answered", "at": "2026-12-02T17:05:00.123Z"}]'),
      (${tenantId}, 'whatsapp', 'outbound', 'template_message', 'bm:s;1:"x"', '+5511987654321', '551187654321', NULL, NULL, NULL, NULL, NULL, NULL,
        '2026-12-03 02:59:59.999999+00', NULL, '=HYPERLINK("http://evil")', 'system', NULL, '{}',
        '[{"key": "accepted", "type": "accepted", "at": "2026-12-03T02:59:59.999Z"}, {"key": "read", "type": "read", "at": "2026-12-03T03:10:00.000Z"}]'),
      (${tenantId}, 'mercadolivre', 'inbound', 'question', 'mlq:1', NULL, NULL, NULL, NULL, 'comprador-9', NULL, NULL, NULL,
        '2026-12-03 02:59:59.999999+00', '2026-12-03 03:00:01.249999+00', '@resposta', 'rule', E'regra\n1', '{"question": "Tem; em \\"azul\\"?"}', '[]'),
      (${tenantId}, 'voice', 'outbound', 'call', 'dc:g;4', '5511987654321', '551187654321', NULL, 1, NULL, ${CAMPAIGN}, NULL, NULL,
        '2026-12-04 12:00:00.5+00', '2026-12-04 12:20:34.5+00', 'unknown', NULL, NULL, '{}', '[]'),
      (${other}, 'whatsapp', 'inbound', 'reply', 'wamid.other', '5511999990000', '551199990000', NULL, NULL, NULL, NULL, NULL, NULL,
        '2026-12-03 12:00:00+00', NULL, 'read', NULL, NULL, '{}', '[]')`.execute(t.db);
});
afterAll(() => t?.destroy());

async function runFile(reportId: string, locale: ReportLocale, linePagesAtOnce = 2): Promise<string> {
  const activities = createReportActivities({ db: t.db, pageSize: 2, linePageSize: 2, linePagesAtOnce });
  const exportId = (
    await t.db
      .insertInto('exports')
      .values({ tenant_id: tenantId, kind: 'report', report_id: reportId, format: 'csv', status: 'running', file_name: 'golden' })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  let cursor: string | null = null;
  // As the export workflow does: the next call starts after the chunks this one wrote.
  for (let seq = 0; ; ) {
    const page = await activities.writeReportPage({ exportId, tenantId, reportId, filters: {}, locale, cursor, seq });
    cursor = page.nextCursor;
    seq += page.pages ?? 1;
    if (page.done) break;
  }
  const chunks = await t.db.selectFrom('export_chunks').select('data').where('export_id', '=', exportId).orderBy('seq').execute();
  return Buffer.concat(chunks.map((c) => c.data)).toString('utf8');
}

async function streamed(reportId: string, locale: ReportLocale): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of reportCsvStream(t.db, reportId, { tenantId, filters: {} }, locale, { pageSize: 3 })) parts.push(Buffer.from(part));
  return Buffer.concat(parts).toString('utf8');
}

const asLines = (text: string) => text.split('\r\n');

describe('report CSV bytes (golden)', () => {
  for (const reportId of ['calls', 'interactions'] as const) {
    for (const locale of ['pt-BR', 'iso'] as const) {
      it(`${reportId} ${locale}: a run's file and the direct stream are exactly the golden bytes`, async () => {
        const file = await runFile(reportId, locale);
        if (process.env.PRINT_GOLDEN) console.log(JSON.stringify({ [`${reportId} ${locale}`]: asLines(file) }, null, 2));
        expect(asLines(file)).toEqual(GOLDEN[reportId][locale]);
        expect(file.endsWith('\r\n')).toBe(true);
        expect(await streamed(reportId, locale)).toBe(file);
        // One page at a time, or three at once (bounded by the cursors where each ends): the same bytes.
        expect(await runFile(reportId, locale, 1)).toBe(file);
        expect(await runFile(reportId, locale, 3)).toBe(file);
      });
    }
  }
});
