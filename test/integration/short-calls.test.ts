import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reportSources } from '../../src/db/reports';
import { shortCallDays } from '../../src/db/short-calls';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';

let stack: TestStack;
let tenant: TestTenant;
let campaignId: string;

const s = (iso: string) => new Date(iso);

beforeAll(async () => {
  stack = await createTestStack({ name: 'short-calls', env: { SHORT_CALL_GUARD_DAILY_CALLS: '5', SHORT_CALL_GUARD_MAX_SHARE: '0.6' } });
  tenant = await stack.createTenant('Curtas');
  const db = stack.database.db;
  const group = await db
    .insertInto('contact_groups')
    .values({ tenant_id: tenant.tenantId, kind: 'dialer', name: 'G', name_key: 'g', source: 'csv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const strategy = await db
    .insertInto('dial_strategies')
    .values({ tenant_id: tenant.tenantId, name: 'S', name_key: 's', config: '{}' })
    .returning('id')
    .executeTakeFirstOrThrow();
  campaignId = (
    await db
      .insertInto('dialer_campaigns')
      .values({ tenant_id: tenant.tenantId, name: 'Cobrança', name_key: 'cobranca', group_id: group.id, strategy_id: strategy.id, status: 'running' })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  // The calls of "today" span 100 s; anchor them after today's São Paulo midnight (from the database's clock, as the
  // queries read it) so that they stay in today whatever the time of day the test runs at.
  const { rows } = await sql<{ midnight: Date; now: Date }>`
    SELECT date_trunc('day', now() AT TIME ZONE 'America/Sao_Paulo') AT TIME ZONE 'America/Sao_Paulo' AS midnight, now() AS now`.execute(db);
  const anchor = Math.max(rows[0].now.getTime(), rows[0].midnight.getTime() + 101_000);
  const ago = (sec: number) => new Date(anchor - sec * 1000);
  // Today: answered 4 s (short), answered 30 s, machine hung up 2 s after answer (short), busy over in 3 s (short),
  // no answer after 30 s of ringing, one still ringing. Yesterday (São Paulo) 21:30: one short call.
  const calls: { started: Date; answered?: Date; ended?: Date; outcome?: string }[] = [
    { started: ago(100), answered: ago(95), ended: ago(91), outcome: 'answered' },
    { started: ago(100), answered: ago(95), ended: ago(65), outcome: 'answered' },
    { started: ago(100), answered: ago(80), ended: ago(78), outcome: 'answering_machine' },
    { started: ago(100), ended: ago(97), outcome: 'busy' },
    { started: ago(100), ended: ago(70), outcome: 'no_answer' },
    { started: ago(5) },
  ];
  // A fixed past day, 21:30 in São Paulo (00:30 UTC the next day).
  calls.push({ started: s('2026-11-02T00:30:00Z'), ended: s('2026-11-02T00:30:02Z'), outcome: 'busy' });
  await db
    .insertInto('dial_attempts')
    .values(
      calls.map((c, i) => ({
        attempt_key: `dc:${campaignId}:${i}:1`,
        tenant_id: tenant.tenantId,
        campaign_id: campaignId,
        contact_id: i,
        dial_no: 1,
        attempt_no: 1,
        phone: `551199999000${i}`,
        strategy_version: 1,
        state: c.ended ? ('done' as const) : ('dialing' as const),
        outcome: c.outcome ?? null,
        started_at: c.started,
        answered_at: c.answered ?? null,
        ended_at: c.ended ?? null,
      })),
    )
    .execute();
});
afterAll(() => stack.close());

it('counts per São Paulo day the calls placed and those of 6 s or less (machine hang-ups included)', async () => {
  const days = await shortCallDays(stack.database.db, tenant.tenantId, { from: '2026-11-01T00:00:00Z', to: new Date(Date.now() + 200_000).toISOString() });
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Sao_Paulo' }).format(new Date());
  expect(days[0]).toEqual({ day: '2026-11-01', placed: 1, short: 1, share: 1 });
  expect(days.at(-1)).toEqual({ day: today, placed: 6, short: 3, share: 0.5 });
});

it('shows today in the monitor with the guard from the configuration', async () => {
  const res = await stack.app.inject({ method: 'GET', url: `/v1/dialer/campaigns/${campaignId}/monitor`, headers: bearer(tenant.viewerKey) });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.json().shortCalls).toMatchObject({ placed: 6, short: 3, share: 0.5, guard: { dailyCalls: 5, maxShare: 0.6, over: false } });
});

it('adds short calls per campaign and one line per tenant day to the Relatório Discador', async () => {
  const page = await reportSources['dialer-campaigns'](stack.database.db, { tenantId: tenant.tenantId, filters: { from: '2026-11-01T00:00:00Z' } }, null, 100);
  const [campaign, ...days] = page.rows;
  expect(campaign.slice(0, 5)).toEqual(['Cobrança', campaignId, 'running', 0, 7]);
  expect(campaign.slice(18)).toEqual([4, 4 / 7, 0]);
  expect(days.map((d) => [d[0], d[2], d[4], d[18], d[19]])).toEqual([
    ['Empresa — 2026-11-01', 'dia', 1, 1, 1],
    [expect.stringMatching(/^Empresa — \d{4}-\d{2}-\d{2}$/), 'dia', 6, 3, 0.5],
  ]);
  const one = await reportSources['dialer-campaigns'](stack.database.db, { tenantId: tenant.tenantId, filters: { campaignId } }, null, 100);
  expect(one.rows).toHaveLength(1);
});
