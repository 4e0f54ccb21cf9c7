import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { createExportActivities } from './exports';

/** Everything activities may use; tests pass real or simulated clients here. */
export interface ActivityDeps {
  db: Kysely<Database>;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createExportActivities({ db: deps.db }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
