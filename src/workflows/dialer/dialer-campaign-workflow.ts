import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DialerActivities } from '../../activities/dialer/index';
import { isFinal, transition, type CampaignCommand, type DialerCampaignStatus, type PauseReason } from '../../domain/dialer/campaign-state';
import { CampaignStatus, JobStatus } from '../search-attributes';
import {
  dialerControlUpdate,
  dialerProgressQuery,
  pauseSignal,
  resumeSignal,
  startSignal,
  stopSignal,
  type DialerCampaignInput,
  type DialerCampaignProgress,
} from './messages';

const { prepareDialerCampaign, recordDialerCampaignState } = proxyActivities<DialerActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** Loop turns per run before continuing as new (each turn is a handful of events). */
const TURNS_PER_RUN = 200;
/** Longest sleep between turns: strategy edits and end times are picked up within it. */
const MAX_SLEEP_MS = 60_000;

/**
 * A dialer campaign (`dialer-campaign-<id>`): waits for its start (manual, or startAt via a
 * durable timer), builds its contact list, then runs dialing lanes until every contact is final,
 * pausing outside its calling window and when the dialer fails too much. Contact state lives in
 * PostgreSQL; the workflow carries only its status and counters across continue-as-new.
 */
export async function dialerCampaignWorkflow(input: DialerCampaignInput): Promise<DialerCampaignProgress> {
  const { dialLane } = proxyActivities<DialerActivities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: input.laneHeartbeatTimeoutMs ?? 20_000,
    retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: ['ARI_NOT_CONFIGURED'] },
  });

  const resume = input.resume;
  const progress: DialerCampaignProgress = {
    campaignId: input.campaignId,
    status: resume?.status ?? input.initialStatus,
    pauseReason: resume?.pauseReason ?? null,
    waitingWindow: false,
    nextWindowAt: null,
    lanes: resume?.lanes ?? 0,
    dialed: resume?.dialed ?? 0,
  };
  let seq = resume?.seq ?? 0;
  let prepared = resume?.prepared ?? false;
  let autoStarted = false;

  const persist = async () => {
    seq += 1;
    upsertSearchAttributes([
      { key: CampaignStatus, value: progress.status },
      { key: JobStatus, value: progress.status },
    ]);
    await recordDialerCampaignState({
      campaignId: input.campaignId,
      seq,
      status: progress.status,
      waitingWindow: progress.waitingWindow,
      nextWindowAt: progress.nextWindowAt,
      pauseReason: progress.pauseReason,
    });
  };

  const apply = (command: CampaignCommand, reason: PauseReason | null = null): boolean => {
    const t = transition(progress.status, command);
    if (!t.ok) return false;
    progress.status = t.next;
    progress.pauseReason = t.next === 'paused' ? (reason ?? 'manual') : null;
    if (t.next !== 'running') progress.waitingWindow = false;
    return true;
  };

  setHandler(dialerProgressQuery, () => progress);
  setHandler(
    dialerControlUpdate,
    async ({ command }) => {
      apply(command);
      await persist();
      return progress;
    },
    {
      validator: ({ command }) => {
        const t = transition(progress.status, command);
        if (!t.ok) throw ApplicationFailure.create({ type: t.code, message: t.message, nonRetryable: true });
      },
    },
  );
  const signalled = (command: CampaignCommand) => () => {
    if (apply(command)) void persist();
  };
  setHandler(startSignal, signalled('start'));
  setHandler(pauseSignal, signalled('pause'));
  setHandler(resumeSignal, signalled('resume'));
  setHandler(stopSignal, signalled('stop'));

  const endAt = input.endAt ? new Date(input.endAt).getTime() : undefined;
  const msUntil = (t: number) => Math.max(0, t - Date.now());
  const untilEnd = () => (endAt === undefined ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, msUntil(endAt)));

  if (!resume) await persist();

  // ---- waiting for the start
  while (progress.status === 'draft' || progress.status === 'scheduled') {
    if (progress.status === 'scheduled' && input.startAt) {
      const startIn = msUntil(new Date(input.startAt).getTime());
      const changed = await condition(() => progress.status !== 'scheduled', startIn);
      if (!changed) {
        autoStarted = apply('start');
        await persist();
      }
    } else {
      await condition(() => progress.status !== 'draft' && progress.status !== 'scheduled');
    }
  }
  void autoStarted;

  // ---- running
  let turns = 0;
  while (!isFinal(progress.status)) {
    if (endAt !== undefined && Date.now() >= endAt) {
      apply('stop');
      await persist();
      break;
    }
    if (progress.status === 'paused') {
      await condition(() => progress.status !== 'paused', untilEnd());
      continue;
    }
    if (!prepared) {
      await prepareDialerCampaign({ campaignId: input.campaignId });
      prepared = true;
    }
    progress.lanes += 1;
    const lane = await dialLane({ campaignId: input.campaignId });
    progress.dialed += lane.dialed;
    progress.lastLane = { reason: lane.reason, dialed: lane.dialed, finished: lane.finished, metrics: lane.metrics };

    if (lane.reason === 'completed' && progress.status === 'running') {
      progress.status = 'completed';
      progress.waitingWindow = false;
      await persist();
      break;
    }
    if (lane.reason === 'network_failures' && progress.status === 'running') {
      apply('pause', 'network_failures');
      await persist();
      continue;
    }
    if (progress.status !== 'running') continue;
    if (lane.reason === 'idle' || lane.reason === 'window_closed') {
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
    }
    turns += 1;
    if (!isFinal(progress.status) && (turns >= TURNS_PER_RUN || workflowInfo().continueAsNewSuggested)) {
      await condition(() => true);
      await continueAsNew<typeof dialerCampaignWorkflow>({
        ...input,
        resume: { status: progress.status, pauseReason: progress.pauseReason, seq, prepared, lanes: progress.lanes, dialed: progress.dialed },
      });
    }
  }
  // Answer every pending update (e.g. the stop that ended it) before completing.
  await condition(allHandlersFinished);
  return progress;
}

export type { DialerCampaignStatus };
