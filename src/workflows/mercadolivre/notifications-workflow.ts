import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MercadoLivreActivities } from '../../activities/mercadolivre/index';

const { mlProcessNotifications } = proxyActivities<MercadoLivreActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '8 seconds',
  retry: { initialInterval: '1s', maximumInterval: '20s' },
});

/**
 * Applies stored Mercado Livre notifications, sends pending answers and records SLA breaches, for
 * ever: each activity call works about a minute (heartbeating); the history is renewed by
 * continue-as-new. A worker that dies mid-slice is noticed by the heartbeat timeout and the rows it
 * had claimed are claimed again once their lease ends.
 */
export async function mercadoLivreNotificationsWorkflow(input: { sliceMs?: number } = {}): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await mlProcessNotifications({ maxMs: input.sliceMs ?? 60_000 });
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await continueAsNew<typeof mercadoLivreNotificationsWorkflow>(input);
}
