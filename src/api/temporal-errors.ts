import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { ProblemError } from './problem';

/**
 * Runs a Temporal Update and turns a refusal into a problem: a validator's ApplicationFailure
 * type becomes the 409's code, and a workflow that is no longer running answers `notRunningCode`.
 */
export async function runUpdate<T>(fn: () => Promise<T>, notRunningCode: string, what: string): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      const cause = error.cause;
      if (cause instanceof ApplicationFailure && cause.type) throw new ProblemError(409, cause.type, cause.message);
      throw new ProblemError(409, notRunningCode, `The ${what} refused the request: ${cause?.message ?? error.message}`);
    }
    if (error instanceof WorkflowNotFoundError || isCompletedError(error)) {
      throw new ProblemError(409, notRunningCode, `The ${what} is no longer running.`);
    }
    throw error;
  }
}

function isCompletedError(error: unknown): boolean {
  const message = (error as Error)?.message ?? '';
  return /workflow execution already completed|workflow.*not found/i.test(message);
}
