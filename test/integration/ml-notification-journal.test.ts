import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationRow } from '../../src/db/mercadolivre';
import { createNotificationJournal } from '../../src/db/notification-journal';
import { createTestStack, type TestStack } from '../helpers/app';

const CLIENT_ID = '5569000000001';
const SELLER = 468424240;

let stack: TestStack;
let tenantId: string;
let accountId: string;
const db = () => stack.database.db;

beforeAll(async () => {
  stack = await createTestStack({ name: 'ml-journal', env: { ML_CLIENT_ID: CLIENT_ID, ML_CLIENT_SECRET: 'journal-secret' } });
  tenantId = (await stack.createTenant('Loja Journal')).tenantId;
  const account = await db()
    .insertInto('ml_accounts')
    .values({ tenant_id: tenantId, seller_id: String(SELLER), nickname: 'LOJA_JOURNAL', status: 'connected' })
    .returning('id')
    .executeTakeFirstOrThrow();
  accountId = account.id;
});
afterAll(async () => {
  await stack?.close();
});

const rowOf = (dedupKey: string, extra: Partial<NotificationRow> = {}): NotificationRow => ({
  dedupKey,
  tenantId,
  accountId,
  topic: 'questions',
  resource: `/questions/${dedupKey}`,
  userId: String(SELLER),
  applicationId: CLIENT_ID,
  attempts: 1,
  source: 'webhook',
  ...extra,
});

describe('notification journal (group commit)', () => {
  it('stores a burst of concurrent webhook posts once each, folding repeats into the first row', async () => {
    const distinct = 600;
    const bodies = Array.from({ length: distinct }, (_, i) => ({
      _id: `burst-${i}`,
      resource: `/questions/${900_000 + i}`,
      user_id: String(SELLER),
      topic: 'questions',
      application_id: Number(CLIENT_ID),
      attempts: 1,
    }));
    // Every tenth notification is delivered three times (two retries, with growing `attempts`), all at once.
    const repeats = bodies
      .filter((_, i) => i % 10 === 0)
      .flatMap((b) => [
        { ...b, attempts: 2 },
        { ...b, attempts: 3 },
      ]);
    const all = [...bodies, ...repeats].sort(() => Math.random() - 0.5);
    const answers = await Promise.all(all.map((payload) => stack.app.inject({ method: 'POST', url: '/v1/webhooks/mercadolivre', payload })));
    expect(answers.map((a) => a.statusCode).filter((s) => s !== 200)).toEqual([]);

    const rows = await db().selectFrom('ml_notifications').selectAll().where('dedup_key', 'like', 'id:burst-%').execute();
    expect(rows).toHaveLength(distinct);
    expect(rows.every((r) => r.state === 'pending' && r.account_id === accountId)).toBe(true);
    // The duplicate counters are bumped just after the batch is answered: poll for them.
    const repeatedResources = new Set(repeats.map((b) => b.resource));
    const deadline = Date.now() + 10_000;
    let counted = rows;
    while (Date.now() < deadline) {
      counted = await db().selectFrom('ml_notifications').selectAll().where('dedup_key', 'like', 'id:burst-%').execute();
      if (counted.reduce((sum, r) => sum + r.duplicates, 0) >= repeats.length) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const repeated = counted.filter((r) => r.duplicates > 0);
    expect(repeated.map((r) => r.resource).sort()).toEqual([...repeatedResources].sort());
    expect(repeated.every((r) => r.duplicates === 2 && r.attempts === 3)).toBe(true);
    expect(counted.filter((r) => !repeatedResources.has(r.resource)).every((r) => r.duplicates === 0 && r.attempts === 1)).toBe(true);
  });

  it('answers 200 only after the row is committed: every answered notification is in the table', async () => {
    const payload = { _id: 'durable-1', resource: '/questions/1', user_id: SELLER, topic: 'questions', application_id: CLIENT_ID };
    const res = await stack.app.inject({ method: 'POST', url: '/v1/webhooks/mercadolivre', payload });
    expect(res.statusCode).toBe(200);
    const row = await db().selectFrom('ml_notifications').select('state').where('dedup_key', '=', 'id:durable-1').executeTakeFirst();
    expect(row?.state).toBe('pending');
  });

  it('groups rows into shared INSERTs, and a failing INSERT fails only its own batch', async () => {
    const journal = createNotificationJournal(db(), { maxBatch: 5, maxWaitMs: 1, maxInFlight: 1 });
    // The first batch holds a row the table refuses (an account that does not exist): all five fail together …
    const first = Array.from({ length: 5 }, (_, i) =>
      journal.append(rowOf(`bad-batch-${i}`, i === 2 ? { accountId: '00000000-0000-4000-8000-000000000000' } : {})),
    );
    // … while the next batch, queued behind it, is stored.
    const second = Array.from({ length: 5 }, (_, i) => journal.append(rowOf(`good-batch-${i}`)));
    const [firstOutcomes, secondOutcomes] = await Promise.all([Promise.allSettled(first), Promise.allSettled(second)]);
    expect(firstOutcomes.map((o) => o.status)).toEqual(Array(5).fill('rejected'));
    expect(secondOutcomes.map((o) => o.status)).toEqual(Array(5).fill('fulfilled'));
    const stored = await db().selectFrom('ml_notifications').select('dedup_key').where('dedup_key', 'like', '%-batch-%').orderBy('dedup_key').execute();
    expect(stored.map((r) => r.dedup_key)).toEqual(Array.from({ length: 5 }, (_, i) => `good-batch-${i}`));
    await journal.drain();
  });

  it('answers 503 when the notification cannot be stored, so Mercado Livre sends it again', async () => {
    // A notification for an account deleted under the webhook's seller cache cannot be written.
    const other = await db()
      .insertInto('ml_accounts')
      .values({ tenant_id: tenantId, seller_id: '777000111', nickname: 'LOJA_APAGADA', status: 'connected' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const payload = { _id: 'gone-1', resource: '/questions/2', user_id: 777000111, topic: 'questions', application_id: CLIENT_ID };
    expect((await stack.app.inject({ method: 'POST', url: '/v1/webhooks/mercadolivre', payload })).statusCode).toBe(200);
    await db().deleteFrom('ml_notifications').where('account_id', '=', other.id).execute();
    await db().deleteFrom('ml_accounts').where('id', '=', other.id).execute();
    const res = await stack.app.inject({ method: 'POST', url: '/v1/webhooks/mercadolivre', payload: { ...payload, _id: 'gone-2' } });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('NOTIFICATION_NOT_STORED');
  });
});
