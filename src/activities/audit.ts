import { Context } from '@temporalio/activity';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';

/** An audit entry written from a workflow: an operations signal, or something the system did. */
export interface WorkflowAuditEntry {
  tenantId: string;
  actor: 'operations' | 'system';
  action: string;
  targetType: string;
  targetId: string;
  summary: string;
  details?: Record<string, unknown>;
}

/** Workflows audit through this activity (they do no I/O themselves); a retry writes the entry once. */
export function createAuditActivities({ db }: { db: Kysely<Database> }) {
  return {
    async recordAudit(entry: WorkflowAuditEntry): Promise<void> {
      const info = Context.current().info;
      const run = info.workflowExecution ?? { workflowId: info.workflowType ?? 'unknown', runId: info.base64TaskToken };
      await db
        .insertInto('audit_log')
        .values({
          tenant_id: entry.tenantId,
          actor_user_id: null,
          actor_key_id: null,
          actor_kind: entry.actor,
          action: entry.action,
          target_type: entry.targetType,
          target_id: entry.targetId,
          summary: entry.summary,
          details: JSON.stringify({ ...entry.details, workflowId: run.workflowId }),
          request_id: null,
          event_key: `${run.runId}:${info.activityId}`,
        })
        .onConflict((oc) => oc.column('event_key').where('event_key', 'is not', null).doNothing())
        .execute();
    },
  };
}

export type AuditActivities = ReturnType<typeof createAuditActivities>;
