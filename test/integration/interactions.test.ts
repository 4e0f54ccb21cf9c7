import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCallInteractions } from '../../src/db/interaction-sources';
import { recordInteraction, recordInteractions } from '../../src/db/interactions';
import { openIvrCall, recordIvrStep } from '../../src/db/ivr-calls';
import { ivrFlowDefinitionSchema } from '../../src/domain/dialer/ivr-flow';
import { startIvr, stepIvr } from '../../src/domain/dialer/ivr-interpreter';
import { collectionsFlow } from '../fixtures/ivr/collections-flow';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let t: TestDatabase;
let tenantId: string;
beforeAll(async () => {
  t = await createTestDatabase('inter');
  tenantId = (await t.db.insertInto('tenants').values({ name: 'T' }).returning('id').executeTakeFirstOrThrow()).id;
});
afterAll(() => t?.destroy());

const row = (id: number) => t.db.selectFrom('interactions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('recordInteraction', () => {
  it('upserts by (tenant, channel, source key): a second writer merges, a repeated write changes nothing', async () => {
    const first = await recordInteraction(t.db, {
      tenantId,
      channel: 'whatsapp',
      direction: 'outbound',
      kind: 'template_message',
      sourceKey: 'bm:s1:1',
      phone: '5548998288774',
      startedAt: new Date('2026-12-02T14:05:00Z'),
      outcome: 'read',
      events: [{ type: 'read', key: 'read', at: new Date('2026-12-02T14:07:00Z') }],
    });
    expect(first.inserted).toBe(true);
    const second = await recordInteraction(t.db, {
      tenantId,
      channel: 'whatsapp',
      direction: 'outbound',
      kind: 'template_message',
      sourceKey: 'bm:s1:1',
      phone: '5548998288774',
      startedAt: new Date('2026-12-02T14:05:01Z'),
      outcome: 'accepted',
      details: { template: 'promo' },
      events: [
        { type: 'accepted', key: 'accepted', at: new Date('2026-12-02T14:05:00Z') },
        { type: 'read', key: 'read', at: new Date('2026-12-02T14:09:00Z') },
      ],
    });
    expect(second).toEqual({ id: first.id, sourceKey: 'bm:s1:1', inserted: false });
    const r = await row(first.id);
    expect(r.phone_key).toBe('554898288774');
    expect(r.started_at.toISOString()).toBe('2026-12-02T14:05:00.000Z');
    expect(r.outcome).toBe('accepted');
    expect(r.details).toEqual({ template: 'promo' });
    // `read` kept its first time; `accepted` added once.
    expect(r.events.map((e) => [e.key, e.at])).toEqual([
      ['read', '2026-12-02T14:07:00.000Z'],
      ['accepted', '2026-12-02T14:05:00.000Z'],
    ]);
    await recordInteraction(t.db, {
      tenantId,
      channel: 'whatsapp',
      direction: 'outbound',
      kind: 'template_message',
      sourceKey: 'bm:s1:1',
      events: [{ type: 'accepted', key: 'accepted', at: new Date() }],
    });
    expect((await row(first.id)).events).toHaveLength(2);
  });

  it("writes a batch in one statement, merging entries of the same key, inside the caller's transaction", async () => {
    await expect(
      t.db.transaction().execute(async (trx) => {
        await recordInteractions(trx, [{ tenantId, channel: 'voice', direction: 'outbound', kind: 'call', sourceKey: 'dc:rolled-back' }]);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    const recorded = await recordInteractions(t.db, [
      {
        tenantId,
        channel: 'voice',
        direction: 'outbound',
        kind: 'call',
        sourceKey: 'dc:a',
        phone: '551133334444',
        startedAt: new Date('2026-12-01T10:00:00Z'),
      },
      {
        tenantId,
        channel: 'voice',
        direction: 'outbound',
        kind: 'call',
        sourceKey: 'dc:b',
        phone: '551133334445',
        startedAt: new Date('2026-12-01T10:00:00Z'),
      },
      {
        tenantId,
        channel: 'voice',
        direction: 'outbound',
        kind: 'call',
        sourceKey: 'dc:a',
        endedAt: new Date('2026-12-01T10:01:00Z'),
        outcome: 'answered',
        handledBy: { kind: 'agent', id: 'agent-7' },
        details: { talkMs: 42000 },
      },
    ]);
    expect(recorded.map((r) => r.sourceKey).sort()).toEqual(['dc:a', 'dc:b']);
    const a = await t.db.selectFrom('interactions').selectAll().where('source_key', '=', 'dc:a').executeTakeFirstOrThrow();
    expect([a.outcome, a.handled_by_kind, a.handled_by_id, a.phone, a.ended_at?.toISOString()]).toEqual([
      'answered',
      'agent',
      'agent-7',
      '551133334444',
      '2026-12-01T10:01:00.000Z',
    ]);
    const gone = await sql<{ n: number }>`SELECT count(*)::int AS n FROM interactions WHERE source_key = 'dc:rolled-back'`.execute(t.db);
    expect(gone.rows[0].n).toBe(0);
  });
});

describe('a call attempt’s interaction and its IVR flow', () => {
  const flow = ivrFlowDefinitionSchema.parse(collectionsFlow);
  const ctx = { flow, fields: {} };
  let campaignId: string;
  let flowId: string;
  let contactId: number;

  beforeAll(async () => {
    // A running campaign on a group of one contact, and a flow.
    const { rows } = await sql<{ campaign_id: string; contact_id: number; flow_id: string }>`
      WITH g AS (INSERT INTO contact_groups (tenant_id, kind, name, name_key, source) VALUES (${tenantId}, 'dialer', 'G', 'g', 'csv') RETURNING id),
        s AS (INSERT INTO dial_strategies (tenant_id, name, name_key, config) VALUES (${tenantId}, 'S', 's', '{}') RETURNING id),
        c AS (INSERT INTO dialer_campaigns (tenant_id, name, name_key, group_id, strategy_id, status)
          SELECT ${tenantId}, 'URA', 'ura', g.id, s.id, 'running' FROM g, s RETURNING id),
        ct AS (INSERT INTO contacts (group_id, name, phones) SELECT g.id, 'Maria', ARRAY['5511987650001'] FROM g RETURNING id),
        f AS (INSERT INTO ivr_flows (tenant_id, name, name_key, definition) VALUES (${tenantId}, 'Cobrança', 'cobranca', ${JSON.stringify(flow)}::jsonb) RETURNING id)
      SELECT c.id AS campaign_id, ct.id::int AS contact_id, f.id AS flow_id FROM c, ct, f`.execute(t.db);
    ({ campaign_id: campaignId, contact_id: contactId, flow_id: flowId } = rows[0]!);
  });

  /** An attempt answered, in the flow's first prompt; `end` records the call's end as the dialer does. */
  let dials = 0;
  async function answeredInFlow(key: string) {
    await sql`INSERT INTO dial_attempts (attempt_key, tenant_id, campaign_id, contact_id, dial_no, attempt_no, phone, strategy_version, state, started_at)
      VALUES (${key}, ${tenantId}, ${campaignId}, ${contactId}, ${++dials}, 1, '5511987650001', 1, 'dialing', now())`.execute(t.db);
    const first = startIvr(ctx, key);
    const call = { attemptKey: key, tenantId, campaignId, contactId, phone: '5511987650001', flowId, flowVersion: 1 };
    expect(await openIvrCall(t.db, call, first, new Date())).toBe(true);
    const end = () =>
      t.db.transaction().execute(async (trx) => {
        await trx.updateTable('dial_attempts').set({ state: 'done', outcome: 'answered', ended_at: new Date() }).where('attempt_key', '=', key).execute();
        await recordCallInteractions(trx, [key]);
      });
    return { state: first.state, end };
  }
  const ivrOf = async (key: string) =>
    ((await t.db.selectFrom('interactions').select('details').where('source_key', '=', key).executeTakeFirstOrThrow()).details as { ivr?: unknown }).ivr;

  it('the caller hangs up mid-prompt and the dialer records the call first: the flow’s end still reaches the interaction', async () => {
    const { state, end } = await answeredInFlow('ivr-late-end');
    await end();
    expect(await ivrOf('ivr-late-end')).toEqual({
      flowId,
      flowName: 'Cobrança',
      flowVersion: 1,
      keys: '',
      finalNode: 'saudacao',
      optedOut: false,
      path: ['saudacao'],
    });
    expect(await recordIvrStep(t.db, 'ivr-late-end', state, stepIvr(ctx, state, { type: 'hangup' }), new Date())).toBe(true);
    expect(await ivrOf('ivr-late-end')).toMatchObject({ finalNode: 'saudacao', path: ['saudacao'], exit: 'hangup' });
  });

  it('the flow ends first: the call’s interaction, written at its end, has the whole path; a call without a flow has no ivr', async () => {
    const { state, end } = await answeredInFlow('ivr-early-end');
    expect(await recordIvrStep(t.db, 'ivr-early-end', state, stepIvr(ctx, state, { type: 'hangup' }), new Date())).toBe(true);
    // Not over for the dialer yet: no interaction written by the flow.
    expect(await t.db.selectFrom('interactions').select('id').where('source_key', '=', 'ivr-early-end').executeTakeFirst()).toBeUndefined();
    await end();
    expect(await ivrOf('ivr-early-end')).toMatchObject({ path: ['saudacao'], exit: 'hangup' });

    await sql`INSERT INTO dial_attempts (attempt_key, tenant_id, campaign_id, contact_id, dial_no, attempt_no, phone, strategy_version, state, outcome, started_at)
      VALUES ('no-ivr', ${tenantId}, ${campaignId}, ${contactId}, ${++dials}, 1, '5511987650001', 1, 'done', 'busy', now())`.execute(t.db);
    await recordCallInteractions(t.db, ['no-ivr']);
    expect(await ivrOf('no-ivr')).toBeUndefined();
  });
});
