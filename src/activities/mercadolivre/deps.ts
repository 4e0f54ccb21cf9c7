import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import type { SecretBox } from '../../db/secrets';
import type { createMlTokenStore } from '../../db/mercadolivre';
import type { MercadoLivreClient } from '../../integrations/mercadolivre/client';
import type { WithSellerToken } from '../../integrations/mercadolivre/session';
import type { MessageSettleTimes } from './settle-messages';

/** What every Mercado Livre activity is built from. */
export interface MlDeps {
  db: Kysely<Database>;
  box: SecretBox;
  client: MercadoLivreClient;
  tokens: ReturnType<typeof createMlTokenStore>;
  withSellerToken: WithSellerToken;
  applicationId: string;
  /** Notifications and answers handled at once per processor slice. */
  concurrency: number;
  /** When a post-sale message whose send never heard back is looked for, and given up. */
  messageSettle: MessageSettleTimes;
}
