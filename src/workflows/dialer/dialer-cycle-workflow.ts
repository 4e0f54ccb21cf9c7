import { ApplicationFailure, getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import { cycleSignal, dialerCampaignWorkflowId } from './messages';

/**
 * The action of a recurring campaign's Schedule (a Schedule can only start workflows): tells the
 * campaign workflow that an occurrence is due. The campaign decides whether a cycle starts.
 */
export async function dialerCycleWorkflow(input: { campaignId: string }): Promise<{ signalled: boolean }> {
  try {
    await getExternalWorkflowHandle(dialerCampaignWorkflowId(input.campaignId)).signal(cycleSignal, { occurrence: workflowInfo().workflowId });
    return { signalled: true };
  } catch (error) {
    // The campaign already finished (its stop deletes the Schedule; this occurrence raced it).
    if (error instanceof ApplicationFailure) return { signalled: false };
    throw error;
  }
}
