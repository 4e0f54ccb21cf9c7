import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordInteraction, recordInteractions } from '../../src/db/interactions';
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
