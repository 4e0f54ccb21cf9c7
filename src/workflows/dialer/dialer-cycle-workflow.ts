import { ApplicationFailure, getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import { cycleSignal, dialerCampaignWorkflowId } from './messages';

/**
 * The action of a campaign's Schedules (a Schedule can only start workflows): tells the campaign
 * workflow that an occurrence of its recurrence, or its one-off start (`first`), is due. The
 * campaign decides whether a cycle starts.
 */
export async function dialerCycleWorkflow(input: { campaignId: string; first?: boolean }): Promise<{ signalled: boolean }> {
  try {
    const occurrence = { occurrence: workflowInfo().workflowId, ...(input.first ? { first: true } : {}) };
    await getExternalWorkflowHandle(dialerCampaignWorkflowId(input.campaignId)).signal(cycleSignal, occurrence);
    return { signalled: true };
  } catch (error) {
    // The campaign already finished (its stop deletes the Schedule; this occurrence raced it).
    if (error instanceof ApplicationFailure) return { signalled: false };
    throw error;
  }
}
