import { sql } from 'kysely';
import { z } from 'zod';
import { sealGrant } from '../../../db/mercadolivre';
import { MercadoLivreApiError } from '../../../integrations/mercadolivre/client';
import { badRequest, conflict } from '../../problem';
import { errorResponses, unavailableResponses } from '../../problem-schema';
import type { RoutePlugin } from '../../types';
import { accountSchema, accountToApi } from '../accounts/routes';
import { mercadoLivreContext, mercadoLivreProblem } from '../shared';

/**
 * Where Mercado Livre sends the seller back. No API key: the single-use, short-lived state is the
 * proof of which tenant and user asked. The code is exchanged at once (it is short-lived too).
 */
export const mercadoLivreOauthRoutes: RoutePlugin = (app, { db, config, temporal }) => {
  const ml = mercadoLivreContext(db, config, temporal);

  app.get(
    '/mercadolivre/oauth/callback',
    {
      config: { auth: false },
      schema: {
        tags: ['mercadolivre'],
        summary: 'OAuth redirect target: exchanges the code and connects (or reconnects) the seller account',
        security: [],
        querystring: z.object({ code: z.string().min(1).max(500).optional(), state: z.string().min(1).max(200), error: z.string().max(200).optional() }),
        response: { 200: z.object({ connected: z.literal(true), account: accountSchema }), ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      ml.needConfigured();
      const { code, state, error } = request.query;
      // Single use: the state is spent by the first callback that presents it, whatever follows.
      const spent = await db
        .updateTable('ml_oauth_states')
        .set({ used_at: new Date() })
        .where('state', '=', state)
        .where('used_at', 'is', null)
        .where('expires_at', '>', new Date())
        .returningAll()
        .executeTakeFirst();
      if (!spent)
        throw badRequest('OAUTH_STATE_INVALID', 'The state is unknown, expired or already used: start again with POST /v1/mercadolivre/accounts/authorize.');
      if (error || !code) throw badRequest('OAUTH_DENIED', `The seller did not authorize the application${error ? ` (${error})` : ''}.`);
      let grant, me;
      try {
        grant = await ml.client.exchangeCode(code, ml.redirectUri);
        me = await ml.client.me(grant.access_token);
      } catch (e) {
        if (e instanceof MercadoLivreApiError && e.error === 'invalid_grant')
          throw badRequest('OAUTH_CODE_INVALID', 'Mercado Livre refused the authorization code (expired or used).');
        mercadoLivreProblem(e);
      }
      const sellerId = String(grant.user_id ?? me.id);
      const account = await db.transaction().execute(async (trx) => {
        const taken = await trx.selectFrom('ml_accounts').select(['tenant_id']).where('seller_id', '=', sellerId).executeTakeFirst();
        if (taken && taken.tenant_id !== spent.tenant_id) throw conflict('ML_SELLER_TAKEN', `The seller ${sellerId} is connected to another company.`);
        const sealed = sealGrant(ml.box, grant);
        const row = await trx
          .insertInto('ml_accounts')
          .values({
            tenant_id: spent.tenant_id,
            seller_id: sellerId,
            nickname: me.nickname ?? sellerId,
            status: 'connected',
            ...sealed,
            connected_by: spent.user_id,
            connected_at: new Date(),
          })
          .onConflict((oc) =>
            oc.constraint('ml_accounts_seller_key').doUpdateSet({
              ...sealed,
              nickname: me.nickname ?? sellerId,
              status: 'connected',
              status_reason: null,
              token_generation: sql`ml_accounts.token_generation + 1`,
              connected_by: spent.user_id,
              connected_at: new Date(),
              updated_at: new Date(),
            }),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('audit_log')
          .values({
            tenant_id: spent.tenant_id,
            actor_user_id: spent.user_id,
            actor_key_id: spent.key_id,
            action: 'mercadolivre_account.connect',
            target_type: 'mercadolivre_account',
            target_id: row.id,
            summary: `Conta Mercado Livre ${row.nickname} (${sellerId}) conectada`,
            details: JSON.stringify({ sellerId }),
            request_id: request.id,
          })
          .execute();
        // What waited for the seller to authorize again is due now.
        await trx
          .updateTable('ml_notifications')
          .set({ next_attempt_at: new Date() })
          .where('account_id', '=', row.id)
          .where('state', '=', 'pending')
          .execute();
        await sql`UPDATE ml_answers a SET next_attempt_at = now() FROM ml_questions q
          WHERE q.id = a.question_id AND q.account_id = ${row.id} AND a.state = 'pending'`.execute(trx);
        return row;
      });
      await ml.startAccountWorkflow(account);
      void ml.ensureProcessor();
      return { connected: true as const, account: accountToApi(account) };
    },
  );
};
