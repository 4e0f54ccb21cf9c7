import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import { auditSystem, sealGrant } from '../../db/mercadolivre';
import { MercadoLivreApiError } from '../../integrations/mercadolivre/client';
import type { MlDeps } from './deps';

export type RefreshOutcome = { outcome: 'refreshed' | 'already_fresh' | 'invalid_grant' | 'not_connected'; generation: number };

/** The token activities of the account workflow: read the state, spend the refresh token once. */
export function createTokenActivities(deps: MlDeps) {
  const { db, box } = deps;

  async function mlTokenState(input: { accountId: string }) {
    const row = await db
      .selectFrom('ml_accounts')
      .select(['status', 'token_expires_at', 'token_generation'])
      .where('id', '=', input.accountId)
      .executeTakeFirst();
    return { status: row?.status ?? 'disconnected', expiresAtMs: row?.token_expires_at?.getTime() ?? null, generation: row?.token_generation ?? 0 };
  }

  /**
   * Spends the refresh token of generation `expectedGeneration` and stores the new pair before
   * anything else can use it. A retry after the pair was stored finds a newer generation and
   * does nothing. `invalid_grant` (spent or revoked) marks the account and tells the tenant.
   */
  async function mlRefreshToken(input: { accountId: string; expectedGeneration: number }): Promise<RefreshOutcome> {
    const row = await db.selectFrom('ml_accounts').selectAll().where('id', '=', input.accountId).executeTakeFirst();
    if (!row || row.status !== 'connected' || !row.refresh_token_enc) return { outcome: 'not_connected', generation: row?.token_generation ?? 0 };
    if (row.token_generation > input.expectedGeneration) return { outcome: 'already_fresh', generation: row.token_generation };
    let grant;
    try {
      grant = await deps.client.refresh(box.open(row.refresh_token_enc));
    } catch (error) {
      if (error instanceof MercadoLivreApiError && (error.error === 'invalid_grant' || error.status === 400 || error.status === 401 || error.status === 403)) {
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('ml_accounts')
            .set({ status: 'needs_reauthorization', status_reason: error.error, access_token_enc: null, updated_at: new Date() })
            .where('id', '=', row.id)
            .where('token_generation', '=', row.token_generation)
            .execute();
          await auditSystem(trx, {
            tenantId: row.tenant_id,
            action: 'mercadolivre_account.needs_reauthorization',
            targetType: 'mercadolivre_account',
            targetId: row.id,
            summary: `Conta Mercado Livre ${row.nickname} precisa ser autorizada novamente (${error.error})`,
            details: { sellerId: row.seller_id, error: error.error },
          });
        });
        deps.tokens.forget(row.id);
        return { outcome: 'invalid_grant', generation: row.token_generation };
      }
      if (error instanceof MercadoLivreApiError && !error.retryable) throw ApplicationFailure.nonRetryable(error.message, 'ML_REFRESH_REFUSED');
      throw error;
    }
    // The refresh token just spent is dead: the new pair must be kept, so the write is retried here
    // rather than by Temporal (a retried activity would spend the dead token and get invalid_grant).
    for (let attempt = 0; ; attempt++) {
      try {
        const sealed = sealGrant(box, grant);
        await db
          .updateTable('ml_accounts')
          .set({
            ...sealed,
            token_generation: sql`token_generation + 1`,
            refresh_count: sql`refresh_count + 1`,
            last_refresh_at: new Date(),
            updated_at: new Date(),
          })
          .where('id', '=', row.id)
          .execute();
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
      }
    }
    deps.tokens.forget(row.id);
    return { outcome: 'refreshed', generation: row.token_generation + 1 };
  }

  return { mlTokenState, mlRefreshToken };
}
