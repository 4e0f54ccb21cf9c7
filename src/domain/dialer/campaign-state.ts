/**
 * Dialer campaign states and the manual controls between them. Pure: the workflow's Update
 * validators and the API use the same table, so a refusal has one code everywhere.
 */

export const DIALER_CAMPAIGN_STATUSES = ['draft', 'scheduled', 'running', 'paused', 'completed', 'stopped'] as const;
export type DialerCampaignStatus = (typeof DIALER_CAMPAIGN_STATUSES)[number];

export const CAMPAIGN_COMMANDS = ['start', 'pause', 'resume', 'stop'] as const;
export type CampaignCommand = (typeof CAMPAIGN_COMMANDS)[number];

export const isFinal = (status: DialerCampaignStatus) => status === 'completed' || status === 'stopped';

/** Stable codes of refused transitions (the API answers them as 409 problems). */
export const CAMPAIGN_FINISHED = 'CAMPAIGN_FINISHED';
export const CAMPAIGN_ALREADY_STARTED = 'CAMPAIGN_ALREADY_STARTED';
export const CAMPAIGN_NOT_RUNNING = 'CAMPAIGN_NOT_RUNNING';
export const CAMPAIGN_NOT_PAUSED = 'CAMPAIGN_NOT_PAUSED';

export type Transition = { ok: true; next: DialerCampaignStatus } | { ok: false; code: string; message: string };

const refuse = (code: string, message: string): Transition => ({ ok: false, code, message });

/**
 * What a transition may depend on besides the status. A `scheduled` campaign waits on a Temporal
 * Schedule (its one-off start or its next recurrence): it may be paused (the Schedule is paused
 * too), and resuming it goes back to waiting instead of dialling.
 */
export interface TransitionContext {
  /** A cycle is under way (started and not yet finished). */
  cycleOpen: boolean;
}

const midCycle: TransitionContext = { cycleOpen: true };

export function transition(status: DialerCampaignStatus, command: CampaignCommand, ctx: TransitionContext = midCycle): Transition {
  if (isFinal(status)) return refuse(CAMPAIGN_FINISHED, `The campaign is ${status}; it can no longer be ${pastTense[command]}.`);
  switch (command) {
    case 'start':
      return status === 'draft' || status === 'scheduled'
        ? { ok: true, next: 'running' }
        : refuse(CAMPAIGN_ALREADY_STARTED, `The campaign is already ${status}; use resume to continue a paused campaign.`);
    case 'pause':
      return status === 'running' || status === 'scheduled'
        ? { ok: true, next: 'paused' }
        : refuse(CAMPAIGN_NOT_RUNNING, `Only a running or scheduled campaign can be paused; it is ${status}.`);
    case 'resume':
      return status === 'paused'
        ? { ok: true, next: ctx.cycleOpen ? 'running' : 'scheduled' }
        : refuse(CAMPAIGN_NOT_PAUSED, `Only a paused campaign can be resumed; it is ${status}.`);
    case 'stop':
      return { ok: true, next: 'stopped' };
  }
}

/**
 * Archiving (or deleting) a campaign ends it for good and frees its group, so only a campaign
 * with nothing under way or waiting may go: a draft (its idle workflow is stopped first) or a
 * final one. Running, paused and scheduled ones (a Schedule or a cycle to come) are refused.
 */
export const CAMPAIGN_IN_PROGRESS = 'CAMPAIGN_IN_PROGRESS';
export function retireRefusal(status: DialerCampaignStatus): { code: string; message: string } | undefined {
  if (status === 'draft' || isFinal(status)) return undefined;
  return { code: CAMPAIGN_IN_PROGRESS, message: `The campaign is ${status}; stop it before archiving or deleting it.` };
}

const pastTense: Record<CampaignCommand, string> = { start: 'started', pause: 'paused', resume: 'resumed', stop: 'stopped' };

/** Why a campaign is paused (shown by the API). */
export type PauseReason = 'manual' | 'network_failures' | 'group_inactive' | 'short_call_guard' | 'operations';
export const pauseReasonText: Record<PauseReason, string> = {
  manual: 'Pausada pelo supervisor.',
  network_failures: 'Pausada automaticamente: a maioria das últimas tentativas falhou por erro de rede/operadora.',
  group_inactive: 'Pausada automaticamente: o grupo de contatos está inativo ou não pertence mais à campanha.',
  short_call_guard: 'Pausada automaticamente: as chamadas curtas (até 6 s) de hoje atingiram o limite de segurança da empresa.',
  operations: 'Pausada pela operação (sinal do Temporal).',
};

/** Auto-pause rule: most of the last `window` attempts were network failures. */
export function tooManyNetworkFailures(recent: boolean[], window: number, ratio: number): boolean {
  if (recent.length < window) return false;
  const last = recent.slice(-window);
  return last.filter(Boolean).length / window > ratio;
}
