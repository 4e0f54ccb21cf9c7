import { WorkflowNotFoundError, type Client } from '@temporalio/client';

const POLL_MS = 200;

/**
 * Waits up to `maxMs` for a workflow to close (any status but running; gone counts as closed).
 * A job whose state is already final closes by itself within moments (its last write, a lane
 * handing back its calls): ending a campaign waits for that, so normally nothing of it runs on.
 * Answers whether it closed; the caller goes on either way, the job being final.
 */
export async function waitWorkflowClosed(temporal: Client, workflowId: string, maxMs: number): Promise<boolean> {
  const handle = temporal.workflow.getHandle(workflowId);
  const until = Date.now() + maxMs;
  for (;;) {
    const status = await handle.describe().then(
      (d) => d.status.name,
      (error) => {
        if (error instanceof WorkflowNotFoundError) return 'GONE';
        throw error;
      },
    );
    if (status !== 'RUNNING') return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
