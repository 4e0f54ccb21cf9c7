import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageTotals, type Totals } from '../../src/api/broadcast/monitor';
import { foldSendTallies } from '../../src/db/broadcast-tallies';
import type { WhatsAppSimulator } from '../../src/simulators/whatsapp/server';
import { bearer, type TestStack, type TestTenant } from '../helpers/app';
import { type BroadcastBed, createGroup, mobile, reminderVariables, startBroadcastBed, waitAllFinal, waitSendFinished } from '../helpers/broadcast';

/**
 * The send monitor counts from tallies that triggers append on every write of a message (migration
 * 0200), not from the messages. After a real send — accepted and read, failed at the answer and by a
 * status webhook, skipped for an empty variable — and after writes of every kind straight to the
 * table, its totals equal a count of the messages themselves; folding keeps them; deleting the send
 * takes its tallies along.
 */

let bed: BroadcastBed;
let sim: WhatsAppSimulator;
let stack: TestStack;
let tenant: TestTenant;

beforeAll(async () => {
  bed = await startBroadcastBed({
    name: 'broadcast_tallies',
    tenant: 'Contagens',
    campaign: 'Contagens',
    sim: { webhook: { deliveredDelayMs: 20, readDelayMs: 40 } },
    env: { BROADCAST_UNKNOWN_AFTER_MS: '3000' },
  });
  ({ sim, stack, tenant } = bed);
});
afterAll(async () => {
  await bed?.close();
});

/** The monitor's totals counted from the messages, as the monitor did before the tallies. */
async function countedFromMessages(sendIds: string[]): Promise<Omit<Totals, 'missingVariables'> & { missing: number; defaulted: number }> {
  const { rows } = await sql<{ state: keyof Totals; code: number | null; title: string | null; reason: string | null; n: number; missing: number }>`
    SELECT state, CASE WHEN state = 'failed' THEN error_code END AS code, CASE WHEN state = 'failed' THEN max(error_title) END AS title,
           CASE WHEN state = 'skipped' THEN skip_reason END AS reason, count(*)::int AS n,
           count(*) FILTER (WHERE missing_variables IS NOT NULL)::int AS missing
    FROM broadcast_messages WHERE send_id = ANY(${sendIds}::uuid[])
    GROUP BY 1, 2, 4`.execute(stack.database.db);
  const totals = { total: 0, pending: 0, sending: 0, accepted: 0, sent: 0, delivered: 0, read: 0, failed: 0, skipped: 0, unknown: 0 };
  const failedByCode: Totals['failedByCode'] = [];
  const skippedByReason: Record<string, number> = {};
  let missing = 0;
  let defaulted = 0;
  for (const r of rows) {
    totals.total += r.n;
    (totals as Record<string, number>)[r.state] += r.n;
    missing += r.missing;
    if (r.state !== 'skipped') defaulted += r.missing;
    if (r.state === 'failed') failedByCode.push({ code: r.code, title: r.title, count: r.n });
    if (r.state === 'skipped') skippedByReason[r.reason ?? 'other'] = (skippedByReason[r.reason ?? 'other'] ?? 0) + r.n;
  }
  failedByCode.sort((a, b) => b.count - a.count || (a.code ?? 0) - (b.code ?? 0));
  return { ...totals, failedByCode, skippedByReason, missing, defaulted };
}

async function expectTalliesMatch(sendIds: string[]) {
  const { totals } = await messageTotals(stack.database.db, sendIds);
  const { missingVariables, ...rest } = totals;
  const counted = await countedFromMessages(sendIds);
  rest.failedByCode.sort((a, b) => b.count - a.count || (a.code ?? 0) - (b.code ?? 0));
  expect({ ...rest, missing: missingVariables.defaulted + missingVariables.skipped, defaulted: missingVariables.defaulted }).toEqual(counted);
  return totals;
}

/** Twelve contacts; 3, 6, 9 and 12 have no due date. */
const csv = (base: number) =>
  [
    'nome;telefone1;vencimento;cidade',
    ...Array.from({ length: 12 }, (_, k) => `Cliente ${k + 1};${mobile(base + k + 1)};${(k + 1) % 3 === 0 ? '' : '10/12'};Lages`),
  ].join('\n') + '\n';

async function runSend(base: number, name: string): Promise<string> {
  const groupId = await createGroup(stack, tenant, name, csv(base));
  const res = await stack.app.inject({
    method: 'POST',
    url: `/v1/broadcast/campaigns/${bed.campaignId}/sends`,
    headers: bearer(tenant.supervisorKey),
    payload: { groupId, template: { name: 'lembrete_pagamento', language: 'pt_BR' }, variables: reminderVariables },
  });
  expect(res.statusCode).toBe(201);
  const sendId = res.json().id as string;
  await waitSendFinished(stack, sendId);
  await sim.webhooksIdle();
  await waitAllFinal(stack, sendId);
  return sendId;
}

describe('the send monitor counts from tallies every write appends', () => {
  it('equals a count of the messages after a real send with reads, failures at the answer and by status, and skips', async () => {
    // Contacts 1 and 2 fail at the answer (131026), 4 by a later status (131047); 3, 6, 9, 12 are skipped.
    sim.configure({
      injections: [
        { pattern: `^(${mobile(101)}|${mobile(102)})$`, code: 131026 },
        { pattern: `^${mobile(104)}$`, code: 131047, stage: 'status' },
      ],
    });
    try {
      const sendId = await runSend(100, 'Contagem real');
      const totals = await expectTalliesMatch([sendId]);
      expect(totals).toMatchObject({ total: 12, skipped: 4, failed: 3, read: 5 });
      expect(totals.failedByCode.map((f) => [f.code, f.count]).sort()).toEqual([
        [131026, 2],
        [131047, 1],
      ]);
      expect(totals.missingVariables.skipped).toBe(4);
      // The monitor's route answers the same counts.
      const monitor = await stack.app.inject({ method: 'GET', url: `/v1/broadcast/sends/${sendId}/monitor`, headers: bearer(tenant.viewerKey) });
      expect(monitor.statusCode).toBe(200);
      expect(monitor.json().totals).toMatchObject({ total: 12, skipped: 4, failed: 3, read: 5 });
    } finally {
      sim.configure({ injections: [] });
    }
  });

  it('follows updates, inserts and deletes made straight to the table, folds without changing a count, and goes with its send', async () => {
    const sendId = await runSend(200, 'Contagem direta');
    const db = stack.database.db;
    const other = await runSend(300, 'Outra');
    const both = [sendId, other];
    // Every key moves: state, the failure's code and title, the skip's reason, the missing variables.
    await sql`UPDATE broadcast_messages SET state = 'failed', error_code = 131000, error_title = 'Something went wrong'
      WHERE send_id = ${sendId} AND seq % 4 = 1`.execute(db);
    await sql`UPDATE broadcast_messages SET error_title = 'Outro título' WHERE send_id = ${sendId} AND seq % 8 = 1`.execute(db);
    await sql`UPDATE broadcast_messages SET state = 'skipped', skip_reason = 'opted_out', missing_variables = NULL
      WHERE send_id = ${sendId} AND state = 'skipped' AND seq % 2 = 0`.execute(db);
    await sql`UPDATE broadcast_messages SET missing_variables = ARRAY['2'] WHERE send_id = ${sendId} AND state = 'read' AND seq % 3 = 2`.execute(db);
    // One statement over two sends, and a statement that changes nothing the monitor counts.
    await sql`UPDATE broadcast_messages SET state = 'unknown' WHERE send_id = ANY(${both}::uuid[]) AND seq = 2`.execute(db);
    await sql`UPDATE broadcast_messages SET attempts = attempts + 1 WHERE send_id = ${sendId}`.execute(db);
    // A wake puts skipped messages back as pending (as the route does), then some are deleted.
    await sql`UPDATE broadcast_messages SET state = 'pending', skip_reason = NULL, skipped_at = NULL WHERE send_id = ${other} AND state = 'skipped'`.execute(
      db,
    );
    await sql`DELETE FROM broadcast_messages WHERE send_id = ${other} AND seq > 10`.execute(db);
    await sql`INSERT INTO broadcast_messages (send_id, tenant_id, contact_id, seq, phone, phone_key, state, skip_reason, skipped_at)
      SELECT send_id, tenant_id, contact_id + 1000000, seq + 100, phone, phone_key, 'skipped', 'invalid_phone', now()
      FROM broadcast_messages WHERE send_id = ${other} AND seq <= 3`.execute(db);
    await expectTalliesMatch([sendId]);
    await expectTalliesMatch([other]);
    await expectTalliesMatch(both);

    const rows = async (id: string) =>
      Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM broadcast_send_tallies WHERE send_id = ${id}`.execute(db)).rows[0].n);
    // Folding (all of it old enough here) leaves one row per key and the same counts; twice at once too.
    await sql`UPDATE broadcast_send_tallies SET at = at - interval '1 minute' WHERE send_id = ANY(${both}::uuid[])`.execute(db);
    const before = await rows(sendId);
    await Promise.all([foldSendTallies(db, both), foldSendTallies(db, both)]);
    expect(await rows(sendId)).toBeLessThan(before);
    const folded = await expectTalliesMatch(both);
    expect(folded.total).toBeGreaterThan(0);

    // A deleted send's messages and tallies go together; the other send's stay.
    await sql`DELETE FROM broadcast_sends WHERE id = ${other}`.execute(db);
    expect(await rows(other)).toBe(0);
    await expectTalliesMatch([sendId]);
  });
});
