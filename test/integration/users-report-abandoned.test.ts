import { afterAll, beforeAll, expect, it } from 'vitest';
import { createUser } from '../../src/db/accounts';
import { assignAgents, createAgent } from '../../src/db/agents';
import { agentFigures } from '../../src/db/reports/agent-figures';
import { createTestStack, type TestStack, type TestTenant } from '../helpers/app';

// Relatório de Usuários, `abandonadas_logado`: the calls of an agent's campaigns that ended
// abandoned while that agent was logged in — not those of other campaigns, nor those while offline.
let stack: TestStack;
let tenant: TestTenant;
const agents: Record<'early' | 'late' | 'elsewhere', string> = { early: '', late: '', elsewhere: '' };
const base = Date.now() - 600_000;
const at = (s: number) => new Date(base + s * 1000);

beforeAll(async () => {
  stack = await createTestStack({ name: 'users-report-abandoned' });
  tenant = await stack.createTenant('Abandonos');
  const db = stack.database.db;
  const tenantId = tenant.tenantId;
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
  const campaign = async (name: string) =>
    (
      await db
        .insertInto('dialer_campaigns')
        .values({ tenant_id: tenantId, name, name_key: name.toLowerCase(), group_id: group.id, strategy_id: strategy.id, status: 'running' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  const ours = await campaign('Nossa');
  const theirs = await campaign('Outra');
  for (const [n, name] of (['early', 'late', 'elsewhere'] as const).entries()) {
    const user = await createUser(db, { tenantId, name, email: `${name}@empresa.test`, role: 'agent' });
    agents[name] = await db.transaction().execute(async (trx) => {
      const agent = await createAgent(trx, { tenantId, userId: user.id, sipEndpoint: `PJSIP/agent-${7100 + n}`, createdBy: null });
      await assignAgents(trx, { tenantId, campaignId: name === 'elsewhere' ? theirs : ours, agentIds: [agent.id] });
      return agent.id;
    });
  }
  // early: logged in 0–50 s; late: from 60 s on; elsewhere: all along, on the other campaign.
  const event = (agentId: string, s: number, from: 'offline' | 'available', to: 'offline' | 'available') => ({
    tenant_id: tenantId,
    agent_id: agentId,
    from_state: from,
    to_state: to,
    pause_reason_id: null,
    reason: 'test',
    actor_kind: 'agent' as const,
    actor_user_id: null,
    call_key: null,
    campaign_id: null,
    at: at(s),
  });
  await db
    .insertInto('agent_state_events')
    .values([
      event(agents.early, 0, 'offline', 'available'),
      event(agents.early, 50, 'available', 'offline'),
      event(agents.late, 60, 'offline', 'available'),
      event(agents.elsewhere, 0, 'offline', 'available'),
    ])
    .execute();
  // Our campaign: abandoned at 20 s (early in), at 70 s and 80 s (late in), answered at 30 s; the other: abandoned at 40 s.
  const calls = [
    { campaignId: ours, s: 20, outcome: 'abandoned' },
    { campaignId: ours, s: 30, outcome: 'answered' },
    { campaignId: ours, s: 70, outcome: 'abandoned' },
    { campaignId: ours, s: 80, outcome: 'abandoned' },
    { campaignId: theirs, s: 40, outcome: 'abandoned' },
  ];
  await db
    .insertInto('dial_attempts')
    .values(
      calls.map((c, i) => ({
        attempt_key: `dc:${c.campaignId}:${i}:1`,
        tenant_id: tenantId,
        campaign_id: c.campaignId,
        contact_id: i,
        dial_no: 1,
        attempt_no: 1,
        phone: `551199999100${i}`,
        strategy_version: 1,
        state: 'done' as const,
        outcome: c.outcome,
        started_at: at(c.s - 10),
        answered_at: at(c.s - 3),
        ended_at: at(c.s),
        abandoned_at: c.outcome === 'abandoned' ? at(c.s) : null,
      })),
    )
    .execute();
});
afterAll(() => stack?.close());

it("counts the abandoned calls of each agent's campaigns while that agent was logged in", async () => {
  const figures = await agentFigures(stack.database.db, tenant.tenantId, { from: at(-60).toISOString(), to: at(120).toISOString() });
  const of = (id: string) => figures.find((f) => f.agentId === id)?.abandonedWhileLoggedIn;
  expect({ early: of(agents.early), late: of(agents.late), elsewhere: of(agents.elsewhere) }).toEqual({ early: 1, late: 2, elsewhere: 1 });
  // The period cuts the calls too: from 75 s only the late agent's last one.
  const later = await agentFigures(stack.database.db, tenant.tenantId, { from: at(75).toISOString(), to: at(120).toISOString() });
  expect(later.find((f) => f.agentId === agents.late)?.abandonedWhileLoggedIn).toBe(1);
  expect(later.find((f) => f.agentId === agents.early)?.abandonedWhileLoggedIn).toBe(0);
});
