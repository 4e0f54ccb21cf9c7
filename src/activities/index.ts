import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema';
import { createBroadcastActivities, type BroadcastActivityDeps } from './broadcast/index';
import { createDialerActivities, type DialerActivityDeps } from './dialer/index';
import { createExportActivities } from './exports';
import { createAuditActivities } from './audit';
import { createImportActivities } from './imports/import-activities';
import { createMercadoLivreActivities, type MercadoLivreActivityDeps } from './mercadolivre/index';

/** Everything activities may use; tests pass real or simulated clients here. */
export interface ActivityDeps {
  db: Kysely<Database>;
  /** The pool behind `db`, for COPY and explicit transactions. */
  pool: pg.Pool;
  /** Import tuning (tests use small slices to exercise resuming). */
  imports?: { batchSize?: number; sliceMs?: number };
  /** Dialer: ARI settings (or a ready session) and lane tuning. */
  dialer?: Omit<DialerActivityDeps, 'db'>;
  /** WhatsApp access (Graph URL, SECRETS_KEY) and broadcast tuning. */
  broadcast?: BroadcastActivityDeps;
  /** Mercado Livre application credentials, API URL and SECRETS_KEY. */
  mercadolivre?: MercadoLivreActivityDeps;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createExportActivities({ db: deps.db }),
    ...createImportActivities({ db: deps.db, pool: deps.pool, ...deps.imports }),
    ...createDialerActivities({ db: deps.db, ...deps.dialer }),
    ...createBroadcastActivities(deps.db, deps.broadcast),
    ...createMercadoLivreActivities(deps.db, deps.mercadolivre),
    ...createAuditActivities({ db: deps.db }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
