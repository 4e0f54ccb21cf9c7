import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BroadcastSendActivities, Halt, PageRef } from '../../activities/broadcast/send-activities';
import { gradualQuota, isWithinSendingHours, nextWindowStart, refuseControl, refuseEdit, type SendControl, type SendState } from '../../domain/broadcast';
import { MESSAGING_LIMIT_REASON } from '../../domain/messaging-limits';
import { auditFromWorkflow } from '../audit';
import { campaignStatusAttributes } from '../search-attributes';
import { setJobControls, type JobAct } from '../operations';
import {
  editSendUpdate,
  haltSendSignal,
  sendProgressQuery,
  type EditRequest,
  type SendCounters,
  type SendInput,
  type SendProgress,
  type SendSettings,
  wakeSendSignal,
} from './messages';

const { nextPage, sendSummary, settleUnknown, setSendState } = proxyActivities<BroadcastSendActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '20s' },
});
const { prepareSend } = proxyActivities<BroadcastSendActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumInterval: '20s' },
});
const { sendPage } = proxyActivities<BroadcastSendActivities>({
  // A page takes about 20 s at the send's pace; a dead worker is noticed by the heartbeat.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '8 seconds',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 20 },
});

const sendControlDone: Record<SendControl, string> = { start: 'iniciado', pause: 'pausado', resume: 'retomado', stop: 'parado' };

/** Patch: a send waiting on its sending hours wakes when they are edited (histories before it waited out the old ones). */
const WAKE_ON_HOURS_EDIT = 'send-wake-on-hours-edit';

/** Pages per run before continuing as new, so a million-contact send keeps a small history. */
const PAGES_PER_RUN = 300;

const zero = (): SendCounters => ({ pages: 0, claimed: 0, accepted: 0, failed: 0, skipped: 0, retries: 0, unsettled: 0, markedUnknown: 0 });

/**
 * One broadcast send (Envio): prepares a message row per contact, then pages through the pending
 * ones with a bounded number of pages in flight, honouring the start time, sending hours, gradual
 * release, manual controls and the workers' halts; passes again over messages to retry; settles
 * unknown outcomes; completes when nothing is pending or sending. Carries only a cursor and counters.
 */
export async function broadcastSendWorkflow(input: SendInput): Promise<SendProgress> {
  const r = input.resume;
  let state: SendState = r?.state ?? (input.startAt && Date.parse(input.startAt) > Date.now() ? 'scheduled' : 'running');
  let reason: string | null = r?.reason ?? null;
  let version = r?.version ?? 0;
  let cursor = r?.cursor ?? 0;
  let total = r?.total ?? 0;
  let releaseStartedAt = r?.releaseStartedAt ?? null;
  const counters = r?.counters ?? zero();
  let inflight = 0;
  let persisting = 0;
  let startedEarly = r?.startedEarly ?? false;
  // Carried across continue-as-new in the input; see editSendUpdate for what may change when.
  let settings: SendSettings = {
    startAt: input.startAt ?? null,
    sendingHours: input.sendingHours ?? null,
    gradual: input.gradual ?? null,
    paceMps: input.paceMps,
  };
  let edits = 0;
  const startAtMs = () => (settings.startAt ? Date.parse(settings.startAt) : 0);
  const pageSize = () => Math.max(10, Math.min(input.pageSize, settings.paceMps * 20));
  /** When the channel's messaging limit frees capacity, as the last limited page reported (ms; 0: not limited). */
  let limitUntil = 0;
  /** Wake-ups received: a wait ends early when this moves (see wakeSendSignal). */
  let wakes = 0;
  /** The sending hours were edited while the send waited on them. */
  let hoursEdited = false;

  const progress = (): SendProgress => ({ sendId: input.sendId, state, reason, total, cursor, counters: { ...counters } });

  const persist = async (clearHalt = false, last = false, until: number | null = null) => {
    persisting++;
    try {
      await setSendState({
        sendId: input.sendId,
        status: state,
        reason,
        version,
        clearHalt,
        last,
        until: until === null ? null : new Date(until).toISOString(),
      });
    } finally {
      persisting--;
    }
  };
  const transition = (next: SendState, why: string | null) => {
    if (state === next && reason === why) return false;
    state = next;
    reason = why;
    version++;
    upsertSearchAttributes(campaignStatusAttributes(next));
    return true;
  };

  // Counted with the state writes: continue-as-new and the end wait for them.
  const audit = async (actor: 'operations' | 'system', action: string, summary: string, details?: Record<string, unknown>) => {
    persisting++;
    try {
      await auditFromWorkflow({ tenantId: input.tenantId, actor, action, targetType: 'broadcast_send', targetId: input.sendId, summary, details });
    } finally {
      persisting--;
    }
  };
  /** `source`: a supervisor through the API (`manual`) or operations through a Temporal signal. */
  const apply = (control: SendControl, by: string, source: 'manual' | 'operations' = 'manual'): boolean => {
    if (refuseControl(control, state)) return false;
    switch (control) {
      case 'start':
        startedEarly = true;
        cursor = 0;
        return transition('running', null);
      case 'resume':
        cursor = 0;
        // Paused before its start time: back to waiting for it.
        return transition(!startedEarly && startAtMs() > Date.now() ? 'scheduled' : 'running', null);
      case 'pause':
        return transition('paused', `${source}:${by}`);
      case 'stop':
        return transition('stopped', `${source}:${by}`);
    }
  };
  const adoptHalt = (halt: Halt) => {
    if (state === 'completed' || state === 'stopped') return;
    const changed = halt.action === 'stop' ? transition('stopped', halt.reason) : state === 'paused' ? false : transition('paused', halt.reason);
    log.info('send halted', { sendId: input.sendId, ...halt, changed });
    void persist(true);
    if (changed)
      void audit('system', `broadcast_send.auto_${halt.action}`, `Envio ${halt.action === 'stop' ? 'parado' : 'pausado'} automaticamente: ${halt.reason}`, {
        reason: halt.reason,
      });
  };

  setHandler(sendProgressQuery, progress);
  // `cancel` is the vocabulary's other name for `stop`.
  const control = (act: JobAct): SendControl => (act === 'cancel' ? 'stop' : act);
  setJobControls({
    progress,
    refuse: (act) => refuseControl(control(act), state),
    apply: async (act, by, via) => {
      const c = control(act);
      // A signal is operations acting (Temporal CLI/UI), not the supervisor: its own reason and audit entry.
      if (!apply(c, by, via === 'signal' ? 'operations' : 'manual')) return;
      await persist(c === 'resume' || c === 'start');
      if (via === 'signal') await audit('operations', `broadcast_send.${c}`, `Envio ${sendControlDone[c]} pela operação (sinal do Temporal, ${by})`);
    },
    newSignals: ['start', 'pause', 'resume', 'stop', 'cancel'],
    retiredSignals: { 'start-signal': 'start', 'pause-signal': 'pause', 'resume-signal': 'resume', 'stop-signal': 'stop' },
  });
  setHandler(
    editSendUpdate,
    ({ settings: next }) => {
      // Only applied in memory: the API writes the row in the same transaction that awaits this.
      settings = { ...next };
      edits++;
      return progress();
    },
    {
      validator: (request: EditRequest) => {
        const refusal = refuseEdit(state, request.changed);
        if (refusal) throw ApplicationFailure.create({ type: refusal.code, message: refusal.message, nonRetryable: true });
      },
    },
  );
  setHandler(wakeSendSignal, () => {
    wakes++;
  });
  setHandler(haltSendSignal, ({ action, reason: why }) => {
    if (action === 'resume') {
      // A lifted condition (e.g. the template approved again) resumes only the pause it caused.
      if (state === 'paused' && reason === why && apply('resume', 'system')) {
        void persist(true);
        void audit('system', 'broadcast_send.auto_resume', `Envio retomado automaticamente: ${why} não se aplica mais`, { reason: why });
      }
      return;
    }
    adoptHalt({ action, reason: why });
  });

  if (!r) {
    version++;
    await persist();
    total = (await prepareSend({ sendId: input.sendId })).total;
  }

  const dispatch = (page: PageRef) => {
    inflight++;
    counters.pages++;
    sendPage(page)
      .then((res) => {
        counters.claimed += res.claimed;
        counters.accepted += res.accepted;
        counters.failed += res.failed;
        counters.skipped += res.skipped;
        counters.retries += res.retry;
        counters.unsettled += res.unsettled;
        if (res.halt) adoptHalt(res.halt);
        if (res.limitedUntil) limitUntil = Math.max(limitUntil, Date.parse(res.limitedUntil));
      })
      .catch((error) => log.warn('page failed; its messages are retried on the next pass', { page, error: String(error) }))
      .finally(() => inflight--);
  };

  let pagesThisRun = 0;
  for (;;) {
    const hours = settings.sendingHours;
    if (state === 'stopped' || state === 'completed') break;
    if (pagesThisRun > 0 && (pagesThisRun >= (input.pagesPerRun ?? PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested)) {
      // Let the pages in flight finish, then carry only the cursor and counters into a new run.
      await condition(() => inflight === 0 && allHandlersFinished() && persisting === 0);
      await continueAsNew<typeof broadcastSendWorkflow>({
        ...input,
        ...settings,
        resume: { state, reason, version, cursor, total, releaseStartedAt, counters, startedEarly },
      });
    }
    if (state === 'scheduled') {
      const seen = edits;
      const due = startAtMs() - Date.now();
      if (due > 0) await condition(() => state !== 'scheduled' || edits !== seen, due);
      // Edited (maybe a new start time): wait again from the new settings.
      if (edits !== seen) continue;
      if (state === 'scheduled' && transition('running', null)) {
        await persist();
        await audit('system', 'broadcast_send.scheduled_start', `Envio iniciado pelo agendamento (${settings.startAt})`);
      }
      continue;
    }
    if (state === 'paused') {
      await condition(() => state !== 'paused');
      continue;
    }
    if (hours && hours.length > 0) {
      const now = Date.now();
      if (!isWithinSendingHours(now, hours)) {
        const opens = nextWindowStart(now, hours);
        const changed = transition('waiting', 'outside_sending_hours');
        if (changed || hoursEdited) {
          // Still waiting after an edit: the row shows when the new hours open.
          if (!changed) version++;
          await persist(false, false, opens ?? null);
        }
        hoursEdited = false;
        // New hours (an edit while waiting) are looked at at once, not when the old ones open.
        const seen = edits;
        const wakeOnEdit = patched(WAKE_ON_HOURS_EDIT);
        const woken = () => state !== 'waiting' || (wakeOnEdit && edits !== seen);
        if (opens === undefined) await condition(woken);
        else await condition(woken, Math.max(1000, opens - now));
        cursor = 0;
        if (wakeOnEdit && edits !== seen && state === 'waiting') {
          hoursEdited = true;
          continue;
        }
        if (state === 'waiting' && transition('running', null)) await persist();
        continue;
      }
    }
    // Inside the hours, or none any more (edited away while waiting).
    if (state === 'waiting' && transition('running', null)) await persist();
    if (state !== 'running') continue;

    if (limitUntil > 0) {
      // The channel's messaging limit is reached: let the pages end, then wait for capacity.
      await condition(() => inflight === 0 || state !== 'running');
      if (state !== 'running') continue;
      // At least a second, so clocks a little apart cannot make it spin on a slot not yet free.
      const until = Math.max(limitUntil, Date.now() + 1000);
      if (transition('waiting', MESSAGING_LIMIT_REASON)) await persist(false, false, until);
      // A higher tier (or anything else that frees capacity) wakes it: the next page finds out.
      const seen = wakes;
      await condition(() => state !== 'waiting' || wakes !== seen, until - Date.now());
      if ((state as SendState) === 'waiting' && transition('running', null)) await persist();
      limitUntil = 0;
      cursor = 0;
      continue;
    }

    releaseStartedAt ??= Date.now();
    const quota = gradualQuota(total, settings.gradual, releaseStartedAt, Date.now());
    if (inflight >= input.pagesInFlight) {
      await condition(() => inflight < input.pagesInFlight || state !== 'running');
      continue;
    }
    const next = await nextPage({ sendId: input.sendId, afterSeq: cursor, limit: pageSize(), maxSeq: quota.allowed });
    if (next.halt) {
      adoptHalt(next.halt);
      continue;
    }
    if (state !== 'running') continue;
    if (next.page) {
      cursor = next.page.toSeq;
      dispatch(next.page);
      pagesThisRun++;
      continue;
    }

    // The end of a pass: wait for its pages, then see what is left.
    await condition(() => inflight === 0);
    if (state !== 'running') continue;
    const s = await sendSummary({ sendId: input.sendId, maxSeq: quota.allowed });
    if (s.halt) {
      adoptHalt(s.halt);
      continue;
    }
    cursor = 0;
    if (s.pendingReleased > 0) {
      const wait = s.nextDueAt ? Date.parse(s.nextDueAt) - Date.now() : 0;
      const seen = wakes;
      if (wait > 0) await condition(() => state !== 'running' || wakes !== seen, wait);
      continue;
    }
    if (s.pending > 0) {
      // Held back by the gradual release.
      const opens = quota.nextReleaseAt ?? Date.now() + 1000;
      await condition(() => state !== 'running', Math.max(1000, opens - Date.now()));
      continue;
    }
    if (s.sending > 0) {
      const settleAt = Date.parse(s.oldestSendingAt ?? '') + input.unknownAfterMs;
      const wait = settleAt - Date.now();
      // Look again every few seconds: webhooks usually settle these long before the timeout.
      if (wait > 0) await condition(() => state !== 'running', Math.min(wait + 250, 5_000));
      else counters.markedUnknown += await settleUnknown({ sendId: input.sendId, olderThanMs: input.unknownAfterMs });
      continue;
    }
    transition('completed', null);
  }

  // Final: pages still finishing must record their answers before the last state is written.
  await condition(() => inflight === 0);
  version++;
  await persist(true, true);
  await condition(() => allHandlersFinished() && persisting === 0);
  return progress();
}
