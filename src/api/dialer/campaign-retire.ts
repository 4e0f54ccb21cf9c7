import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { CAMPAIGN_FINISHED, retireRefusal } from '../../domain/dialer/campaign-state';
import { dialerRecurrenceScheduleId } from '../../domain/dialer/recurrence';
import { dialerStartScheduleId } from '../../domain/dialer/start-schedule';
import { unlinkCampaignGroups } from '../../db/campaign-archive';
import type { Database, DialerCampaignRow } from '../../db/schema';
import { dialerCampaignWorkflowId, dialerControlUpdates } from '../../workflows/dialer/messages';
import { audit } from '../audit';
import { conflict, ProblemError } from '../problem';
import { runUpdate } from '../temporal-errors';
import { waitWorkflowClosed } from '../workflow-close';

/** How long archiving waits for the workflow to close (a stopped one closes once its lane has returned). */
const WORKFLOW_CLOSE_WAIT_MS = 10_000;

export type Retired = { kept: DialerCampaignRow; deleted?: undefined } | { deleted: DialerCampaignRow; kept?: undefined };

/**
 * Archives a dialer campaign, or deletes it (`mode: 'delete'`). Only a draft or a final campaign
 * may go (domain rule `retireRefusal`): a draft's idle workflow is stopped first. Its Schedules are
 * deleted (already gone for a final one: this makes sure). Its group is unlinked. A delete removes
 * the campaign only when it never placed a call; one with attempts is archived instead, so its
 * attempts stay in the calls report under its name.
 */
export async function retireDialerCampaign(
  deps: { db: Kysely<Database>; temporal: Client },
  request: FastifyRequest,
  campaign: DialerCampaignRow,
  mode: 'archive' | 'delete',
): Promise<Retired> {
  const { db, temporal } = deps;
  if (campaign.archived_at) return { kept: campaign };
  const refusal = retireRefusal(campaign.status);
  if (refusal) throw conflict(refusal.code, refusal.message);
  if (campaign.status === 'draft') await stopDraft(temporal, campaign.id, request.auth.userName);
  await waitWorkflowClosed(temporal, dialerCampaignWorkflowId(campaign.id), WORKFLOW_CLOSE_WAIT_MS);
  await deleteSchedules(temporal, campaign.id);

  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('dialer_campaigns').selectAll().where('id', '=', campaign.id).forUpdate().executeTakeFirstOrThrow();
    if (row.archived_at) return { kept: row };
    // A draft whose workflow was already gone is stopped here; anything else not final was started meanwhile.
    const again = row.status === 'draft' ? undefined : retireRefusal(row.status);
    if (again) throw conflict(again.code, again.message);
    const status = row.status === 'draft' ? 'stopped' : row.status;
    const dialled = await trx.selectFrom('dial_attempts').select('id').where('campaign_id', '=', row.id).limit(1).executeTakeFirst();
    const groups = await unlinkCampaignGroups(trx, row.tenant_id, row.id);
    if (mode === 'delete' && !dialled) {
      await trx.deleteFrom('dialer_campaigns').where('id', '=', row.id).execute();
      await audit(trx, request, {
        action: 'dialer_campaign.delete',
        targetType: 'dialer_campaign',
        targetId: row.id,
        summary: `Campanha de discador "${row.name}" excluída; grupo liberado`,
        details: { groups },
      });
      return { deleted: row };
    }
    const kept = await trx
      .updateTable('dialer_campaigns')
      .set({ status, finished_at: row.finished_at ?? new Date(), archived_at: new Date(), archived_by: request.auth.userId })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, request, {
      action: 'dialer_campaign.archive',
      targetType: 'dialer_campaign',
      targetId: row.id,
      summary: `Campanha de discador "${row.name}" arquivada${mode === 'delete' ? ' (excluída, com tentativas: o histórico fica)' : ''}; grupo liberado`,
      details: { groups, requested: mode },
    });
    return { kept };
  });
}

/** Stops a draft's waiting workflow: the same stop Update as the API's. */
async function stopDraft(temporal: Client, campaignId: string, by: string): Promise<void> {
  const handle = temporal.workflow.getHandle(dialerCampaignWorkflowId(campaignId));
  try {
    await runUpdate(() => handle.executeUpdate(dialerControlUpdates.stop, { args: [{ by }] }), CAMPAIGN_FINISHED, 'campaign');
  } catch (error) {
    // Already ended: nothing to stop.
    if (!(error instanceof ProblemError && error.code === CAMPAIGN_FINISHED)) throw error;
  }
}

async function deleteSchedules(temporal: Client, campaignId: string): Promise<void> {
  for (const id of [dialerStartScheduleId(campaignId), dialerRecurrenceScheduleId(campaignId)]) {
    await temporal.schedule
      .getHandle(id)
      .delete()
      .catch((error) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
  }
}
