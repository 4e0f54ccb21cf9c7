import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/broadcast/webhook-apply';

const { applyWebhookEvents } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '8 seconds',
  retry: { initialInterval: '1s', maximumInterval: '20s' },
});

/**
 * Applies stored WhatsApp webhooks for ever: each activity call works about a minute (heartbeating),
 * then the loop goes on; the history is renewed by continue-as-new.
 */
export async function whatsappWebhookApplierWorkflow(input: { sliceMs?: number } = {}): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await applyWebhookEvents({ maxMs: input.sliceMs ?? 60_000 });
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await continueAsNew<typeof whatsappWebhookApplierWorkflow>(input);
}
