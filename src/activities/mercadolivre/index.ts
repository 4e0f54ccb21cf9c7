import { Context } from '@temporalio/activity';
import type { Kysely } from 'kysely';
import { createMlTokenStore } from '../../db/mercadolivre';
import type { Database } from '../../db/schema';
import { createSecretBox } from '../../db/secrets';
import { createMercadoLivreClient } from '../../integrations/mercadolivre/client';
import { freshTokenVia } from '../../integrations/mercadolivre/fresh-token';
import { createSellerSession } from '../../integrations/mercadolivre/session';
import { createCatchUpActivity } from './catch-up';
import type { MlDeps } from './deps';
import { createProcessor } from './processor';
import { defaultMessageSettleTimes, type MessageSettleTimes } from './settle-messages';
import { createTokenActivities } from './tokens';

export interface MercadoLivreActivityDeps {
  apiUrl?: string;
  clientId?: string;
  clientSecret?: string;
  applicationId?: string;
  secretsKey?: string;
  concurrency?: number;
  messageSettle?: Partial<MessageSettleTimes>;
}

/** The Mercado Livre activities: the account workflow's (tokens, catch-up) and the notification processor. */
export function createMercadoLivreActivities(db: Kysely<Database>, options: MercadoLivreActivityDeps = {}) {
  const box = createSecretBox(options.secretsKey);
  const tokens = createMlTokenStore(db, box);
  const client = createMercadoLivreClient({ apiUrl: options.apiUrl, clientId: options.clientId ?? '', clientSecret: options.clientSecret ?? '' });
  // A 401 asks the account workflow through the activity's own Temporal client.
  const freshToken = freshTokenVia(() => Context.current().client);
  const deps: MlDeps = {
    db,
    box,
    client,
    tokens,
    withSellerToken: createSellerSession({
      currentToken: (id) => tokens.current(id),
      freshToken: async (id, generation) => {
        tokens.forget(id);
        await freshToken(id, generation);
        tokens.forget(id);
      },
    }),
    applicationId: options.applicationId ?? options.clientId ?? '',
    concurrency: options.concurrency ?? 16,
    messageSettle: { ...defaultMessageSettleTimes, ...options.messageSettle },
  };
  return {
    ...createTokenActivities(deps),
    ...createCatchUpActivity(deps),
    ...createProcessor(deps),
  };
}

export type MercadoLivreActivities = ReturnType<typeof createMercadoLivreActivities>;
