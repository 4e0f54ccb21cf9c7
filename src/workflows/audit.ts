import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { AuditActivities, WorkflowAuditEntry } from '../activities/audit';

const { recordAudit } = proxyActivities<AuditActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 20 },
});

/** Workflows began auditing in this version: histories from before replay without these activities. */
export const WORKFLOW_AUDIT_PATCH = 'workflow-audit';

/**
 * Writes an audit entry for what operations (a Temporal signal) or the system (an automatic
 * pause, a scheduled start, a recurrence cycle) did, through an activity. An entry that cannot be
 * written after its retries is logged; the act itself is not undone for it.
 */
export async function auditFromWorkflow(entry: WorkflowAuditEntry): Promise<void> {
  if (!patched(WORKFLOW_AUDIT_PATCH)) return;
  try {
    await recordAudit(entry);
  } catch (error) {
    log.error('audit entry not written', { action: entry.action, targetId: entry.targetId, error: String(error) });
  }
}
