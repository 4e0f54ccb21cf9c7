import { continueAsNew, condition, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/broadcast/webhook-apply';
import { notSupported, progressQuery, setJobControls } from '../operations';
import { JobStatus } from '../search-attributes';

const { applyWebhookEvents } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '8 seconds',
  retry: { initialInterval: '1s', maximumInterval: '20s' },
});

export interface WebhookApplierInput {
  sliceMs?: number;
  /** Carried across continue-as-new: paused by operations (stored webhooks wait, none is lost). */
  paused?: boolean;
  pausedBy?: string | null;
}

export interface WebhookApplierProgress {
  state: 'running' | 'paused';
  pausedBy: string | null;
  /** A slice is being applied now (a pause takes effect when it ends, within a minute). */
  applying: boolean;
  /** Since this run began (it continues as new every hundred slices or so). */
  slices: number;
  events: number;
}

export const webhookApplierProgressQuery = progressQuery<WebhookApplierProgress>();
export const WEBHOOK_APPLIER_ALREADY_PAUSED = 'WEBHOOK_APPLIER_ALREADY_PAUSED';
export const WEBHOOK_APPLIER_NOT_PAUSED = 'WEBHOOK_APPLIER_NOT_PAUSED';

/**
 * Applies stored WhatsApp webhooks for ever: each activity call works about a minute (heartbeating),
 * then the loop goes on; the history is renewed by continue-as-new. Operations may pause it (during
 * database maintenance, say): the webhooks stay stored and are applied on resume. It has no stop:
 * the API starts it again within a minute.
 */
export async function whatsappWebhookApplierWorkflow(input: WebhookApplierInput = {}): Promise<void> {
  const progress: WebhookApplierProgress = {
    state: input.paused ? 'paused' : 'running',
    pausedBy: input.pausedBy ?? null,
    applying: false,
    slices: 0,
    events: 0,
  };
  setHandler(webhookApplierProgressQuery, () => progress);
  setJobControls({
    progress: () => progress,
    refuse: (act) => {
      if (act === 'pause')
        return progress.state === 'paused' ? { code: WEBHOOK_APPLIER_ALREADY_PAUSED, message: 'The webhook applier is already paused.' } : undefined;
      if (act === 'resume')
        return progress.state === 'running' ? { code: WEBHOOK_APPLIER_NOT_PAUSED, message: 'The webhook applier is not paused.' } : undefined;
      return notSupported('The webhook applier', act, 'it runs for ever (the API starts it again); pause it instead');
    },
    apply: (act, by) => {
      progress.state = act === 'pause' ? 'paused' : 'running';
      progress.pausedBy = act === 'pause' ? by : null;
      upsertSearchAttributes([{ key: JobStatus, value: progress.state }]);
    },
    newSignals: ['start', 'pause', 'resume', 'stop', 'cancel'],
  });

  for (let i = 0; i < 100; i++) {
    if (progress.state !== 'running') await condition(() => progress.state === 'running');
    progress.applying = true;
    const applied = await applyWebhookEvents({ maxMs: input.sliceMs ?? 60_000 });
    progress.applying = false;
    progress.slices += 1;
    progress.events += applied?.events ?? 0;
    if (workflowInfo().continueAsNewSuggested) break;
  }
  // The pause goes along only when there is one, so a run that was never paused continues as before.
  const { paused: _paused, pausedBy: _pausedBy, ...settings } = input;
  const pause = progress.state === 'paused' ? { paused: true, pausedBy: progress.pausedBy } : {};
  await continueAsNew<typeof whatsappWebhookApplierWorkflow>({ ...settings, ...pause });
}
