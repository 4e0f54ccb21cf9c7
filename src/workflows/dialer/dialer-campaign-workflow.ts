import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DialerActivities } from '../../activities/dialer/index';
import { isFinal, transition, type CampaignCommand, type DialerCampaignStatus, type PauseReason } from '../../domain/dialer/campaign-state';
import { startSecond } from '../../domain/dialer/start-schedule';
import { auditFromWorkflow } from '../audit';
import { campaignStatusAttributes } from '../search-attributes';
import { setJobControls, type JobAct } from '../operations';
import { cycleSignal, dialerProgressQuery, retiredControlUpdate, type DialerCampaignInput, type DialerCampaignProgress, type ScheduleState } from './messages';

const { startDialerCycle, recordDialerCampaignState, syncDialerRecurrence, syncDialerStart } = proxyActivities<DialerActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

const commandDone: Record<CampaignCommand, string> = { start: 'iniciada', pause: 'pausada', resume: 'retomada', stop: 'parada' };

/** Loop turns per run before continuing as new (each turn is a handful of events). */
const TURNS_PER_RUN = 200;
/** Longest sleep between turns: strategy edits and end times are picked up within it. */
const MAX_SLEEP_MS = 60_000;

/**
 * A dialer campaign (`dialer-campaign-<id>`): waits for its start (manual, its start Schedule at
 * startAt, or an occurrence of its recurrence Schedule), then runs cycles: each builds or re-arms
 * the contact list and runs dialing lanes until every contact is final, pausing outside its
 * calling window and when the dialer fails too much. A recurring campaign goes back to
 * `scheduled` between cycles. Its Schedules are paused with it and deleted when it ends (the start
 * Schedule as soon as it has started, however it started). Contact state lives in PostgreSQL;
 * the workflow carries only its status and counters across continue-as-new.
 */
export async function dialerCampaignWorkflow(input: DialerCampaignInput): Promise<DialerCampaignProgress> {
  const { dialLane } = proxyActivities<DialerActivities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: input.laneHeartbeatTimeoutMs ?? 20_000,
    retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: ['ARI_NOT_CONFIGURED'] },
  });

  const resume = input.resume;
  const recurrence = input.recurrence;
  const progress: DialerCampaignProgress = {
    campaignId: input.campaignId,
    status: resume?.status ?? input.initialStatus,
    pauseReason: resume?.pauseReason ?? null,
    waitingWindow: false,
    nextWindowAt: null,
    lanes: resume?.lanes ?? 0,
    dialed: resume?.dialed ?? 0,
    cycle: resume?.cycle ?? 0,
    nextRunAt: resume?.nextRunAt ?? null,
  };
  let seq = resume?.seq ?? 0;
  let cycleOpen = resume?.cycleOpen ?? resume?.prepared ?? false;
  // A start accepted whose cycle the group check refused: the cycle is still due, so a resume
  // retries it (and pauses again while the group is unusable) instead of waiting for a Schedule.
  let cycleDue = resume?.cycleDue ?? false;
  let scheduleState: ScheduleState | undefined = resume?.scheduleState;
  let startScheduleState: ScheduleState | undefined = resume?.startScheduleState;
  let started = resume?.started ?? progress.cycle > 0;
  // Firings of its Schedules not yet acted on (only counted while `scheduled`).
  let occurrences = resume?.occurrences ?? 0;

  const persist = async () => {
    seq += 1;
    upsertSearchAttributes(campaignStatusAttributes(progress.status));
    await recordDialerCampaignState({
      campaignId: input.campaignId,
      seq,
      status: progress.status,
      waitingWindow: progress.waitingWindow,
      nextWindowAt: progress.nextWindowAt,
      pauseReason: progress.pauseReason,
      nextRunAt: progress.nextRunAt,
    });
  };

  // The Schedules follow the campaign: paused with it, deleted once it is final (the start
  // Schedule also once it has started); the recurrence one is asked for the next run whenever the
  // campaign waits for one. One change at a time, in order: a quick pause and resume must not
  // reach a Schedule the other way round.
  let governing: Promise<void> = Promise.resolve();
  const govern = () => (governing = governing.catch(() => undefined).then(governNow));
  const governNow = async () => {
    const want: ScheduleState = isFinal(progress.status) ? 'deleted' : progress.status === 'paused' ? 'paused' : 'active';
    const startWant: ScheduleState = started ? 'deleted' : want;
    // Only a campaign with a startAt has a start Schedule.
    if (input.startAt && startWant !== startScheduleState) {
      startScheduleState = startWant;
      const { nextRunAt } = await syncDialerStart({ campaignId: input.campaignId, startAt: input.startAt, state: startWant });
      // Its second passed before it was created or while it was paused: it will never fire, so the start is due now.
      if (startWant === 'active' && nextRunAt === null) occurrences += 1;
    }
    if (recurrence && (want !== scheduleState || progress.status === 'scheduled')) {
      scheduleState = want;
      const { nextRunAt } = await syncDialerRecurrence({ campaignId: input.campaignId, recurrence, startAt: input.startAt, endAt: input.endAt, state: want });
      if (progress.status === 'scheduled') progress.nextRunAt = nextRunAt;
    }
    if (progress.status === 'scheduled' && !started && input.startAt) progress.nextRunAt = startSecond(input.startAt).toISOString();
  };
  const changed = async () => {
    await govern();
    await persist();
  };

  const ctx = () => ({ cycleOpen: cycleOpen || cycleDue });
  const apply = (command: CampaignCommand, reason: PauseReason | null = null): boolean => {
    const t = transition(progress.status, command, ctx());
    if (!t.ok) return false;
    if (command === 'start') {
      started = true;
      // Started, its cycle not open yet (that takes an activity): a pause in between must resume
      // to dialling, not to waiting for a Schedule that has already fired (or never existed).
      if (patched('dialer-start-makes-cycle-due')) cycleDue = true;
    }
    progress.status = t.next;
    progress.pauseReason = t.next === 'paused' ? (reason ?? 'manual') : null;
    if (t.next !== 'running') progress.waitingWindow = false;
    if (t.next !== 'scheduled') progress.nextRunAt = null;
    return true;
  };

  setHandler(dialerProgressQuery, () => progress);
  // `cancel` is the vocabulary's other name for `stop`.
  const command = (act: JobAct): CampaignCommand => (act === 'cancel' ? 'stop' : act);
  setJobControls({
    progress: () => progress,
    refuse: (act) => {
      const t = transition(progress.status, command(act), ctx());
      return t.ok ? undefined : t;
    },
    apply: async (act, by, via) => {
      const c = command(act);
      // A signal is operations acting (Temporal CLI/UI), not the supervisor: its own pause reason and audit entry.
      if (!apply(c, via === 'signal' && c === 'pause' ? 'operations' : null)) return;
      await changed();
      if (via === 'signal') await audit('operations', `dialer_campaign.${c}`, `Campanha ${commandDone[c]} pela operação (sinal do Temporal, ${by})`);
    },
    newSignals: ['cancel'],
  });
  setHandler(
    retiredControlUpdate,
    async ({ command: retired }) => {
      apply(retired);
      await changed();
      return progress;
    },
    {
      validator: ({ command: retired }) => {
        throw ApplicationFailure.create({
          type: 'UPDATE_RETIRED',
          message: `The Update "control" is retired: use the Update "${retired}".`,
          nonRetryable: true,
        });
      },
    },
  );
  const audit = (actor: 'operations' | 'system', action: string, summary: string, details?: Record<string, unknown>) =>
    auditFromWorkflow({ tenantId: input.tenantId, actor, action, targetType: 'dialer_campaign', targetId: input.campaignId, summary, details });
  // An occurrence while a cycle is under way (or paused) is skipped: that cycle keeps going. The
  // start Schedule firing after the campaign started (a manual start raced it) does nothing.
  setHandler(cycleSignal, ({ first }) => {
    if (progress.status === 'scheduled' && !(first && started)) occurrences += 1;
  });

  const endAt = input.endAt ? new Date(input.endAt).getTime() : undefined;
  const msUntil = (t: number) => Math.max(0, t - Date.now());
  const untilEnd = () => (endAt === undefined ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, msUntil(endAt)));

  if (!resume) await changed();

  /** Waits for a start: manual, or one of its Schedules firing. */
  const waitForStart = async () => {
    await condition(() => progress.status !== 'scheduled' || occurrences > 0, untilEnd());
    if (progress.status !== 'scheduled' || occurrences === 0) return;
    occurrences = 0;
    const first = !started;
    apply('start');
    await changed();
    if (first && input.startAt) await audit('system', 'dialer_campaign.scheduled_start', `Campanha iniciada pelo agendamento (${input.startAt})`);
    else await audit('system', 'dialer_campaign.cycle_start', `Ciclo ${progress.cycle + 1} da recorrência iniciado`);
  };

  /** A new cycle: the first builds the contact list, later ones re-arm contacts not yet reached. */
  const openCycle = async (): Promise<boolean> => {
    const opened = await startDialerCycle({ campaignId: input.campaignId, cycle: progress.cycle + 1 });
    if (opened.refused) {
      // The group lock checked again at the start: an unusable group pauses the campaign, with why.
      if (patched('dialer-refused-start-stays-due')) cycleDue = true;
      apply('pause', 'group_inactive');
      await changed();
      await audit('system', 'dialer_campaign.auto_pause', `Campanha pausada automaticamente: ${opened.refused.message}`, {
        reason: 'group_inactive',
        code: opened.refused.code,
      });
      return false;
    }
    progress.cycle += 1;
    cycleOpen = true;
    cycleDue = false;
    return true;
  };

  /** The cycle is over: wait for the next occurrence, or complete when there is none. */
  const closeCycle = async () => {
    cycleOpen = false;
    progress.waitingWindow = false;
    progress.nextWindowAt = null;
    if (recurrence) {
      progress.status = 'scheduled';
      await govern();
      if (progress.nextRunAt) {
        await persist();
        return audit('system', 'dialer_campaign.cycle_end', `Ciclo ${progress.cycle} concluído; o próximo começa em ${progress.nextRunAt}`, {
          cycle: progress.cycle,
          nextRunAt: progress.nextRunAt,
        });
      }
    }
    progress.status = 'completed';
    await changed();
  };

  const runLane = async () => {
    if (!cycleOpen && !(await openCycle())) return;
    progress.lanes += 1;
    const lane = await dialLane({ campaignId: input.campaignId });
    progress.dialed += lane.dialed;
    progress.lastLane = { reason: lane.reason, dialed: lane.dialed, finished: lane.finished, metrics: lane.metrics };

    if (lane.reason === 'completed' && progress.status === 'running') return closeCycle();
    if (lane.reason === 'network_failures' && progress.status === 'running') {
      apply('pause', 'network_failures');
      await changed();
      return audit(
        'system',
        'dialer_campaign.auto_pause',
        'Campanha pausada automaticamente: a maioria das últimas tentativas falhou por erro de rede/operadora',
        { reason: 'network_failures' },
      );
    }
    if (lane.reason === 'short_call_guard' && progress.status === 'running') {
      // New lane result: histories recorded before it never reach this branch, so they replay unchanged.
      apply('pause', 'short_call_guard');
      await changed();
      return audit(
        'system',
        'dialer_campaign.auto_pause',
        'Campanha pausada automaticamente: as chamadas curtas de hoje atingiram o limite de segurança da empresa',
        {
          reason: 'short_call_guard',
        },
      );
    }
    if (progress.status !== 'running' || (lane.reason !== 'idle' && lane.reason !== 'window_closed')) return;
    const waiting = lane.waitingWindow;
    if (waiting !== progress.waitingWindow || lane.nextAt !== progress.nextWindowAt) {
      progress.waitingWindow = waiting;
      progress.nextWindowAt = waiting ? lane.nextAt : null;
      await persist();
    }
    const sleep = lane.nextAt ? Math.min(untilEnd(), msUntil(new Date(lane.nextAt).getTime())) : untilEnd();
    await condition(() => progress.status !== 'running', Math.max(sleep, 250));
    if (progress.waitingWindow && progress.status === 'running') {
      progress.waitingWindow = false;
      progress.nextWindowAt = null;
      await persist();
    }
  };

  let turns = 0;
  while (!isFinal(progress.status)) {
    if (endAt !== undefined && Date.now() >= endAt) {
      apply('stop');
      await changed();
      await audit('system', 'dialer_campaign.scheduled_stop', `Campanha parada no fim agendado (${input.endAt})`);
      break;
    }
    if (progress.status === 'draft') await condition(() => progress.status !== 'draft', untilEnd());
    else if (progress.status === 'scheduled') await waitForStart();
    else if (progress.status === 'paused') await condition(() => progress.status !== 'paused', untilEnd());
    else await runLane();

    turns += 1;
    if (!isFinal(progress.status) && (turns >= TURNS_PER_RUN || workflowInfo().continueAsNewSuggested)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof dialerCampaignWorkflow>({
        ...input,
        resume: {
          status: progress.status,
          pauseReason: progress.pauseReason,
          seq,
          prepared: progress.cycle > 0,
          lanes: progress.lanes,
          dialed: progress.dialed,
          cycle: progress.cycle,
          cycleOpen,
          cycleDue,
          nextRunAt: progress.nextRunAt,
          scheduleState,
          startScheduleState,
          started,
          occurrences,
        },
      });
    }
  }
  // Answer every pending update (e.g. the stop that ended it) before completing.
  await condition(allHandlersFinished);
  return progress;
}

export type { DialerCampaignStatus };
