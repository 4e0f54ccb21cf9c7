import type { Client } from '@temporalio/client';
import { sql, type Kysely } from 'kysely';
import { templateHalt, type TemplateHalt } from '../domain/template-halt';
import { haltSendSignal, sendWorkflowId } from '../workflows/broadcast/messages';
import type { Database } from './schema';

export interface SendHalt extends TemplateHalt {
  id: string;
}

/**
 * In the transaction that changed a template's status: decides for every unfinished send using it
 * (domain/template-halt.ts) and records a pause or stop as the send's halt, so that its pages
 * stop even if the signal after the commit is lost. Answers the sends to signal.
 */
export async function haltSendsForTemplate(
  trx: Kysely<Database>,
  channelId: string,
  template: { name: string; language?: string | null; status: string },
): Promise<SendHalt[]> {
  let query = trx
    .selectFrom('broadcast_sends')
    .select(['id', 'status', 'status_reason'])
    .where('channel_id', '=', channelId)
    .where('template_name', '=', template.name)
    .where('status', 'in', ['scheduled', 'running', 'waiting', 'paused']);
  if (template.language) query = query.where('template_language', '=', template.language);
  const halts: SendHalt[] = [];
  for (const send of await query.execute()) {
    const halt = templateHalt(template.status, { status: send.status, reason: send.status_reason });
    if (!halt) continue;
    halts.push({ id: send.id, ...halt });
    if (halt.action === 'resume') continue;
    await trx
      .updateTable('broadcast_sends')
      .set({ halt_action: halt.action, halt_reason: halt.reason })
      .where('id', '=', send.id)
      .where(sql<boolean>`halt_action IS NULL OR (halt_action = 'pause' AND ${halt.action}::text = 'stop')`)
      .execute();
  }
  return halts;
}

/**
 * After the commit: tells each send's workflow (the `halt` signal). Answers those that could not
 * be told, for the caller to report: a pause or stop still reaches them through their halt at
 * the next page; a resume needs a manual resume.
 */
export async function deliverSendHalts(temporal: Client, halts: SendHalt[]): Promise<{ id: string; action: string; error: string }[]> {
  const failed: { id: string; action: string; error: string }[] = [];
  for (const h of halts) {
    try {
      await temporal.workflow.getHandle(sendWorkflowId(h.id)).signal(haltSendSignal, { action: h.action, reason: h.reason });
    } catch (error) {
      failed.push({ id: h.id, action: h.action, error: (error as Error)?.message ?? String(error) });
    }
  }
  return failed;
}
