import { afterAll, beforeAll, expect, it } from 'vitest';
import { bootstrapTenant, createUser } from '../../src/db/accounts';
import { assignAgents, createAgent } from '../../src/db/agents';
import { reportSources } from '../../src/db/reports';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let database: TestDatabase;
let tenantId: string;
let busy: string;
let idle: string;

const at = (hhmm: string) => new Date(`2026-12-01T${hhmm}:00Z`);

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  tenantId = (await bootstrapTenant(db, { tenantName: 'Relatório de agentes' })).tenant.id;
  const agentOf = async (name: string, sip: string) => {
    const user = await createUser(db, { tenantId, name, email: `${sip.split('/')[1]}@test`, role: 'agent' });
    return (await db.transaction().execute((trx) => createAgent(trx, { tenantId, userId: user.id, sipEndpoint: sip, createdBy: null }))).id;
  };
  busy = await agentOf('Ana', 'PJSIP/agent-1');
  idle = await agentOf('Bruno', 'PJSIP/agent-2');
  const [lunch, training] = await db
    .insertInto('agent_pause_reasons')
    .values([
      { tenant_id: tenantId, name: 'Almoço', name_key: 'almoco' },
      { tenant_id: tenantId, name: 'Treinamento', name_key: 'treinamento' },
    ])
    .returning('id')
    .execute();
  const group = await db
    .insertInto('contact_groups')
    .values({ tenant_id: tenantId, kind: 'dialer', name: 'G', name_key: 'g', source: 'csv' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const strategy = await db
    .insertInto('dial_strategies')
    .values({ tenant_id: tenantId, name: 'S', name_key: 's', config: '{}' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const campaign = await db
    .insertInto('dialer_campaigns')
    .values({ tenant_id: tenantId, name: 'C', name_key: 'c', group_id: group.id, strategy_id: strategy.id, status: 'running' })
    .returning('id')
    .executeTakeFirstOrThrow();
  // Ana's day, as the state table writes it (times fixed so the report's sums are known).
  const day: [string, string, string, string, string | null][] = [
    ['11:00', 'offline', 'available', 'log_in', null],
    ['12:10', 'available', 'on_call', 'take_call', null],
    ['12:15', 'on_call', 'wrap_up', 'end_call', null],
    ['12:16', 'wrap_up', 'available', 'ready', null],
    ['12:30', 'available', 'paused', 'pause', lunch.id],
    ['13:30', 'paused', 'available', 'ready', null],
    ['13:40', 'available', 'paused', 'pause', training.id],
    ['13:50', 'paused', 'offline', 'log_out', null],
  ];
  await db
    .insertInto('agent_state_events')
    .values(
      day.map(([time, from, to, reason, pause]) => ({
        tenant_id: tenantId,
        agent_id: busy,
        from_state: from as never,
        to_state: to as never,
        reason,
        pause_reason_id: pause,
        actor_kind: reason === 'take_call' || reason === 'end_call' ? ('system' as const) : ('agent' as const),
        call_key: reason === 'take_call' || reason === 'end_call' ? 'call-1' : null,
        at: at(time),
      })),
    )
    .execute();
  await db
    .insertInto('agent_calls')
    .values({ call_key: 'call-1', tenant_id: tenantId, campaign_id: campaign.id, agent_id: busy, reserved_at: at('12:10'), released_at: at('12:15') })
    .execute();
  // Both agents take the campaign's calls; Bruno never logs in. Abandoned at 12:20 (Ana logged in) and at 13:55 (Ana
  // logged out); answered at 12:25.
  await db.transaction().execute((trx) => assignAgents(trx, { tenantId, campaignId: campaign.id, agentIds: [busy, idle] }));
  const calls: [string, string][] = [
    ['12:20', 'abandoned'],
    ['12:25', 'answered'],
    ['13:55', 'abandoned'],
  ];
  await db
    .insertInto('dial_attempts')
    .values(
      calls.map(([time, outcome], i) => ({
        attempt_key: `dc:${campaign.id}:${i}:1`,
        tenant_id: tenantId,
        campaign_id: campaign.id,
        contact_id: i,
        dial_no: 1,
        attempt_no: 1,
        phone: `551199999100${i}`,
        strategy_version: 1,
        state: 'done' as const,
        outcome,
        started_at: at(time),
        ended_at: at(time),
        abandoned_at: outcome === 'abandoned' ? at(time) : null,
      })),
    )
    .execute();
});
afterAll(async () => database?.destroy());

const agentRows = async (from: string, to: string) => {
  const page = await reportSources.users(database.db, { tenantId, filters: { from, to } }, null, 1000);
  return page.rows.filter((r) => r[0] === 'agente');
};

it('reports per agent the time logged in, per state and per pause, calls handled, talk time and average handle time of the period', async () => {
  const rows = await agentRows('2026-12-01T12:00:00Z', '2026-12-01T14:00:00Z');
  expect(rows.map((r) => r[1])).toEqual([busy, idle]);
  const [ana, bruno] = rows;
  // Columns 9–15: logged in, per state, per pause, calls, talk, AHT, abandoned while logged in.
  expect(ana.slice(9)).toEqual([
    110 * 60_000,
    'available 2040 s | on_call 300 s | wrap_up 60 s | paused 4200 s',
    'Almoço 3600 s | Treinamento 600 s',
    1,
    300_000,
    360_000,
    1,
  ]);
  expect(ana[7]).toEqual(at('13:50'));
  expect(bruno.slice(9)).toEqual([0, null, null, 0, 0, null, 0]);
});

it("counts the abandoned calls of the agent's campaigns while the agent was logged in, in the period", async () => {
  const abandoned = async (from: string, to: string) => (await agentRows(from, to)).map((r) => [r[2], r[15]]);
  expect(await abandoned('2026-12-01T12:20:00Z', '2026-12-01T15:00:00Z')).toEqual([
    ['Ana', 1],
    ['Bruno', 0],
  ]);
  expect(await abandoned('2026-12-01T12:21:00Z', '2026-12-01T15:00:00Z')).toEqual([
    ['Ana', 0],
    ['Bruno', 0],
  ]);
});

it('cuts the states to the period: the state in force at its start counts from the start', async () => {
  const [ana] = await agentRows('2026-12-01T12:20:00Z', '2026-12-01T12:40:00Z');
  expect(ana.slice(9, 15)).toEqual([20 * 60_000, 'available 600 s | paused 600 s', 'Almoço 600 s', 0, 0, null]);
});
