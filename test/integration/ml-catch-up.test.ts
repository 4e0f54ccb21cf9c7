import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapTenant } from '../../src/db/accounts';
import { createSecretBox, generateSecretsKey } from '../../src/db/secrets';
import { createMercadoLivreActivities } from '../../src/activities/mercadolivre/index';
import { startMercadoLivreSimulator, type MercadoLivreSimulator } from '../../src/simulators/mercadolivre/server';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

const CLIENT_ID = '5569000000001';
const CLIENT_SECRET = 'catch-up-secret';
const SELLER = 468424240;
const SECRETS_KEY = generateSecretsKey();

let sim: MercadoLivreSimulator;
let database: TestDatabase;
let accountId: string;

beforeAll(async () => {
  // No callback URL: every notification the simulator makes stays undelivered, listed in /missed_feeds.
  sim = await startMercadoLivreSimulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  database = await createTestDatabase('mlcatch');
  const { tenant } = await bootstrapTenant(database.db, { tenantName: 'Loja Catch-up' });
  const redirect = 'http://127.0.0.1:9/cb';
  const grant = sim.store.token({
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    grant_type: 'authorization_code',
    code: sim.store.issueCode(SELLER, redirect),
    redirect_uri: redirect,
  });
  const box = createSecretBox(SECRETS_KEY);
  const account = await database.db
    .insertInto('ml_accounts')
    .values({
      tenant_id: tenant.id,
      seller_id: String(SELLER),
      nickname: 'LOJA_SIMULADA',
      status: 'connected',
      access_token_enc: box.seal(grant.access_token),
      refresh_token_enc: box.seal(grant.refresh_token),
      token_expires_at: new Date(Date.now() + grant.expires_in * 1000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  accountId = account.id;
});
afterAll(async () => {
  await database?.destroy();
  await sim?.stop();
});

describe('periodic catch-up', () => {
  it('reads every page of /missed_feeds and of the unanswered questions, and stores each once', async () => {
    // 230 questions notified but never delivered (three pages of missed feeds at 100 a page) …
    const notified = Array.from({ length: 230 }, (_, i) => sim.ask({ sellerId: SELLER, text: `Pergunta notificada ${i}` }));
    // … and 140 more Mercado Livre never notified at all: only the search finds them (eight pages of 50 in all).
    const silent = Array.from({ length: 140 }, (_, i) => sim.store.ask({ sellerId: SELLER, text: `Pergunta silenciosa ${i}` }));
    // One is already known to us as unanswered: the second net leaves it alone.
    const known = silent[0];
    const { tenant_id } = await database.db.selectFrom('ml_accounts').select('tenant_id').where('id', '=', accountId).executeTakeFirstOrThrow();
    await database.db
      .insertInto('ml_questions')
      .values({
        tenant_id,
        account_id: accountId,
        ml_question_id: String(known.id),
        item_id: known.item_id,
        buyer_id: String(known.from.id),
        text: known.text,
        status: 'UNANSWERED',
        asked_at: new Date(),
        sla_deadline: new Date(Date.now() + 3_600_000),
      })
      .execute();

    const activities = createMercadoLivreActivities(database.db, {
      apiUrl: sim.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      secretsKey: SECRETS_KEY,
    });
    const result = await activities.mlCatchUp({ accountId });
    expect(result).toEqual({ missed: 230, unanswered: 230 + 140 - 1 });

    const rows = await database.db.selectFrom('ml_notifications').select(['resource', 'source', 'state', 'dedup_key']).execute();
    expect(rows.every((r) => r.source === 'catch-up' && r.state === 'pending')).toBe(true);
    const resources = new Set(rows.map((r) => r.resource));
    for (const q of [...notified, ...silent.slice(1)]) expect(resources.has(`/questions/${q.id}`)).toBe(true);
    expect(resources.has(`/questions/${known.id}`)).toBe(false);
    expect(rows.filter((r) => !r.dedup_key.startsWith('catch-up|'))).toHaveLength(230);

    // A second run finds the same things and adds nothing.
    await activities.mlCatchUp({ accountId });
    expect(await database.db.selectFrom('ml_notifications').select('id').execute()).toHaveLength(rows.length);
  });
});
