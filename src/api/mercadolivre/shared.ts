import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Config } from '../../config';
import { createMlTokenStore, MlAccountUnavailableError } from '../../db/mercadolivre';
import type { MlAccount } from '../../db/mercadolivre-schema';
import type { Database } from '../../db/schema';
import { createSecretBox } from '../../db/secrets';
import { accountWorkflowId, notificationsWorkflowId } from '../../domain/mercadolivre';
import { createMercadoLivreClient, MercadoLivreApiError, MercadoLivreTransportError } from '../../integrations/mercadolivre/client';
import { freshTokenVia } from '../../integrations/mercadolivre/fresh-token';
import { AccountNeedsAuthorizationError, createSellerSession } from '../../integrations/mercadolivre/session';
import { mercadoLivreAccountWorkflow } from '../../workflows/mercadolivre/account-workflow';
import { startAccountSignal } from '../../workflows/mercadolivre/messages';
import { mercadoLivreNotificationsWorkflow } from '../../workflows/mercadolivre/notifications-workflow';
import { JobKind, mlAccountSearchAttributes } from '../../workflows/search-attributes';
import { notFound, ProblemError } from '../problem';

/** What the Mercado Livre routes share: the client, the seller session (401 → the account workflow), workflow starters. */
export function mercadoLivreContext(db: Kysely<Database>, config: Config, temporal: Client) {
  const box = createSecretBox(config.SECRETS_KEY);
  const client = createMercadoLivreClient({
    apiUrl: config.ML_API_URL,
    authUrl: config.ML_AUTH_URL,
    clientId: config.ML_CLIENT_ID ?? '',
    clientSecret: config.ML_CLIENT_SECRET ?? '',
  });
  const tokens = createMlTokenStore(db, box, 0);
  const freshToken = freshTokenVia(() => temporal);
  const withSellerToken = createSellerSession({ currentToken: (id) => tokens.current(id), freshToken });
  const redirectUri = config.ML_REDIRECT_URI ?? `${config.PUBLIC_BASE_URL ?? `http://localhost:${config.API_PORT}`}/v1/mercadolivre/oauth/callback`;
  let processorEnsuredAt = 0;

  return {
    box,
    client,
    withSellerToken,
    redirectUri,
    applicationId: config.ML_CLIENT_ID ?? '',
    needConfigured() {
      if (!config.ML_CLIENT_ID || !config.ML_CLIENT_SECRET)
        throw new ProblemError(503, 'MERCADOLIVRE_NOT_CONFIGURED', 'ML_CLIENT_ID and ML_CLIENT_SECRET are not configured.');
      if (!config.SECRETS_KEY)
        throw new ProblemError(503, 'SECRETS_KEY_MISSING', 'The server has no SECRETS_KEY configured, so it cannot store seller tokens.');
    },
    async findAccount(tenantId: string, id: string): Promise<MlAccount> {
      const row = await db.selectFrom('ml_accounts').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
      if (!row) throw notFound('Mercado Livre account', id);
      return row;
    },
    /** The account's token owner, started or told to reload its tokens. */
    async startAccountWorkflow(account: { id: string; tenant_id: string }) {
      await temporal.workflow.signalWithStart(mercadoLivreAccountWorkflow, {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: accountWorkflowId(account.id),
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        args: [
          { accountId: account.id, tenantId: account.tenant_id, refreshMarginMs: config.ML_REFRESH_MARGIN_MS, catchUpEveryMs: config.ML_CATCH_UP_EVERY_MS },
        ],
        signal: startAccountSignal,
        signalArgs: [],
        typedSearchAttributes: mlAccountSearchAttributes({ tenantId: account.tenant_id, status: 'connected' }),
      });
    },
    /** The processor runs for ever; started once per task queue and checked again now and then. */
    async ensureProcessor() {
      if (Date.now() - processorEnsuredAt < 60_000) return;
      processorEnsuredAt = Date.now();
      await temporal.workflow
        .start(mercadoLivreNotificationsWorkflow, {
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          workflowId: notificationsWorkflowId(config.TEMPORAL_TASK_QUEUE),
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          args: [{}],
          typedSearchAttributes: [{ key: JobKind, value: 'ml-notifications' }],
        })
        .catch(() => {
          processorEnsuredAt = 0;
        });
    },
  };
}

export type MercadoLivreContext = ReturnType<typeof mercadoLivreContext>;

/** A Mercado Livre failure as the problem our caller sees (never a 500). */
export function mercadoLivreProblem(error: unknown): never {
  if (error instanceof AccountNeedsAuthorizationError || error instanceof MlAccountUnavailableError) {
    throw new ProblemError(
      409,
      'ML_ACCOUNT_NEEDS_AUTHORIZATION',
      'The seller must authorize the application again (POST /v1/mercadolivre/accounts/authorize).',
    );
  }
  if (error instanceof MercadoLivreApiError) {
    if (error.status === 429) throw new ProblemError(503, 'ML_RATE_LIMITED', 'Mercado Livre is limiting calls; try again shortly.', { retryAfterSeconds: 5 });
    if (error.status >= 500) throw new ProblemError(503, 'ML_UNAVAILABLE', `Mercado Livre did not answer well (${error.status}).`);
    throw new ProblemError(422, 'ML_REFUSED', error.message, { mlStatus: error.status, mlError: error.error });
  }
  if (error instanceof MercadoLivreTransportError) throw new ProblemError(503, 'ML_UNREACHABLE', error.message);
  throw error;
}
