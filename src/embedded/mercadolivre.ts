import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../config';
import { sealGrant } from '../db/mercadolivre';
import type { Database } from '../db/schema';
import { createSecretBox } from '../db/secrets';
import { accountWorkflowId, notificationsWorkflowId } from '../domain/mercadolivre';
import { createMercadoLivreClient } from '../integrations/mercadolivre/client';
import { connectClient } from '../temporal/connection';
import { mercadoLivreAccountWorkflow } from '../workflows/mercadolivre/account-workflow';
import { startAccountSignal } from '../workflows/mercadolivre/messages';
import { mercadoLivreNotificationsWorkflow } from '../workflows/mercadolivre/notifications-workflow';
import { JobKind, mlAccountSearchAttributes } from '../workflows/search-attributes';
import { runManaged, type ManagedProcess } from './child-process';

const SIM_CLIENT_ID = '5569000000001';
const SIM_CLIENT_SECRET = 'sim-client-secret';
const SIM_SELLER_ID = 468424240;

/**
 * With no real Mercado Livre configured (ML_API_URL unset), `npm start` runs the simulator and,
 * once it is up, connects the first tenant to its seller LOJA_SIMULADA through the simulator's own
 * authorization and token endpoints (every start: the simulator keeps its grants in memory), so a
 * question asked through `/_sim` can be answered through our API.
 */
export function prepareEmbeddedMercadoLivre(config: Config) {
  if (config.ML_API_URL) return { env: {} as Record<string, string>, start: (): ManagedProcess[] => [], connect: async () => undefined };
  const url = `http://127.0.0.1:${config.ML_SIM_PORT}`;
  const redirectUri = config.ML_REDIRECT_URI ?? `http://localhost:${config.API_PORT}/v1/mercadolivre/oauth/callback`;
  const env: Record<string, string> = { ML_API_URL: url, ML_AUTH_URL: url, ML_CLIENT_ID: SIM_CLIENT_ID, ML_CLIENT_SECRET: SIM_CLIENT_SECRET };
  return {
    env,
    start: (base: NodeJS.ProcessEnv, say: (line: string) => void): ManagedProcess[] => {
      say(`Mercado Livre simulator on ${url} (control API under /_sim; notifications → our /v1/webhooks/mercadolivre)`);
      const simEnv = {
        ML_SIM_PORT: String(config.ML_SIM_PORT),
        ML_SIM_CLIENT_ID: SIM_CLIENT_ID,
        ML_SIM_CLIENT_SECRET: SIM_CLIENT_SECRET,
        ML_SIM_WEBHOOK_URL: `http://127.0.0.1:${config.API_PORT}/v1/webhooks/mercadolivre`,
      };
      return [runManaged('mercadolivre-sim', 'src/simulators/mercadolivre/main.ts', { ...base, ...simEnv }, say)];
    },
    connect: async (db: Kysely<Database>, runConfig: Config, secretsKey: string, say: (line: string) => void) => {
      const tenant = await db.selectFrom('tenants').select(['id', 'name']).orderBy('created_at').limit(1).executeTakeFirst();
      if (!tenant) return;
      const client = createMercadoLivreClient({ apiUrl: url, authUrl: url, clientId: SIM_CLIENT_ID, clientSecret: SIM_CLIENT_SECRET });
      const until = Date.now() + 60_000;
      let location: string | null = null;
      while (!location) {
        try {
          const res = await fetch(`${client.authorizationUrl(redirectUri, 'embedded')}&seller_id=${SIM_SELLER_ID}`, { redirect: 'manual' });
          location = res.headers.get('location');
        } catch {
          if (Date.now() > until) throw new Error('the Mercado Livre simulator did not start within 60 s');
          await new Promise((r) => setTimeout(r, 300));
        }
      }
      const code = new URL(location).searchParams.get('code')!;
      const grant = await client.exchangeCode(code, redirectUri);
      const me = await client.me(grant.access_token);
      const sealed = sealGrant(createSecretBox(secretsKey), grant);
      const account = await db
        .insertInto('ml_accounts')
        .values({ tenant_id: tenant.id, seller_id: String(grant.user_id), nickname: me.nickname, status: 'connected', ...sealed, connected_at: new Date() })
        .onConflict((oc) =>
          oc.constraint('ml_accounts_seller_key').doUpdateSet({
            ...sealed,
            status: 'connected',
            status_reason: null,
            token_generation: sql`ml_accounts.token_generation + 1`,
            updated_at: new Date(),
          }),
        )
        .returning(['id', 'tenant_id'])
        .executeTakeFirstOrThrow();
      const temporal = await connectClient(runConfig);
      try {
        await temporal.workflow.signalWithStart(mercadoLivreAccountWorkflow, {
          taskQueue: runConfig.TEMPORAL_TASK_QUEUE,
          workflowId: accountWorkflowId(account.id),
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          args: [
            {
              accountId: account.id,
              tenantId: account.tenant_id,
              refreshMarginMs: runConfig.ML_REFRESH_MARGIN_MS,
              catchUpEveryMs: runConfig.ML_CATCH_UP_EVERY_MS,
            },
          ],
          signal: startAccountSignal,
          signalArgs: [],
          typedSearchAttributes: mlAccountSearchAttributes({ tenantId: account.tenant_id, status: 'connected' }),
        });
        await temporal.workflow.start(mercadoLivreNotificationsWorkflow, {
          taskQueue: runConfig.TEMPORAL_TASK_QUEUE,
          workflowId: notificationsWorkflowId(runConfig.TEMPORAL_TASK_QUEUE),
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          args: [{}],
          typedSearchAttributes: [{ key: JobKind, value: 'ml-notifications' }],
        });
      } finally {
        await temporal.connection.close();
      }
      say(`connected "${tenant.name}" to the simulated Mercado Livre seller ${me.nickname} (${grant.user_id}), account ${account.id}`);
    },
  };
}
