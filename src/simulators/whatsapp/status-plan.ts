import type { WebhookBehaviour } from './config';
import { statusError } from './graph-errors';
import type { WireStatus } from './webhook-dispatcher';

export interface AcceptedMessage {
  wamid: string;
  phoneNumberId: string;
  waId: string;
  category: string;
  callbackData?: string;
  acceptedAt: number;
  /** Set when an injection makes this message fail after acceptance. */
  failureCode?: number;
}

export interface PlannedStatus {
  at: number;
  status: WireStatus;
}

/**
 * The status webhooks one accepted message will produce: `sent`, then `delivered` (unless
 * skipped), then `read` (for `readFraction` of them), or `sent` then `failed` with errors[].
 * Timestamps always follow the true order; out-of-order only reverses when they are dispatched.
 */
export function planStatuses(message: AcceptedMessage, behaviour: WebhookBehaviour, random: () => number): PlannedStatus[] {
  const pricing = { billable: true, pricing_model: 'PMP', category: message.category.toLowerCase(), type: 'regular' };
  const event = (status: WireStatus['status'], delayMs: number, extra: Partial<WireStatus> = {}): PlannedStatus => {
    const at = message.acceptedAt + delayMs;
    return {
      at,
      status: {
        id: message.wamid,
        status,
        timestamp: String(Math.floor(at / 1000)),
        recipient_id: message.waId,
        ...(message.callbackData !== undefined ? { biz_opaque_callback_data: message.callbackData } : {}),
        ...extra,
      },
    };
  };

  const events = [event('sent', behaviour.sentDelayMs, { pricing })];
  if (message.failureCode !== undefined) {
    events.push(event('failed', behaviour.deliveredDelayMs, { errors: [statusError(message.failureCode)] }));
  } else {
    if (random() >= behaviour.skipDeliveredFraction) events.push(event('delivered', behaviour.deliveredDelayMs, { pricing }));
    if (random() < behaviour.readFraction) events.push(event('read', behaviour.readDelayMs));
  }

  if (events.length > 1 && random() < behaviour.outOfOrderFraction) {
    const times = events.map((planned) => planned.at).reverse();
    events.forEach((planned, index) => (planned.at = times[index]));
  }
  const duplicates = events.filter(() => random() < behaviour.duplicateFraction).map((planned) => ({ ...planned, at: planned.at + 1 }));
  return [...events, ...duplicates];
}
