import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { AccountNeedsAuthorizationError } from './session';

/**
 * Asks the account's workflow (`ml-account-<id>`, the one refresher) for a token newer than the
 * one that was refused. Any failure (account no longer connected, workflow ended) means the
 * seller must authorize again.
 */
export function freshTokenVia(client: () => Client) {
  return async (accountId: string, failedGeneration: number): Promise<void> => {
    try {
      await client()
        .workflow.getHandle(`ml-account-${accountId}`)
        .executeUpdate('fresh-token', { args: [{ failedGeneration }] });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError || (error as Error).name === 'WorkflowNotFoundError') throw new AccountNeedsAuthorizationError(accountId);
      throw error;
    }
  };
}
