import { WorkflowIdReusePolicy } from '@temporalio/client';
import { z } from 'zod';
import { CAMPAIGN_COMMANDS, CAMPAIGN_FINISHED, DIALER_CAMPAIGN_STATUSES, type CampaignCommand } from '../../domain/dialer/campaign-state';
import { textKey } from '../../domain/text-key';
import { assignAgents, campaignAgentIds } from '../../db/agents';
import type { DialerCampaignRow } from '../../db/schema';
import { dialerCampaignWorkflow } from '../../workflows/dialer/dialer-campaign-workflow';
import { dialerCampaignWorkflowId, dialerControlUpdates } from '../../workflows/dialer/messages';
import { campaignSearchAttributes } from '../../workflows/search-attributes';
import { audit } from '../audit';
import { startJob } from '../jobs';
import { checkScheduleTimes } from '../schedule-time';
import { findGroup } from '../contact-groups/guards';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { conflict, notFound, unprocessable } from '../problem';
import { errorResponses, unavailableResponses } from '../problem-schema';
import { eventStreamResponse } from '../openapi';
import { runUpdate } from '../temporal-errors';
import type { RoutePlugin } from '../types';
import { retireDialerCampaign } from './campaign-retire';
import { headlines, monitor, whyOf, type Headline } from './monitor';
import { createIvrMonitorCache } from './monitor-ivr';
import { campaignInputSchema, campaignSchema, idParams, monitorSchema, recurrenceSchema } from './schemas';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';

const commandText: Record<CampaignCommand, string> = { start: 'iniciada', pause: 'pausada', resume: 'retomada', stop: 'encerrada' };

export function campaignToApi(row: DialerCampaignRow, headline: Headline, agentIds: string[]) {
  const recurrence = row.recurrence ? recurrenceSchema.safeParse(row.recurrence) : undefined;
  return {
    id: row.id,
    name: row.name,
    groupId: row.group_id,
    strategyId: row.strategy_id,
    status: row.status,
    waitingWindow: row.waiting_window,
    nextWindowAt: iso(row.next_window_at),
    pauseReason: row.pause_reason,
    pauseReasonText: row.status === 'paused' || row.waiting_window ? whyOf(row) : null,
    startAt: iso(row.start_at),
    endAt: iso(row.end_at),
    recurrence: recurrence?.success ? recurrence.data : null,
    cycle: row.cycle,
    nextRunAt: iso(row.next_run_at),
    createdAt: new Date(row.created_at).toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    archivedAt: iso(row.archived_at),
    workflowId: dialerCampaignWorkflowId(row.id),
    agentIds,
    wrapUpSeconds: row.wrap_up_seconds,
    headline,
    links: {
      self: `/v1/dialer/campaigns/${row.id}`,
      monitor: `/v1/dialer/campaigns/${row.id}/monitor`,
      stream: `/v1/dialer/campaigns/${row.id}/monitor/stream`,
      callsReport: `/v1/dialer/reports/calls?campaignId=${row.id}`,
    },
  };
}

/**
 * Dialer campaigns (Campanha): each is a Temporal workflow `dialer-campaign-<id>`. Manual controls
 * are Temporal Updates (the answer comes once the workflow accepted and recorded the change).
 */
export const dialerCampaignRoutes: RoutePlugin = (app, { db, temporal, config }) => {
  const find = async (tenantId: string, id: string) => {
    const row = await db.selectFrom('dialer_campaigns').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) throw notFound('dialer campaign', id);
    return row;
  };
  const shortCallGuard = { dailyCalls: config.SHORT_CALL_GUARD_DAILY_CALLS, maxShare: config.SHORT_CALL_GUARD_MAX_SHARE };
  const ivrNow = createIvrMonitorCache(db);
  const withHeadline = async (row: DialerCampaignRow) =>
    campaignToApi(row, (await headlines(db, [row])).get(row.id)!, (await campaignAgentIds(db, [row.id])).get(row.id)!);

  app.post(
    '/dialer/campaigns',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Create a dialer campaign on a dialer contact group (links and locks the group)',
        body: campaignInputSchema,
        response: { 201: campaignSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request, reply) => {
      const { name, groupId, strategyId, startAt, endAt, recurrence, agentIds, wrapUpSeconds } = request.body;
      const tenantId = request.auth.tenantId;
      checkScheduleTimes({ startAt, endAt });
      const now = Date.now();
      if (endAt && new Date(endAt).getTime() <= Math.max(now, startAt ? new Date(startAt).getTime() : 0)) {
        throw unprocessable('END_BEFORE_START', 'endAt must be in the future and after startAt.');
      }
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const group = await findGroup(trx, tenantId, groupId, { forUpdate: true });
          if (group.kind !== 'dialer')
            throw unprocessable('GROUP_WRONG_KIND', `The group "${group.name}" is a ${group.kind} group; a dialer campaign needs a dialer group.`);
          if (group.status !== 'active') throw unprocessable('GROUP_INACTIVE', `The group "${group.name}" is inactive.`);
          if (group.campaign_id) {
            throw conflict('GROUP_ALREADY_LINKED', `The group "${group.name}" is already linked to campaign "${group.campaign_name ?? group.campaign_id}".`);
          }
          const strategy = await trx
            .selectFrom('dial_strategies')
            .select(['id'])
            .where('id', '=', strategyId)
            .where('tenant_id', '=', tenantId)
            .executeTakeFirst();
          if (!strategy) throw notFound('dial strategy', strategyId);
          const created = await trx
            .insertInto('dialer_campaigns')
            .values({
              tenant_id: tenantId,
              name,
              name_key: textKey(name),
              group_id: groupId,
              strategy_id: strategyId,
              // A recurring campaign waits for its first occurrence (or startAt, or a manual start).
              status: startAt || recurrence ? 'scheduled' : 'draft',
              start_at: startAt ?? null,
              end_at: endAt ?? null,
              recurrence: recurrence ? JSON.stringify(recurrence) : null,
              wrap_up_seconds: wrapUpSeconds,
              created_by: request.auth.userId,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          const unknownAgents = await assignAgents(trx, { tenantId, campaignId: created.id, agentIds });
          if (unknownAgents.length) throw unprocessable('AGENT_UNKNOWN', `The tenant has no agent ${unknownAgents.join(', ')}.`, { agentIds: unknownAgents });
          await trx
            .updateTable('contact_groups')
            .set({ campaign_id: created.id, campaign_name: name, linked_at: new Date() })
            .where('id', '=', groupId)
            .execute();
          await audit(trx, request, {
            action: 'dialer_campaign.create',
            targetType: 'dialer_campaign',
            targetId: created.id,
            summary: `Campanha de discador "${name}" criada${startAt ? ` (agendada para ${startAt})` : ''}`,
            details: { groupId, strategyId, startAt, endAt, recurrence, agentIds, wrapUpSeconds },
          });
          return created;
        })
        .catch((error) => {
          if (isUniqueViolation(error)) throw conflict('CAMPAIGN_NAME_TAKEN', `A dialer campaign named "${name}" already exists.`);
          throw error;
        });
      await startJob({ temporal, db }, request, {
        kind: 'dialer_campaign',
        id: row.id,
        workflowId: dialerCampaignWorkflowId(row.id),
        start: () =>
          temporal.workflow.start(dialerCampaignWorkflow, {
            taskQueue: config.TEMPORAL_TASK_QUEUE,
            workflowId: dialerCampaignWorkflowId(row.id),
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            args: [
              {
                campaignId: row.id,
                tenantId,
                groupId,
                initialStatus: row.status === 'scheduled' ? 'scheduled' : 'draft',
                startAt,
                endAt,
                recurrence,
                laneHeartbeatTimeoutMs: config.DIALER_LANE_HEARTBEAT_TIMEOUT_MS,
              },
            ],
            typedSearchAttributes: campaignSearchAttributes({ tenantId, campaignId: row.id, kind: 'dialer', status: row.status, groupId }),
          }),
        // No workflow, no campaign: the group is free again.
        undo: async (trx) => {
          await trx.updateTable('contact_groups').set({ campaign_id: null, campaign_name: null, linked_at: null }).where('id', '=', groupId).execute();
          await trx.deleteFrom('dialer_campaigns').where('id', '=', row.id).execute();
        },
      });
      return reply
        .code(201)
        .header('location', `/v1/dialer/campaigns/${row.id}`)
        .send(await withHeadline(row));
    },
  );

  app.get(
    '/dialer/campaigns',
    {
      schema: {
        tags: ['dialer'],
        summary: 'List dialer campaigns with their headline numbers',
        querystring: pageQuerySchema.extend({
          status: z.enum(DIALER_CAMPAIGN_STATUSES).optional(),
          archived: z.enum(['true', 'false']).default('false').describe('`true`: only archived campaigns; by default they are hidden'),
        }),
        response: { 200: pageSchema(campaignSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, status, archived } = request.query;
      let query = db
        .selectFrom('dialer_campaigns')
        .selectAll()
        .where('tenant_id', '=', request.auth.tenantId)
        .where('archived_at', archived === 'true' ? 'is not' : 'is', null);
      if (status) query = query.where('status', '=', status);
      const rows = await keysetPage(query, { sort: { column: 'created_at', direction: 'desc', timestamp: true }, idColumn: 'id', limit, cursor }).execute();
      const numbers = await headlines(db, rows.slice(0, limit));
      const agents = await campaignAgentIds(
        db,
        rows.slice(0, limit).map((r) => r.id),
      );
      return toPage(
        rows,
        limit,
        (r) => [dateCursor(r.created_at), r.id],
        (r) => campaignToApi(r, numbers.get(r.id)!, agents.get(r.id)!),
      );
    },
  );

  app.get(
    '/dialer/campaigns/:id',
    { schema: { tags: ['dialer'], summary: 'A dialer campaign', params: idParams, response: { 200: campaignSchema, ...errorResponses } } },
    async (request) => withHeadline(await find(request.auth.tenantId, request.params.id)),
  );

  app.post(
    '/dialer/campaigns/:id/archive',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Archive a draft or ended campaign: it leaves the list and its group is unlinked (editable again); its attempts and reports stay',
        description:
          'A draft is stopped first. 409 `CAMPAIGN_IN_PROGRESS` for a scheduled, running or paused campaign: stop it first. ' +
          'Archiving an archived campaign answers it again.',
        params: idParams,
        response: { 200: campaignSchema, ...errorResponses },
      },
    },
    async (request) => {
      const done = await retireDialerCampaign({ db, temporal }, request, await find(request.auth.tenantId, request.params.id), 'archive');
      return withHeadline(done.kept ?? done.deleted);
    },
  );

  app.delete(
    '/dialer/campaigns/:id',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Delete a draft or ended campaign and unlink its group; one that placed calls is archived instead (200), so its attempts keep its name',
        description:
          '204: removed (it never placed a call). 200 with the campaign (`archivedAt` set): it has call attempts, which stay in the calls ' +
          'report, so it was archived instead. 409 `CAMPAIGN_IN_PROGRESS` for a scheduled, running or paused campaign.',
        params: idParams,
        response: { 200: campaignSchema, 204: z.null().describe('Deleted'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const done = await retireDialerCampaign({ db, temporal }, request, await find(request.auth.tenantId, request.params.id), 'delete');
      if (done.deleted) return reply.code(204).send(null);
      return withHeadline(done.kept);
    },
  );

  for (const command of CAMPAIGN_COMMANDS) {
    app.post(
      `/dialer/campaigns/:id/${command}`,
      {
        schema: {
          tags: ['dialer'],
          summary: `${command[0].toUpperCase()}${command.slice(1)} the campaign (answers once the workflow accepted it; 409 on an impossible transition)`,
          params: idParams,
          response: { 200: campaignSchema, ...errorResponses },
        },
      },
      async (request) => {
        const row = await find(request.auth.tenantId, request.params.id);
        await runUpdate(
          () =>
            temporal.workflow
              .getHandle(dialerCampaignWorkflowId(row.id))
              .executeUpdate(dialerControlUpdates[command], { args: [{ by: request.auth.userName }] }),
          CAMPAIGN_FINISHED,
          'campaign',
        );
        await audit(db, request, {
          action: `dialer_campaign.${command}`,
          targetType: 'dialer_campaign',
          targetId: row.id,
          summary: `Campanha "${row.name}" ${commandText[command]}`,
        });
        return withHeadline(await find(request.auth.tenantId, row.id));
      },
    );
  }

  app.get(
    '/dialer/campaigns/:id/monitor',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Live numbers: state and why, contacts by state, calls in progress vs channels, calls per minute, answer rate, line utilisation, ETA',
        params: idParams,
        response: { 200: monitorSchema, ...errorResponses },
      },
    },
    async (request) => monitor(db, await find(request.auth.tenantId, request.params.id), shortCallGuard, ivrNow),
  );

  app.get(
    '/dialer/campaigns/:id/monitor/stream',
    {
      schema: {
        tags: ['dialer'],
        summary: 'The monitor as Server-Sent Events (`event: monitor`), every `everyMs`; ends when the campaign finishes',
        params: idParams,
        querystring: z.object({
          everyMs: z.coerce.number().int().min(250).max(60_000).default(2000),
          maxEvents: z.coerce.number().int().min(1).optional().describe('Close after this many events'),
        }),
        response: { 200: eventStreamResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const tenantId = request.auth.tenantId;
      await find(tenantId, id);
      const { everyMs, maxEvents } = request.query;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': request.id,
      });
      let closed = false;
      request.raw.on('close', () => (closed = true));
      let sent = 0;
      while (!closed) {
        const row = await find(tenantId, id);
        const data = await monitor(db, row, shortCallGuard, ivrNow);
        res.write(`event: monitor\nid: ${sent}\ndata: ${JSON.stringify(data)}\n\n`);
        sent++;
        if ((maxEvents && sent >= maxEvents) || row.status === 'completed' || row.status === 'stopped') break;
        await new Promise((r) => setTimeout(r, everyMs));
      }
      res.end();
    },
  );
};
