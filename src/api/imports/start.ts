import { WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../../config';
import type { Database } from '../../db/schema';
import { importWorkflow } from '../../workflows/imports/import-workflow';
import { importWorkflowId } from '../../workflows/imports/messages';
import { ContactGroupId, JobKind, TenantId } from '../../workflows/search-attributes';
import { startJob } from '../jobs';

/** Starts the import workflow for a committed import row; a failed start marks the import failed (see startJob). */
export async function startImportWorkflow(
  deps: { temporal: Client; config: Config; db: Kysely<Database> },
  row: { id: string; tenant_id: string; group_id: string | null },
  request?: FastifyRequest,
): Promise<void> {
  await startJob(deps, request, {
    kind: 'import',
    id: row.id,
    workflowId: importWorkflowId(row.id),
    start: () =>
      deps.temporal.workflow.start(importWorkflow, {
        taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
        workflowId: importWorkflowId(row.id),
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        args: [{ importId: row.id, tenantId: row.tenant_id, groupId: row.group_id }],
        typedSearchAttributes: [
          { key: TenantId, value: row.tenant_id },
          { key: JobKind, value: 'import' },
          ...(row.group_id ? [{ key: ContactGroupId, value: row.group_id }] : []),
        ],
      }),
    undo: async (trx) => {
      await trx
        .updateTable('imports')
        .set({ status: 'failed', error: 'The import could not be started; upload the file again.', finished_at: new Date() })
        .where('id', '=', row.id)
        .execute();
    },
  });
}
