import type { CallReport } from '../../integrations/ari';

/** How a call ended, as the lane records it (from its tracker, or found again after a restart). */
export type CallEnd = Pick<CallReport, 'outcome' | 'cause' | 'causeTxt' | 'ringMs' | 'talkMs' | 'lost' | 'answeredAt' | 'endedAt'> & { amdStatus?: string };
