/**
 * What a template's status means for the sends that use it — one rule for the manual sync and
 * Meta's `message_template_status_update` webhook alike:
 * - PAUSED: pause (`template_paused`);
 * - APPROVED (or REINSTATED): resume only the sends that this rule paused;
 * - DISABLED: stop (`template_disabled`); gone (DELETED, PENDING_DELETION, ARCHIVED, REJECTED, or
 *   missing from Meta's list): stop (`template_missing`);
 * - anything else (FLAGGED, PENDING, IN_APPEAL, LIMIT_EXCEEDED…): no change (a message Meta then
 *   refuses is handled by the error policy).
 */
export type TemplateHaltAction = 'pause' | 'stop' | 'resume';
export interface TemplateHalt {
  action: TemplateHaltAction;
  reason: string;
}

export const TEMPLATE_PAUSED_REASON = 'template_paused';
const GONE = new Set(['DELETED', 'PENDING_DELETION', 'ARCHIVED', 'REJECTED', 'MISSING']);
const UNFINISHED = new Set(['scheduled', 'running', 'waiting', 'paused']);

/** The status to store for a template from a webhook event (REINSTATED means approved again). */
export function templateStatusOf(event: string): string {
  const status = event.toUpperCase();
  return status === 'REINSTATED' ? 'APPROVED' : status;
}

/** What this template status does to a send in `send.status` (paused for `send.reason`), if anything. */
export function templateHalt(templateStatus: string, send: { status: string; reason: string | null }): TemplateHalt | undefined {
  if (!UNFINISHED.has(send.status)) return undefined;
  const status = templateStatusOf(templateStatus);
  if (status === 'APPROVED')
    return send.status === 'paused' && send.reason === TEMPLATE_PAUSED_REASON ? { action: 'resume', reason: TEMPLATE_PAUSED_REASON } : undefined;
  if (status === 'PAUSED')
    return send.status === 'paused' && send.reason === TEMPLATE_PAUSED_REASON ? undefined : { action: 'pause', reason: TEMPLATE_PAUSED_REASON };
  if (status === 'DISABLED') return { action: 'stop', reason: 'template_disabled' };
  if (GONE.has(status)) return { action: 'stop', reason: 'template_missing' };
  return undefined;
}
