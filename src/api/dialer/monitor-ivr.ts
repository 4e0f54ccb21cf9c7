import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/schema';
import { createTotalsCache } from '../broadcast/monitor';

/**
 * The monitor's IVR figures (issue 13): calls in a flow right now and, per node, how many are
 * there. Read from the open `ivr_calls` rows (partial index `ivr_calls_live_idx`: only calls not
 * ended), so it costs the live calls, never the campaign's history.
 */

export const monitorIvrSchema = z
  .object({
    inIvr: z.number().int().describe('Answered calls in an IVR flow now'),
    byNode: z
      .array(z.object({ node: z.string().describe('Node id (the reports show it as the node name)'), calls: z.number().int() }))
      .describe('Where those calls are, most crowded first'),
  })
  .describe('URA ativa (issue 13)');
export type MonitorIvr = z.infer<typeof monitorIvrSchema>;

export async function monitorIvr(db: Kysely<Database>, campaignId: string): Promise<MonitorIvr> {
  const rows = await db
    .selectFrom('ivr_calls')
    .select(['current_node as node', sql<number>`count(*)::int`.as('calls')])
    .where('campaign_id', '=', campaignId)
    .where('ended_at', 'is', null)
    .groupBy('current_node')
    .orderBy('calls', 'desc')
    .orderBy('current_node')
    .execute();
  return { inIvr: rows.reduce((n, r) => n + r.calls, 0), byNode: rows };
}

/** Every viewer of a campaign (monitor polls, SSE streams) shares one count a second (see createTotalsCache). */
export function createIvrMonitorCache(db: Kysely<Database>): (campaignId: string) => Promise<MonitorIvr> {
  const cached = createTotalsCache<MonitorIvr>(([id]) => monitorIvr(db, id as string));
  return (campaignId) => cached([campaignId], 0);
}
