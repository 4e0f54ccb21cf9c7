import { setTimeout as sleep } from 'node:timers/promises';
import type { Claimed } from './claim';
import type { Grant } from './limiter';
import type { Halt, PageResult } from './send-activities';
import { createWakeup } from './wakeup';

/**
 * The page's control loop, over a queue of messages: takes slots (pace), records each batch's
 * intent (claim, committed before any call), calls when the slots are counted from (dispatch) and
 * puts short retries back once their `pending` is recorded (record). Stops when the queue is done,
 * the send halts or stops running, the messaging limit is reached, or the activity is cancelled.
 * The steps are passed in, so the loop is tested on its own.
 */
export interface PageLoopDeps<M extends { id: number }> {
  queue: M[];
  /** API calls in flight at once. */
  concurrency: number;
  /** Slots asked for at once: at least, at most (read at each ask: a pace edited mid-page changes them). */
  slots: { least: number; most: number };
  /** Slots up to `want` (at least `least`), taken `CLAIM_LEAD_MS` ahead. */
  acquire(want: number, least: number): Promise<Grant>;
  /** The grant's slots are counted from now (its calls left late). */
  restamp(grant: Grant, size: number): Promise<void>;
  /**
   * Records the intent of a batch (`sending`): the attempt number of each claimed message. Given
   * the batch's grant, a claim that comes after the grant's time counts its slots from then itself
   * (`restamped`), saving the restamp's round trip.
   */
  claim(batch: M[], grant: Grant): Promise<Claimed>;
  /** Calls the API for one claimed message: answers the delay of a short retry to make, if any. */
  dispatch(message: M, attempt: number): Promise<number | undefined>;
  /** Writes the outcomes recorded so far (a retry's `pending` before it is claimed again). */
  flush(): Promise<void>;
  /** The send as stored now: still running, or its halt (undefined halt: not running for another reason). */
  check(): Promise<{ running: true } | { running: false; halt?: Halt }>;
  /** The activity is cancelled (worker shutting down). */
  cancelled(): boolean;
  /** Page turns among this send's pages in this worker: `wake` is rung when the turn may have come. */
  turn: { set(waiting: boolean, wake: () => void): void; isTurn(): boolean };
  /** Counters the loop keeps: claimed, interrupted, halt, limitedUntil. */
  result: PageResult;
  checkEveryMs?: number;
}

export async function runPageLoop<M extends { id: number }>(deps: PageLoopDeps<M>): Promise<void> {
  const { queue, concurrency, result } = deps;
  const checkEveryMs = deps.checkEveryMs ?? 300;
  const inflight = new Set<Promise<void>>();
  /**
   * Short retries waiting in this page. A throughput refusal (130429) takes a new slot like any
   * message: sending it again in the slot it had (Meta did not count it) put more calls than
   * the limit into Meta's window and kept a tenth of all calls refused (measured: 12,599
   * refusals and 897 msg/s for 100,000 messages, against 3,375 and 942 msg/s this way).
   */
  const later: { message: M; due: number }[] = [];
  /** Batches whose intent is being recorded: the next slots are taken meanwhile, so the two round trips overlap. */
  const claims = new Set<Promise<void>>();
  /** Retries whose `pending` is being written before they go back to the queue. */
  const returning = new Set<Promise<void>>();
  /** Rung whenever a call or an intent write finishes. */
  const wakeup = createWakeup();
  let claiming = 0;
  let claimFailure: unknown;
  let checkedAt = Date.now();

  try {
    while ((queue.length > 0 || later.length > 0 || inflight.size > 0 || claims.size > 0 || returning.size > 0) && !result.halt && !result.limitedUntil) {
      if (claimFailure) throw claimFailure;
      if (deps.cancelled()) {
        result.interrupted = true;
        break;
      }
      if (Date.now() - checkedAt > checkEveryMs) {
        checkedAt = Date.now();
        const now = await deps.check();
        if (!now.running) {
          result.interrupted = true;
          result.halt ??= now.halt;
          break;
        }
      }
      if (later.some((l) => l.due <= Date.now())) requeueDue();
      if (queue.length === 0) {
        // Only answers in flight or short retries left: wait for whichever comes first.
        const nextDue = later.length ? Math.max(1, Math.min(...later.map((l) => l.due)) - Date.now()) : 250;
        await wakeup.wait(Math.min(nextDue, 250));
        continue;
      }
      if (inflight.size + claiming >= concurrency) {
        await wakeup.wait();
        continue;
      }
      deps.turn.set(true, wakeup.ring);
      if (!deps.turn.isTurn()) {
        await wakeup.wait(250);
        continue;
      }
      const want = Math.min(queue.length, concurrency - inflight.size - claiming, deps.slots.most);
      const grant = await deps.acquire(want, deps.slots.least);
      if (grant.granted === 0) {
        await sleep(Math.min(grant.waitMs, 250));
        continue;
      }
      claimAndCall(queue.splice(0, grant.granted), grant, Date.now() + grant.delayMs);
      if (queue.length === 0) deps.turn.set(false, wakeup.ring);
    }
    await Promise.all(claims);
    await Promise.all(inflight);
    await Promise.all(returning);
    if (claimFailure) throw claimFailure;
  } finally {
    deps.turn.set(false, wakeup.ring);
  }

  function requeueDue(): void {
    const now = Date.now();
    const due = later.filter((l) => l.due <= now);
    later.splice(0, later.length, ...later.filter((l) => l.due > now));
    // Their `pending` must be written before they are claimed again. Not awaited here: a
    // recorder write waiting on rows the webhook applier holds must not stop this page
    // (nor, while it holds the turn, the pages after it) from sending the others.
    const back: Promise<void> = deps
      .flush()
      .then(() => {
        for (const d of due) queue.push(d.message);
      })
      .catch((error) => {
        claimFailure ??= error;
      })
      .finally(() => {
        returning.delete(back);
        wakeup.ring();
      });
    returning.add(back);
  }

  /**
   * Records the intent (and the messaging-limit admission) for a batch that has its slots, then
   * calls when its slots are counted from (`callAt`, local clock); runs alongside the loop,
   * which only waits for it to count the batch as in flight.
   */
  function claimAndCall(batch: M[], grant: Grant, callAt: number): void {
    claiming += batch.length;
    const claim: Promise<void> = (async () => {
      // Committed before any call: from here on a retry never sends these again.
      const { attempts, limitedUntil, restamped } = await deps.claim(batch, grant);
      if (callAt > Date.now()) await sleep(callAt - Date.now());
      // Late (the timer fired late, or recording took longer than the lead and the claim did not
      // restamp): the calls leave now, and the window counts them from now. Not awaited (the
      // calls need not wait for bookkeeping of the next window); if it fails the grant keeps its
      // earlier time, which risks a 130429, nothing more.
      if (!restamped && Date.now() - callAt > 1) deps.restamp(grant, batch.length).catch(() => undefined);
      result.claimed += attempts.size;
      // Refused by the messaging limit: left `pending` for when capacity frees; this page ends.
      if (limitedUntil) result.limitedUntil = limitedUntil;
      for (const message of batch) {
        const attempt = attempts.get(Number(message.id));
        if (attempt === undefined) continue;
        const call: Promise<void> = deps
          .dispatch(message, attempt)
          .then((retryMs) => {
            if (retryMs !== undefined) later.push({ message, due: Date.now() + retryMs });
          })
          .finally(() => {
            inflight.delete(call);
            wakeup.ring();
          });
        inflight.add(call);
      }
    })()
      .catch((error) => {
        claimFailure ??= error;
      })
      .finally(() => {
        claiming -= batch.length;
        claims.delete(claim);
        wakeup.ring();
      });
    claims.add(claim);
  }
}
