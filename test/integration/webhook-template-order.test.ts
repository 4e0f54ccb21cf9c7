import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateUpdatesToDefer } from '../../src/activities/broadcast/webhook-apply';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

/**
 * With appliers side by side (a helper joins while a backlog lasts), a template's status changes
 * still apply in the order Meta sent them: a stored POST that carries one waits while an older POST
 * of its channel is unapplied outside the batch that holds it.
 */

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('webhook_order');
});
afterAll(async () => {
  await database?.destroy();
});

const tenantId = randomUUID();
const statusPayload = { object: 'whatsapp_business_account', entry: [{ id: 'w', changes: [{ field: 'messages', value: { statuses: [] } }] }] };
const templatePayload = (event: string) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: 'w', changes: [{ field: 'message_template_status_update', value: { event, message_template_name: 'lembrete' } }] }],
});

describe('template status changes keep their order with appliers side by side', () => {
  it('defers a template change while an older POST of its channel is unapplied elsewhere, and only then', async () => {
    const channel = randomUUID();
    const otherChannel = randomUUID();
    // Rolled back: nothing here is ever applied or seen by another test.
    await database.db
      .transaction()
      .execute(async (trx) => {
        const insert = async (channelId: string, payload: unknown) =>
          await trx
            .insertInto('webhook_events')
            .values({ channel_id: channelId, tenant_id: tenantId, payload: JSON.stringify(payload) })
            .returning(['id', 'channel_id', 'payload'])
            .executeTakeFirstOrThrow();
        const otherOlder = await insert(otherChannel, statusPayload);
        const older = await insert(channel, statusPayload);
        const paused = await insert(channel, templatePayload('PAUSED'));
        const approved = await insert(channel, templatePayload('APPROVED'));

        // The older status POST is held by another applier: both template changes wait.
        expect([...(await templateUpdatesToDefer(trx, [paused, approved]))].sort()).toEqual([paused.id, approved.id].sort());
        // Held by this batch, it goes first: nothing waits (the batch applies in id order).
        expect(await templateUpdatesToDefer(trx, [older, paused, approved])).toEqual(new Set());
        // Once it is applied, the oldest template change goes; the newer one still waits for it.
        await trx.updateTable('webhook_events').set({ applied_at: new Date() }).where('id', '=', older.id).execute();
        expect(await templateUpdatesToDefer(trx, [paused])).toEqual(new Set());
        expect(await templateUpdatesToDefer(trx, [approved])).toEqual(new Set([approved.id]));
        // Another channel's backlog holds nothing back, and a batch of statuses alone defers nothing.
        expect(await templateUpdatesToDefer(trx, [otherOlder])).toEqual(new Set());
        throw new RolledBack();
      })
      .catch((error) => {
        if (!(error instanceof RolledBack)) throw error;
      });
  });
});

class RolledBack extends Error {}
