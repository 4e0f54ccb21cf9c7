import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReportActivities } from '../../src/activities/reports/index';
import { recordInteractions } from '../../src/db/interactions';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import { createTestStack } from '../helpers/app';
import { waitFor } from '../helpers/worker-process';

let stack: TestStack;
let tenant: TestTenant;
let other: TestTenant;
const lastWeek = { from: new Date(Date.now() - 7 * 86_400_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };

beforeAll(async () => {
  stack = await createTestStack({ name: 'report-runs', withWorker: true });
  tenant = await stack.createTenant('Relatórios SA');
  other = await stack.createTenant('Outra');
  const at = (s: number) => new Date(Date.now() - 3_600_000 + s * 1000);
  await recordInteractions(stack.database.db, [
    {
      tenantId: tenant.tenantId,
      channel: 'voice',
      direction: 'outbound',
      kind: 'call',
      sourceKey: 'dc:1',
      phone: '5548998288774',
      startedAt: at(0),
      endedAt: at(83.5),
      outcome: 'answered',
      handledBy: { kind: 'agent', id: 'agente-7' },
      details: { talkMs: 1_234_560, ivr: { flowName: 'Cobrança', path: ['menu', 'pagar'], keys: '12', disposition: 'paid' } },
      events: [
        { type: 'dialing', at: at(0) },
        { type: 'answered', at: at(3) },
        { type: 'ended', at: at(83.5) },
      ],
    },
    {
      tenantId: tenant.tenantId,
      channel: 'whatsapp',
      direction: 'outbound',
      kind: 'template_message',
      sourceKey: 'bm:x:1',
      phone: '5548998288774',
      startedAt: at(100),
      outcome: '=HYPERLINK("http://evil")',
      details: { template: 'promo' },
      events: [
        { type: 'accepted', at: at(100) },
        { type: 'read', at: at(160) },
      ],
    },
    { tenantId: other.tenantId, channel: 'whatsapp', direction: 'inbound', kind: 'reply', sourceKey: 'wamid.other', phone: '5511999990000', startedAt: at(5) },
  ]);
});
afterAll(() => stack?.close());

const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, key = tenant.supervisorKey) =>
  stack.app.inject({ method, url, headers: bearer(key), ...(payload !== undefined ? { payload: payload as object } : {}) });

async function run(reportId: string, body: Record<string, unknown>) {
  const res = await api('POST', `/v1/reports/${reportId}/runs`, body);
  expect(res.statusCode, res.body).toBe(202);
  const id = res.json().id as string;
  return waitFor(
    async () => {
      const r = (await api('GET', `/v1/reports/runs/${id}`)).json();
      return r.status === 'completed' ? r : false;
    },
    `run ${reportId}`,
    30_000,
  );
}

const download = (id: string, key = tenant.viewerKey) => stack.app.inject({ method: 'GET', url: `/v1/reports/runs/${id}/file`, headers: bearer(key) });

describe('report catalogue and runs', () => {
  it("lists every report of the seed's Glossário Relatórios with its filters and columns", async () => {
    const items = (await api('GET', '/v1/reports', undefined, tenant.viewerKey)).json().items as {
      id: string;
      name: string;
      columns: unknown[];
      filters: unknown[];
    }[];
    expect(items.map((i) => i.name)).toEqual([
      'Rastreio de Interações',
      'Relatório IVR',
      'Relatório de Usuários',
      'Relatório de Chamadas',
      'Relatório de Atividade',
      'Relatório de Broadcast HSM — Consolidado',
      'Relatório de Broadcast HSM — Detalhado',
      'Relatório Broadcast Grupo de Contatos',
      'Relatório Discador Grupo de Contatos',
      'Relatório Discador',
    ]);
    for (const i of items) expect(i.columns.length).toBeGreaterThan(0);
  });

  it('runs every report for last week as CSV and XLSX; each file downloads', async () => {
    const ids = ((await api('GET', '/v1/reports')).json().items as { id: string }[]).map((i) => i.id);
    for (const id of ids) {
      for (const format of ['csv', 'xlsx']) {
        const done = await run(id, { filters: lastWeek, format });
        const file = await download(done.id);
        expect(file.statusCode, `${id} ${format}`).toBe(200);
        if (format === 'csv') expect(file.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
        else expect(file.rawPayload.subarray(0, 2).toString()).toBe('PK');
      }
    }
  }, 240_000);

  it('writes pt-BR dates and decimals, formula-safe text, only the tenant rows; iso on request', async () => {
    const done = await run('interactions', { filters: lastWeek });
    expect(done).toMatchObject({
      reportName: 'Rastreio de Interações',
      rowsWritten: 2,
      format: 'csv',
      locale: 'pt-BR',
      createdBy: { name: `supervisor Relatórios SA` },
    });
    const lines = (await download(done.id)).body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0].split(';').slice(0, 4)).toEqual(['interacao', 'inicio', 'fim', 'duracao_s']);
    const call = lines[1].split(';');
    expect(call[1]).toMatch(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
    expect(call[3]).toBe('83,5');
    expect(lines[1]).toContain(';agent;agente-7;');
    expect(lines[2]).toContain(`'=HYPERLINK`);
    expect(lines.join('\n')).not.toContain('5511999990000');

    const iso = await run('interactions', { filters: lastWeek, locale: 'iso' });
    const isoCall = (await download(iso.id)).body
      .replace(/^\uFEFF/, '')
      .split('\r\n')[1]
      .split(';');
    expect(isoCall[1]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(isoCall[3]).toBe('83.5');
  });

  it('writes typed XLSX cells: numbers, dates and the Portuguese header', async () => {
    const done = await run('users', { filters: lastWeek, format: 'xlsx' });
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await download(done.id)).rawPayload as never);
    const sheet = workbook.worksheets[0];
    expect(sheet.getRow(1).values).toEqual(expect.arrayContaining(['tipo', 'nome', 'email', 'chamadas_atendidas', 'tma_s']));
    const rows = sheet.getSheetValues().slice(2) as unknown[][];
    const agent = rows.find((r) => r[1] === 'agente')!;
    expect(agent[2]).toBe('agente-7');
    expect(agent[13]).toBe(1);
    expect(agent[14]).toBeCloseTo(1234.56, 2);
    const user = rows.find((r) => r[1] === 'usuario' && String(r[3]).startsWith('supervisor'))!;
    expect(user[7]).toBeInstanceOf(Date);
    expect(user[9]).toBe(1);
  });

  it('refuses unknown reports and wrong filters with a problem naming them', async () => {
    expect((await api('POST', '/v1/reports/nope/runs', { filters: {} })).statusCode).toBe(404);
    const bad = await api('POST', '/v1/reports/calls/runs', { filters: { campaignId: 'x', color: 'blue', from: lastWeek.to, to: lastWeek.from } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().code).toBe('REPORT_FILTERS_INVALID');
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['filters.campaignId', 'filters.color']));
    expect((await api('POST', '/v1/reports/activity/runs', { filters: {} })).json().code).toBe('REPORT_FILTERS_INVALID');
    expect((await api('POST', '/v1/reports/calls/runs', { filters: {}, format: 'pdf' })).statusCode).toBe(400);
  });

  it('keeps the history of who ran what; deletes files after the tenant retention and answers 410, the run stays', async () => {
    const history = (await api('GET', '/v1/reports/runs?reportId=interactions', undefined, tenant.viewerKey)).json();
    expect(history.items.length).toBeGreaterThanOrEqual(2);
    expect(history.items[0]).toMatchObject({ reportId: 'interactions', createdBy: { name: 'supervisor Relatórios SA' }, filters: lastWeek });
    expect((await api('GET', '/v1/reports/runs', undefined, other.viewerKey)).json().items).toEqual([]);

    expect((await api('PUT', '/v1/reports/settings', { retentionDays: 2 })).statusCode).toBe(403);
    expect((await api('PUT', '/v1/reports/settings', { retentionDays: 2 }, tenant.adminKey)).json()).toEqual({ retentionDays: 2 });
    const done = await run('calls', { filters: lastWeek });
    const expires = new Date(done.expiresAt).getTime() - new Date(done.finishedAt).getTime();
    expect(Math.round(expires / 86_400_000)).toBe(2);

    await stack.database.db
      .updateTable('exports')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', done.id)
      .execute();
    expect(await createReportActivities({ db: stack.database.db }).deleteExpiredReportFiles()).toBe(1);
    const gone = await download(done.id);
    expect(gone.statusCode).toBe(410);
    expect(gone.json().code).toBe('REPORT_FILE_EXPIRED');
    expect((await api('GET', `/v1/reports/runs/${done.id}`)).json()).toMatchObject({ status: 'completed', fileDeletedAt: expect.any(String) });
    const chunks = await stack.database.db.selectFrom('export_chunks').select('seq').where('export_id', '=', done.id).execute();
    expect(chunks).toEqual([]);
  });
});
