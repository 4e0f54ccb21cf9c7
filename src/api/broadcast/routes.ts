import { WorkflowIdReusePolicy } from '@temporalio/client';
import { z } from 'zod';
import { reportLocaleQuery } from '../reports/schemas';
import type { BroadcastSend } from '../../db/schema';
import { textKey } from '../../domain/text-key';
import { broadcastSendWorkflow } from '../../workflows/broadcast/send-workflow';
import { pauseSendUpdate, resumeSendUpdate, sendWorkflowId, startSendUpdate, stopSendUpdate } from '../../workflows/broadcast/messages';
import { campaignSearchAttributes } from '../../workflows/search-attributes';
import { audit } from '../audit';
import { startJob } from '../jobs';
import { checkScheduleTimes } from '../schedule-time';
import { findGroup } from '../contact-groups/guards';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, parseSort, sortQuerySchema, toPage } from '../pagination';
import { conflict, notFound, unprocessable } from '../problem';
import { errorResponses, unavailableResponses } from '../problem-schema';
import { csvResponse, eventStreamResponse } from '../openapi';
import { runUpdate } from '../temporal-errors';
import type { RoutePlugin } from '../types';
import { createTotalsCache, messageTotals, monitorView } from './monitor';
import { consolidatedReport, detailedReport } from './reports';
import { campaignRetireRoutes } from './campaign-retire';
import { sendEditRoute } from './edit-route';
import { checkColumns, checkMapping, checkMissingVariables, checkPace, usableTemplate } from './send-checks';
import {
  campaignCreateSchema,
  campaignSchema,
  campaignToApi,
  idParams,
  monitorSchema,
  sendCreateSchema,
  sendSchema,
  sendStatusSchema,
  sendToApi,
} from './schemas';

const tags = ['broadcast'];
const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';
const FINAL = new Set(['completed', 'stopped']);

/**
 * Broadcast campaigns (Campanha) and their sends (Envios): each send is a Temporal workflow
 * `broadcast-send-<id>` with manual controls as Updates, a live monitor and CSV reports.
 */
export const broadcastRoutes: RoutePlugin = async (app, deps) => {
  const { db, temporal, config } = deps;
  await sendEditRoute(app, deps);
  await campaignRetireRoutes(app, deps);
  const findCampaign = async (tenantId: string, id: string) => {
    const row = await db.selectFrom('broadcast_campaigns').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) throw notFound('broadcast campaign', id);
    return row;
  };
  const findSend = async (tenantId: string, id: string): Promise<BroadcastSend> => {
    const row = await db.selectFrom('broadcast_sends').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) throw notFound('broadcast send', id);
    return row;
  };
  const totalsOf = createTotalsCache((sendIds) => messageTotals(db, sendIds));
  const sendMonitor = async (send: BroadcastSend) => {
    const { totals, currentMps } = await totalsOf([send.id], send.state_version);
    return monitorView(send.status, send.status_reason, totals, currentMps, send.pace_mps, send.status_until);
  };

  app.post(
    '/broadcast/campaigns',
    {
      schema: {
        tags,
        summary: 'Create a broadcast campaign (Campanha) on a WhatsApp channel',
        body: campaignCreateSchema,
        response: { 201: campaignSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { name, channelId, description } = request.body;
      const channel = await db
        .selectFrom('whatsapp_channels')
        .select('id')
        .where('id', '=', channelId)
        .where('tenant_id', '=', request.auth.tenantId)
        .executeTakeFirst();
      if (!channel) throw unprocessable('CHANNEL_NOT_FOUND', `No WhatsApp channel with id ${channelId}.`);
      const row = await db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('broadcast_campaigns')
          .values({
            tenant_id: request.auth.tenantId,
            channel_id: channelId,
            name,
            name_key: textKey(name),
            description: description ?? null,
            created_by: request.auth.userId,
          })
          .returningAll()
          .executeTakeFirstOrThrow()
          .catch((error) => {
            if (isUniqueViolation(error)) throw conflict('CAMPAIGN_NAME_TAKEN', `A broadcast campaign named "${name}" already exists.`);
            throw error;
          });
        await audit(trx, request, {
          action: 'broadcast_campaign.create',
          targetType: 'broadcast_campaign',
          targetId: created.id,
          summary: `Campanha de broadcast "${name}" criada`,
        });
        return created;
      });
      return reply.code(201).header('location', `/v1/broadcast/campaigns/${row.id}`).send(campaignToApi(row));
    },
  );

  app.get(
    '/broadcast/campaigns',
    {
      schema: {
        tags,
        summary: 'List broadcast campaigns',
        querystring: pageQuerySchema.extend({
          sort: sortQuerySchema(['createdAt', 'name'], '-createdAt'),
          name: z.string().max(120).optional(),
          archived: z.enum(['true', 'false']).default('false').describe('`true`: only archived campaigns; by default they are hidden'),
        }),
        response: { 200: pageSchema(campaignSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, sort, name, archived } = request.query;
      let query = db
        .selectFrom('broadcast_campaigns')
        .selectAll()
        .where('tenant_id', '=', request.auth.tenantId)
        .where('archived_at', archived === 'true' ? 'is not' : 'is', null);
      if (name) query = query.where('name_key', 'like', `%${textKey(name).replace(/[\\%_]/g, '\\$&')}%`);
      const spec = parseSort(sort, { createdAt: 'created_at:ts', name: 'name_key' });
      const rows = await keysetPage(query, { sort: spec, idColumn: 'id', limit, cursor }).execute();
      return toPage(rows, limit, (r) => [spec.column === 'name_key' ? r.name_key : dateCursor(r.created_at), r.id], campaignToApi);
    },
  );

  app.get(
    '/broadcast/campaigns/:id',
    { schema: { tags, summary: 'A broadcast campaign', params: idParams, response: { 200: campaignSchema, ...errorResponses } } },
    async (request) => campaignToApi(await findCampaign(request.auth.tenantId, request.params.id)),
  );

  app.get(
    '/broadcast/campaigns/:id/monitor',
    { schema: { tags, summary: "The campaign's monitor: the sum of its sends", params: idParams, response: { 200: monitorSchema, ...errorResponses } } },
    async (request) => {
      const campaign = await findCampaign(request.auth.tenantId, request.params.id);
      const sends = await db.selectFrom('broadcast_sends').selectAll().where('campaign_id', '=', campaign.id).orderBy('created_at').execute();
      const { totals, currentMps } = await totalsOf(
        sends.map((s) => s.id),
        sends.map((s) => s.state_version).join(','),
      );
      const running = sends.filter((s) => s.status === 'running');
      const state = running.length
        ? 'running'
        : sends.some((s) => !FINAL.has(s.status))
          ? (sends.find((s) => !FINAL.has(s.status))?.status ?? 'idle')
          : sends.length
            ? 'finished'
            : 'idle';
      return {
        ...monitorView(
          state,
          null,
          totals,
          currentMps,
          running.reduce((sum, s) => sum + s.pace_mps, 0),
        ),
        sends: sends.map((s) => ({ id: s.id, status: s.status, reason: s.status_reason })),
      };
    },
  );

  app.post(
    '/broadcast/campaigns/:id/sends',
    {
      schema: {
        tags,
        summary: 'Create a send (Envio): a group, an approved template with every placeholder mapped, schedule, hours, pace',
        description:
          'Links (locks) the group to the campaign and starts the workflow `broadcast-send-<id>`. ' +
          '422 when the template is not approved or the mapping does not fit the template; 409 when the group is inactive or already linked.',
        params: idParams,
        body: sendCreateSchema,
        response: { 201: sendSchema, ...errorResponses, ...unavailableResponses },
      },
    },
    async (request, reply) => {
      const tenantId = request.auth.tenantId;
      const campaign = await findCampaign(tenantId, request.params.id);
      const b = request.body;
      checkScheduleTimes({ startAt: b.startAt });
      const channel = await db.selectFrom('whatsapp_channels').selectAll().where('id', '=', campaign.channel_id).executeTakeFirstOrThrow();
      const template = await usableTemplate(db, channel.id, b.template);
      checkMapping(template, b.variables);
      checkMissingVariables(template, b.variables, b.missingVariables);
      const pace = checkPace(b.paceMps ?? channel.mps_limit, channel);

      const send = await db.transaction().execute(async (trx) => {
        // Under the campaign's row lock: an archive in progress finishes first, and then no send may link a group to it.
        const live = await trx.selectFrom('broadcast_campaigns').select('archived_at').where('id', '=', campaign.id).forShare().executeTakeFirst();
        if (!live || live.archived_at) throw conflict('CAMPAIGN_ARCHIVED', `The campaign "${campaign.name}" is archived; it takes no new sends.`);
        const group = await findGroup(trx, tenantId, b.groupId, { forUpdate: true }).catch(() => {
          throw unprocessable('GROUP_NOT_FOUND', `No contact group with id ${b.groupId}.`);
        });
        if (group.kind !== 'broadcast')
          throw unprocessable('GROUP_KIND_NOT_BROADCAST', `The group "${group.name}" is a ${group.kind} group; a send needs a broadcast group.`);
        if (group.status !== 'active') throw conflict('GROUP_INACTIVE', `The group "${group.name}" is inactive; activate it first.`);
        if (group.campaign_id) {
          throw conflict('GROUP_ALREADY_LINKED', `The group "${group.name}" is already linked to campaign "${group.campaign_name ?? group.campaign_id}".`, {
            campaign: { id: group.campaign_id, name: group.campaign_name },
          });
        }
        const running = await trx
          .selectFrom('imports')
          .select('id')
          .where('group_id', '=', group.id)
          .where('status', 'in', ['pending', 'running'])
          .executeTakeFirst();
        if (running)
          throw conflict('IMPORT_IN_PROGRESS', `Import ${running.id} into this group is still running; wait for it to finish.`, { importId: running.id });
        if (group.contact_count === 0) throw unprocessable('GROUP_EMPTY', `The group "${group.name}" has no contacts.`);
        await checkColumns(trx, group.id, b.variables);
        const scheduled = b.startAt !== undefined && Date.parse(b.startAt) > Date.now();
        const created = await trx
          .insertInto('broadcast_sends')
          .values({
            tenant_id: tenantId,
            campaign_id: campaign.id,
            channel_id: channel.id,
            group_id: group.id,
            template_name: template.name,
            template_language: template.language,
            variables: JSON.stringify(b.variables),
            missing_variables: JSON.stringify(b.missingVariables),
            start_at: b.startAt ?? null,
            sending_hours: b.sendingHours ? JSON.stringify(b.sendingHours) : null,
            pace_mps: pace,
            gradual: b.gradual ? JSON.stringify(b.gradual) : null,
            status: scheduled ? 'scheduled' : 'running',
            total_contacts: group.contact_count,
            created_by: request.auth.userId,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('contact_groups')
          .set({ campaign_id: campaign.id, campaign_name: campaign.name, linked_at: new Date() })
          .where('id', '=', group.id)
          .execute();
        await audit(trx, request, {
          action: 'broadcast_send.create',
          targetType: 'broadcast_send',
          targetId: created.id,
          summary:
            `Envio do template ${template.name} para o grupo "${group.name}" ` +
            `na campanha "${campaign.name}"${scheduled ? ` agendado para ${b.startAt}` : ''}`,
          details: { groupId: group.id, pace, startAt: b.startAt ?? null },
        });
        return created;
      });

      await startJob({ temporal, db }, request, {
        kind: 'broadcast_send',
        id: send.id,
        workflowId: sendWorkflowId(send.id),
        start: () =>
          temporal.workflow.start(broadcastSendWorkflow, {
            taskQueue: config.TEMPORAL_TASK_QUEUE,
            workflowId: sendWorkflowId(send.id),
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            args: [
              {
                sendId: send.id,
                tenantId,
                campaignId: campaign.id,
                groupId: send.group_id,
                startAt: b.startAt ?? null,
                sendingHours: b.sendingHours ?? null,
                gradual: b.gradual ?? null,
                paceMps: pace,
                unknownAfterMs: config.BROADCAST_UNKNOWN_AFTER_MS,
                pageSize: config.BROADCAST_PAGE_SIZE,
                pagesInFlight: config.BROADCAST_PAGES_IN_FLIGHT,
                pagesPerRun: config.BROADCAST_PAGES_PER_RUN,
              },
            ],
            typedSearchAttributes: campaignSearchAttributes({
              tenantId,
              campaignId: campaign.id,
              kind: 'broadcast',
              status: send.status,
              groupId: send.group_id,
            }),
          }),
        // No workflow, no send: its row goes and the group is free again.
        undo: async (trx) => {
          await trx
            .updateTable('contact_groups')
            .set({ campaign_id: null, campaign_name: null, linked_at: null })
            .where('id', '=', send.group_id)
            .where('campaign_id', '=', campaign.id)
            .execute();
          await trx.deleteFrom('broadcast_sends').where('id', '=', send.id).execute();
        },
      });
      return reply.code(201).header('location', `/v1/broadcast/sends/${send.id}`).send(sendToApi(send));
    },
  );

  app.get(
    '/broadcast/campaigns/:id/sends',
    {
      schema: {
        tags,
        summary: "A campaign's sends",
        params: idParams,
        querystring: pageQuerySchema.extend({ status: sendStatusSchema.optional() }),
        response: { 200: pageSchema(sendSchema), ...errorResponses },
      },
    },
    async (request) => {
      const campaign = await findCampaign(request.auth.tenantId, request.params.id);
      const { limit, cursor, status } = request.query;
      let query = db.selectFrom('broadcast_sends').selectAll().where('campaign_id', '=', campaign.id);
      if (status) query = query.where('status', '=', status);
      const rows = await keysetPage(query, { sort: { column: 'created_at', direction: 'desc', timestamp: true }, idColumn: 'id', limit, cursor }).execute();
      return toPage(rows, limit, (r) => [dateCursor(r.created_at), r.id], sendToApi);
    },
  );

  app.get(
    '/broadcast/sends/:id',
    { schema: { tags, summary: 'A send', params: idParams, response: { 200: sendSchema, ...errorResponses } } },
    async (request) => sendToApi(await findSend(request.auth.tenantId, request.params.id)),
  );

  const controls = [
    { name: 'start', update: startSendUpdate, summary: 'Start a scheduled send now', verb: 'iniciado' },
    { name: 'pause', update: pauseSendUpdate, summary: 'Pause a send (messages in flight finish; nothing new goes out)', verb: 'pausado' },
    { name: 'resume', update: resumeSendUpdate, summary: 'Resume a paused send', verb: 'retomado' },
    { name: 'stop', update: stopSendUpdate, summary: 'Stop a send for good (what was not sent is reported as skipped)', verb: 'parado' },
  ] as const;
  for (const control of controls) {
    app.post(
      `/broadcast/sends/:id/${control.name}`,
      {
        schema: {
          tags,
          summary: control.summary,
          description: 'A Temporal Update: answers once the workflow has applied it; 409 with a code when the transition is impossible.',
          params: idParams,
          response: { 200: sendSchema, ...errorResponses },
        },
      },
      async (request) => {
        const send = await findSend(request.auth.tenantId, request.params.id);
        if (FINAL.has(send.status)) throw conflict('SEND_FINISHED', `The send is ${send.status}.`);
        await runUpdate(
          () => temporal.workflow.getHandle(sendWorkflowId(send.id)).executeUpdate(control.update, { args: [{ by: request.auth.userName }] }),
          'SEND_FINISHED',
          'send',
        );
        await audit(db, request, {
          action: `broadcast_send.${control.name}`,
          targetType: 'broadcast_send',
          targetId: send.id,
          summary: `Envio ${send.id} ${control.verb}`,
        });
        return sendToApi(await findSend(request.auth.tenantId, send.id));
      },
    );
  }

  app.get(
    '/broadcast/sends/:id/monitor',
    {
      schema: {
        tags,
        summary: 'Live totals of a send: states, failures by code, skips, rates, msg/s, ETA',
        params: idParams,
        response: { 200: monitorSchema, ...errorResponses },
      },
    },
    async (request) => sendMonitor(await findSend(request.auth.tenantId, request.params.id)),
  );

  app.get(
    '/broadcast/sends/:id/monitor/stream',
    {
      schema: {
        tags,
        summary: 'The monitor as Server-Sent Events (`event: monitor`), every `everyMs`; ends when the send finishes',
        params: idParams,
        querystring: z.object({ everyMs: z.coerce.number().int().min(250).max(60_000).default(1000) }),
        response: { 200: eventStreamResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const first = await findSend(request.auth.tenantId, request.params.id);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': request.id,
      });
      let closed = false;
      request.raw.once('close', () => (closed = true));
      let send = first;
      for (let id = 1; !closed; id++) {
        const view = await sendMonitor(send);
        raw.write(`id: ${id}\nevent: monitor\ndata: ${JSON.stringify(view)}\n\n`);
        if (FINAL.has(send.status) && view.totals.sending === 0) break;
        await new Promise((resolve) => setTimeout(resolve, request.query.everyMs));
        send = await findSend(request.auth.tenantId, send.id);
      }
      raw.end();
    },
  );

  const csv = (fileName: string) => ({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${fileName}"` });
  app.get(
    '/broadcast/sends/:id/reports/detalhado.csv',
    {
      schema: {
        tags,
        summary: 'Relatório de Broadcast HSM Detalhado: one row per message (CSV `;`, UTF-8 BOM, streamed)',
        params: idParams,
        querystring: reportLocaleQuery,
        response: { 200: csvResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const send = await findSend(request.auth.tenantId, request.params.id);
      return reply.headers(csv(`broadcast-hsm-detalhado-${send.id}.csv`)).send(detailedReport(db, send.tenant_id, send.id, request.query.locale));
    },
  );
  app.get(
    '/broadcast/sends/:id/reports/consolidado.csv',
    {
      schema: {
        tags,
        summary: 'Relatório de Broadcast HSM Consolidado of one send: per day and template, totals and rates',
        params: idParams,
        querystring: reportLocaleQuery,
        response: { 200: csvResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const send = await findSend(request.auth.tenantId, request.params.id);
      return reply
        .headers(csv(`broadcast-hsm-consolidado-${send.id}.csv`))
        .send(consolidatedReport(db, send.tenant_id, { sendId: send.id }, request.query.locale));
    },
  );
  app.get(
    '/broadcast/campaigns/:id/reports/consolidado.csv',
    {
      schema: {
        tags,
        summary: 'Relatório de Broadcast HSM Consolidado: per day, send and template',
        params: idParams,
        querystring: reportLocaleQuery,
        response: { 200: csvResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const campaign = await findCampaign(request.auth.tenantId, request.params.id);
      return reply
        .headers(csv(`broadcast-hsm-consolidado-${campaign.id}.csv`))
        .send(consolidatedReport(db, campaign.tenant_id, { campaignId: campaign.id }, request.query.locale));
    },
  );
};
