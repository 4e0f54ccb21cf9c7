import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client, type Workflow } from '@temporalio/client';
import type { Config } from '../config';
import { JobKind } from '../workflows/search-attributes';

const ENSURE_EVERY_MS = 60_000;

/**
 * A workflow that runs for ever, one per task queue (`<id>-<task queue>`): started on first need
 * and checked again at most once a minute (a start of a running one is a no-op).
 */
export function foreverWorkflowStarter(temporal: Client, config: Config, workflow: Workflow, id: string, jobKind: string) {
  let ensuredAt = 0;
  return async () => {
    if (Date.now() - ensuredAt < ENSURE_EVERY_MS) return;
    ensuredAt = Date.now();
    await temporal.workflow
      .start(workflow, {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: `${id}-${config.TEMPORAL_TASK_QUEUE}`,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        args: [{}],
        typedSearchAttributes: [{ key: JobKind, value: jobKind }],
      })
      .catch(() => {
        ensuredAt = 0;
      });
  };
}
