import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { MlAccount } from '../../../db/mercadolivre-schema';
import { accountWorkflowId } from '../../../domain/mercadolivre';
import { stopAccountSignal } from '../../../workflows/mercadolivre/messages';
import { audit } from '../../audit';
import { errorResponses, unavailableResponses } from '../../problem-schema';
import type { RoutePlugin } from '../../types';
import { mercadoLivreContext } from '../shared';

const tags = ['mercadolivre'];
/** An authorization link is good for 10 minutes and one use. */
export const STATE_TTL_MS = 10 * 60_000;

export const accountSchema = z.object({
  id: z.uuid(),
  sellerId: z.string(),
  nickname: z.string(),
  status: z.enum(['connected', 'needs_reauthorization', 'disconnected']),
  statusReason: z.string().nullable(),
  tokenExpiresAt: z.string().nullable(),
  lastRefreshAt: z.string().nullable(),
  refreshCount: z.number().int(),
  lastNotificationAt: z.string().nullable(),
  connectedAt: z.string(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
export const accountToApi = (a: MlAccount): z.infer<typeof accountSchema> => ({
  id: a.id,
  sellerId: String(a.seller_id),
  nickname: a.nickname,
  status: a.status,
  statusReason: a.status_reason,
  tokenExpiresAt: a.status === 'connected' ? iso(a.token_expires_at) : null,
  lastRefreshAt: iso(a.last_refresh_at),
  refreshCount: a.refresh_count,
  lastNotificationAt: iso(a.last_notification_at),
  connectedAt: a.connected_at.toISOString(),
});

/** Seller accounts: the authorization link, the list, disconnecting. Tokens never leave the database. */
export const mercadoLivreAccountRoutes: RoutePlugin = (app, { db, config, temporal }) => {
  const ml = mercadoLivreContext(db, config, temporal);

  app.post(
    '/mercadolivre/accounts/authorize',
    {
      schema: {
        tags,
        summary: 'The Mercado Livre authorization URL for a seller to connect (state bound to this tenant and user, single use, 10 minutes)',
        response: {
          200: z.object({ authorizationUrl: z.string(), state: z.string(), expiresAt: z.string(), redirectUri: z.string() }),
          ...errorResponses,
          ...unavailableResponses,
        },
      },
    },
    async (request) => {
      ml.needConfigured();
      const state = randomBytes(24).toString('base64url');
      const expiresAt = new Date(Date.now() + STATE_TTL_MS);
      await db
        .insertInto('ml_oauth_states')
        .values({ state, tenant_id: request.auth.tenantId, user_id: request.auth.userId, key_id: request.auth.keyId, expires_at: expiresAt })
        .execute();
      // Old, unused states are of no use to anyone.
      await db
        .deleteFrom('ml_oauth_states')
        .where('expires_at', '<', new Date(Date.now() - 86_400_000))
        .execute();
      return { authorizationUrl: ml.client.authorizationUrl(ml.redirectUri, state), state, expiresAt: expiresAt.toISOString(), redirectUri: ml.redirectUri };
    },
  );

  app.get(
    '/mercadolivre/accounts',
    {
      schema: {
        tags,
        summary: 'Connected seller accounts and their token state',
        response: { 200: z.object({ items: z.array(accountSchema) }), ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const rows = await db.selectFrom('ml_accounts').selectAll().where('tenant_id', '=', request.auth.tenantId).orderBy('created_at').execute();
      return { items: rows.map(accountToApi) };
    },
  );

  app.get(
    '/mercadolivre/accounts/:id',
    {
      schema: {
        tags,
        summary: 'A seller account',
        params: z.object({ id: z.uuid() }),
        response: { 200: accountSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => accountToApi(await ml.findAccount(request.auth.tenantId, request.params.id)),
  );

  app.delete(
    '/mercadolivre/accounts/:id',
    {
      schema: {
        tags,
        summary: 'Disconnects a seller account (tokens erased; its history stays)',
        params: z.object({ id: z.uuid() }),
        response: { 200: accountSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request) => {
      const account = await ml.findAccount(request.auth.tenantId, request.params.id);
      const row = await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('ml_accounts')
          .set({ status: 'disconnected', status_reason: 'disconnected by user', access_token_enc: null, refresh_token_enc: null, updated_at: new Date() })
          .where('id', '=', account.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(trx, request, {
          action: 'mercadolivre_account.disconnect',
          targetType: 'mercadolivre_account',
          targetId: account.id,
          summary: `Conta Mercado Livre ${account.nickname} desconectada`,
        });
        return updated;
      });
      await temporal.workflow
        .getHandle(accountWorkflowId(account.id))
        .signal(stopAccountSignal)
        .catch(() => undefined);
      return accountToApi(row);
    },
  );
};
