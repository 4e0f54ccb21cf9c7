import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyRequest } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { audit } from './audit';
import { ProblemError } from './problem';

export interface JobStart {
  /** The job's kind and row, for the audit log and the problem (`import`, `export`, `dialer_campaign`, `broadcast_send`). */
  kind: string;
  id: string;
  workflowId: string;
  /** Starts the workflow (temporal.workflow.start with the job's options). */
  start: () => Promise<unknown>;
  /**
   * Undoes what the request committed for the job, in one transaction. The one policy: nothing
   * stays half-alive. A row that is history (an import, an export) ends `failed` with why; a row
   * that holds something (a campaign or a send linking a group) is removed and the group freed.
   */
  undo: (trx: Transaction<Database>) => Promise<void>;
}

/**
 * Every job (import, export, dialer campaign, broadcast send) is started through here. A start
 * that fails for sure is compensated and answered 503 `JOB_NOT_STARTED` (try again); a start
 * whose answer was lost but whose workflow exists counts as started (never undo a running job).
 */
export async function startJob(deps: { temporal: Client; db: Kysely<Database> }, request: FastifyRequest | undefined, job: JobStart): Promise<void> {
  try {
    await job.start();
    return;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return;
    if (await workflowExists(deps.temporal, job.workflowId)) return;
    request?.log.error({ err: error, workflowId: job.workflowId }, 'a job workflow could not be started; its rows are undone');
    await deps.db.transaction().execute(async (trx) => {
      await job.undo(trx);
      if (request)
        await audit(trx, request, {
          action: `${job.kind}.start_failed`,
          targetType: job.kind,
          targetId: job.id,
          summary: `Não foi possível iniciar ${job.workflowId}; nada ficou pela metade`,
          details: { workflowId: job.workflowId, error: (error as Error)?.message ?? String(error) },
        });
    });
    throw new ProblemError(
      503,
      'JOB_NOT_STARTED',
      `The ${job.kind.replace(/_/g, ' ')} could not be started (Temporal did not take it); nothing was kept. Try again.`,
      {
        workflowId: job.workflowId,
      },
    );
  }
}

async function workflowExists(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    await temporal.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    // Temporal unreachable: it cannot have started the workflow we could not start either.
    return false;
  }
}
