import { z } from 'zod';
import { campaignRetireRefusal } from '../../domain/broadcast';
import { unlinkCampaignGroups } from '../../db/campaign-archive';
import type { BroadcastCampaign } from '../../db/schema';
import { audit } from '../audit';
import { conflict, notFound } from '../problem';
import { errorResponses } from '../problem-schema';
import { waitWorkflowClosed } from '../workflow-close';
import { sendWorkflowId } from '../../workflows/broadcast/messages';
import type { RoutePlugin } from '../types';
import { campaignSchema, campaignToApi, idParams } from './schemas';

const tags = ['broadcast'];
/** How long archiving waits for a finished send's workflow to close, and how recent a finish may still be closing. */
const WORKFLOW_CLOSE_WAIT_MS = 10_000;
const RECENT_MS = 10 * 60_000;

/**
 * Archive and delete of a broadcast campaign. It links the group of each of its sends; both free
 * them all, once every send is over (domain rule `campaignRetireRefusal`): a send's workflow ends
 * with the send, so nothing runs for it afterwards. A delete removes a campaign that never had a
 * send; one with sends is archived instead, so their messages and reports keep its name.
 */
export const campaignRetireRoutes: RoutePlugin = (app, { db, temporal }) => {
  const retire = async (tenantId: string, id: string, mode: 'archive' | 'delete', request: Parameters<typeof audit>[1]) => {
    // A send just finished closes its workflow within moments (its last state write): let it.
    const finished = await db
      .selectFrom('broadcast_sends')
      .select('id')
      .where('campaign_id', '=', id)
      .where('tenant_id', '=', tenantId)
      .where('status', 'in', ['completed', 'stopped'])
      .where('finished_at', '>', new Date(Date.now() - RECENT_MS))
      .execute();
    for (const send of finished) await waitWorkflowClosed(temporal, sendWorkflowId(send.id), WORKFLOW_CLOSE_WAIT_MS);
    return db.transaction().execute(async (trx): Promise<{ kept?: BroadcastCampaign; deleted?: BroadcastCampaign }> => {
      const row = await trx.selectFrom('broadcast_campaigns').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).forUpdate().executeTakeFirst();
      if (!row) throw notFound('broadcast campaign', id);
      if (row.archived_at) return { kept: row };
      const sends = await trx.selectFrom('broadcast_sends').select(['id', 'status']).where('campaign_id', '=', row.id).forUpdate().execute();
      const refusal = campaignRetireRefusal(sends);
      if (refusal) throw conflict(refusal.code, refusal.message, { sends: refusal.sends });
      const groups = await unlinkCampaignGroups(trx, tenantId, row.id);
      if (mode === 'delete' && sends.length === 0) {
        await trx.deleteFrom('broadcast_campaigns').where('id', '=', row.id).execute();
        await audit(trx, request, {
          action: 'broadcast_campaign.delete',
          targetType: 'broadcast_campaign',
          targetId: row.id,
          summary: `Campanha de broadcast "${row.name}" excluída`,
        });
        return { deleted: row };
      }
      const kept = await trx
        .updateTable('broadcast_campaigns')
        .set({ archived_at: new Date(), archived_by: request.auth.userId })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, request, {
        action: 'broadcast_campaign.archive',
        targetType: 'broadcast_campaign',
        targetId: row.id,
        summary: `Campanha de broadcast "${row.name}" arquivada${mode === 'delete' ? ' (excluída, com envios: o histórico fica)' : ''}; grupos liberados`,
        details: { groups, sends: sends.length, requested: mode },
      });
      return { kept };
    });
  };

  app.post(
    '/broadcast/campaigns/:id/archive',
    {
      schema: {
        tags,
        summary: 'Archive a campaign whose sends are all over: it leaves the list and their groups are unlinked (editable again); sends and reports stay',
        description:
          '409 `CAMPAIGN_IN_PROGRESS` (with `sends`) while a send is scheduled, running, waiting or paused. Archiving an archived campaign answers it again.',
        params: idParams,
        response: { 200: campaignSchema, ...errorResponses },
      },
    },
    async (request) => {
      const done = await retire(request.auth.tenantId, request.params.id, 'archive', request);
      return campaignToApi((done.kept ?? done.deleted)!);
    },
  );

  app.delete(
    '/broadcast/campaigns/:id',
    {
      schema: {
        tags,
        summary: 'Delete a campaign with no send; one with sends is archived instead (200), so their messages and reports keep its name',
        description:
          '204: removed (it never had a send). 200 with the campaign (`archivedAt` set): archived instead, its groups unlinked. ' +
          '409 `CAMPAIGN_IN_PROGRESS` (with `sends`) while a send is not over.',
        params: idParams,
        response: { 200: campaignSchema, 204: z.null().describe('Deleted'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const done = await retire(request.auth.tenantId, request.params.id, 'delete', request);
      if (done.deleted) return reply.code(204).send(null);
      return campaignToApi(done.kept!);
    },
  );
};
