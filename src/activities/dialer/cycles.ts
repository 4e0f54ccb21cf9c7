import { sql, type Kysely } from 'kysely';
import { FINAL_FOR_EVERY_CYCLE } from '../../domain/dialer/recurrence';
import type { Database } from '../../db/schema';
import { loadCampaign, prepareContacts } from './store';

/**
 * Starts cycle `cycle` of a campaign, once (a retried activity finds the cycle already begun).
 * Cycle 1 builds the contact list from the group. A later cycle re-arms every contact that did not
 * end answered, invalid or blocked — exhausted ones and those a strategy finished on another
 * outcome — with fresh attempt counters; the attempts of earlier cycles stay as they were.
 */
export async function startCycle(db: Kysely<Database>, campaignId: string, cycle: number): Promise<{ rearmed: number }> {
  if (cycle <= 1) {
    const campaign = await loadCampaign(db, campaignId);
    await prepareContacts(db, campaign);
    await db.updateTable('dialer_campaigns').set({ cycle: 1 }).where('id', '=', campaignId).where('cycle', '<', 1).execute();
    return { rearmed: 0 };
  }
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('dialer_campaigns')
      .set({ cycle, next_run_at: null })
      .where('id', '=', campaignId)
      .where('cycle', '<', cycle)
      .returning('id')
      .executeTakeFirst();
    if (!claimed) return { rearmed: 0 };
    const res = await sql`
      UPDATE dialer_contacts
      SET state = 'pending', next_attempt_at = now(), phone_idx = 0, attempts = 0, dials = 0,
          phone_attempts = array_fill(0, ARRAY[cardinality(phones)]), final_outcome = NULL, updated_at = now()
      WHERE campaign_id = ${campaignId}
        AND (state = 'exhausted' OR (state = 'done' AND NOT (final_outcome = ANY(${[...FINAL_FOR_EVERY_CYCLE]}::text[]))))`.execute(trx);
    return { rearmed: Number(res.numAffectedRows ?? 0) };
  });
}
