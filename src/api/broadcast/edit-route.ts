import type { z } from 'zod';
import {
  LIVE_EDITABLE,
  refuseEdit,
  type Gradual,
  type MissingVariables,
  type SendingHours,
  type SendState,
  type VariableMapping,
} from '../../domain/broadcast';
import { editSendUpdate, sendWorkflowId, type SendSettings } from '../../workflows/broadcast/messages';
import { audit } from '../audit';
import { conflict, notFound } from '../problem';
import { errorResponses } from '../problem-schema';
import { checkScheduleTimes } from '../schedule-time';
import { runUpdate } from '../temporal-errors';
import type { RoutePlugin } from '../types';
import { idParams, sendEditSchema, sendSchema, sendToApi } from './schemas';
import { checkColumns, checkMapping, checkMissingVariables, checkPace, usableTemplate } from './send-checks';

const notEditable = (status: string, message?: string) =>
  conflict('SEND_NOT_EDITABLE', message ?? `The send is ${status}; it can no longer be edited.`, { sendStatus: status, liveEditable: LIVE_EDITABLE });

/**
 * `PATCH /broadcast/sends/{id}`: changes a send (before it starts, or its pace and hours after). The row is written and audited in
 * one transaction that also awaits the workflow's `edit` Update: the workflow decides (it may have
 * just started), and a refusal rolls the row back, so the two never disagree.
 */
export const sendEditRoute: RoutePlugin = (app, { db, temporal }) => {
  app.patch(
    '/broadcast/sends/:id',
    {
      schema: {
        tags: ['broadcast'],
        summary:
          'Edit a send: before it starts, template and mapping, empty-variable policy, start time, sending hours, pace, gradual release; once started, pace and sending hours',
        description:
          'Everything while the send is scheduled; running, paused or waiting only `paceMps` and `sendingHours` (pages not yet sent follow them, ' +
          'a send waiting on its hours looks at the new ones at once); 409 SEND_NOT_EDITABLE for any other field then, and for any edit once finished. ' +
          'The mapping is checked against the (new) template (422 on a wrong count) and the pace against the channel limit. ' +
          'A new start time re-arms the workflow timer.',
        params: idParams,
        body: sendEditSchema,
        response: { 200: sendSchema, ...errorResponses },
      },
    },
    async (request) => {
      const tenantId = request.auth.tenantId;
      const b = request.body as z.infer<typeof sendEditSchema>;
      checkScheduleTimes({ startAt: b.startAt });
      const send = await db.selectFrom('broadcast_sends').selectAll().where('id', '=', request.params.id).where('tenant_id', '=', tenantId).executeTakeFirst();
      if (!send) throw notFound('broadcast send', request.params.id);
      const changed = Object.keys(b);
      const refusal = refuseEdit(send.status as SendState, changed);
      if (refusal) throw notEditable(send.status, refusal.message);
      // Only the pace and the hours: the row may be in any unfinished state (the workflow decides).
      const live = changed.every((f) => (LIVE_EDITABLE as readonly string[]).includes(f));

      const channel = await db.selectFrom('whatsapp_channels').selectAll().where('id', '=', send.channel_id).executeTakeFirstOrThrow();
      const variables = (b.variables ?? send.variables) as VariableMapping;
      const missingVariables = (b.missingVariables ?? send.missing_variables) as MissingVariables;
      // The template is checked only when the message changes: a pace edit must not fail on a template paused meanwhile.
      let template = { name: send.template_name, language: send.template_language };
      if (!live) {
        const usable = await usableTemplate(db, channel.id, b.template ?? template);
        checkMapping(usable, variables);
        checkMissingVariables(usable, variables, missingVariables);
        if (b.variables) await checkColumns(db, send.group_id, variables);
        template = usable;
      }
      const settings: SendSettings = {
        startAt: b.startAt !== undefined ? b.startAt : send.start_at ? new Date(send.start_at).toISOString() : null,
        sendingHours: b.sendingHours !== undefined ? b.sendingHours : ((send.sending_hours as SendingHours | null) ?? null),
        gradual: b.gradual !== undefined ? b.gradual : ((send.gradual as Gradual | null) ?? null),
        paceMps: b.paceMps !== undefined ? checkPace(b.paceMps, channel) : send.pace_mps,
      };

      const updated = await db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('broadcast_sends')
          .set({
            template_name: template.name,
            template_language: template.language,
            variables: JSON.stringify(variables),
            missing_variables: JSON.stringify(missingVariables),
            start_at: settings.startAt,
            sending_hours: settings.sendingHours ? JSON.stringify(settings.sendingHours) : null,
            gradual: settings.gradual ? JSON.stringify(settings.gradual) : null,
            pace_mps: settings.paceMps,
          })
          .where('id', '=', send.id)
          .where('status', 'in', live ? ['scheduled', 'running', 'paused', 'waiting'] : ['scheduled'])
          .returningAll()
          .executeTakeFirst();
        if (!row) throw notEditable(live ? 'finished' : 'no longer scheduled');
        await audit(trx, request, {
          action: 'broadcast_send.update',
          targetType: 'broadcast_send',
          targetId: send.id,
          summary: `Envio ${send.id} alterado: ${changed.join(', ')}`,
          details: { changed, before: pick(send, changed), after: b },
        });
        await runUpdate(
          () =>
            temporal.workflow.getHandle(sendWorkflowId(send.id)).executeUpdate(editSendUpdate, { args: [{ by: request.auth.userName, settings, changed }] }),
          'SEND_NOT_EDITABLE',
          'send',
        );
        return row;
      });
      return sendToApi(updated);
    },
  );
};

/** The previous values of the fields an edit changes, for the audit log. */
function pick(send: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const column: Record<string, string[]> = {
    template: ['template_name', 'template_language'],
    variables: ['variables'],
    missingVariables: ['missing_variables'],
    startAt: ['start_at'],
    sendingHours: ['sending_hours'],
    paceMps: ['pace_mps'],
    gradual: ['gradual'],
  };
  return Object.fromEntries(fields.flatMap((f) => (column[f] ?? []).map((c) => [c, send[c]])));
}
