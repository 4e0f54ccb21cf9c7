import { ApplicationFailure, defineQuery, defineSignal, defineUpdate, log, patched, setHandler } from '@temporalio/workflow';

/**
 * The operations vocabulary: every job workflow (import, dialer campaign, broadcast send, export,
 * webhook applier) answers the same names for the same act, as an Update (the caller hears
 * whether it applied, or why not) and as a signal (fire and forget, for the Temporal CLI/UI):
 * `start`, `pause`, `resume`, `stop`, `cancel`; progress is the Query `progress`.
 *
 * An Update and a signal may share a name: the SDK keeps their handlers apart and the server never
 * compares them (checked by test/integration/operations-cli.test.ts). `stop` and `cancel` are one
 * act, "end this job now, keeping what is done": campaigns call the result `stopped`, imports and
 * exports `cancelled`, and both names work on every job. An act a kind does not have (pausing an
 * import) is refused by the Update with JOB_ACT_NOT_SUPPORTED and logged and ignored as a signal.
 */
export const JOB_ACTS = ['start', 'pause', 'resume', 'stop', 'cancel'] as const;
export type JobAct = (typeof JOB_ACTS)[number];

/** Every act's payload; `by` defaults to `operations` (a person at the Temporal CLI/UI). */
export interface ActRequest {
  by?: string;
}

export const JOB_ACT_NOT_SUPPORTED = 'JOB_ACT_NOT_SUPPORTED';
export const OPERATIONS_ACTOR = 'operations';

export const progressQueryName = 'progress';
/** The argument is optional at the CLI (`--input` may be left out): handlers read it as possibly undefined. */
export const actUpdate = <Progress>(act: JobAct) => defineUpdate<Progress, [ActRequest]>(act);
export const actSignal = (act: JobAct) => defineSignal<[ActRequest?]>(act);
export const progressQuery = <Progress>() => defineQuery<Progress>(progressQueryName);

/**
 * Patch id of the vocabulary (see "Versioned workflows" in the README). A run started before it
 * may hold, in its history, a signal under a name it then ignored (`pause` sent to a broadcast
 * send) or under a retired name (`pause-signal`); replaying such a run must do what the old code
 * did, so those handlers ask `patched()`: false only while replaying the old part of a history.
 */
export const OPERATIONS_VOCABULARY_PATCH = 'operations-vocabulary';

export interface Refusal {
  code: string;
  message: string;
}

export interface JobControls<Progress> {
  /** What the answer of every Update is. */
  progress(): Progress;
  /** Why `act` cannot apply now (becomes the Update's failure type, the API's 409 code), or undefined. */
  refuse(act: JobAct): Refusal | undefined;
  /** Applies an act `refuse` allowed; an Update answers once the returned promise settles. */
  apply(act: JobAct, by: string, via: 'update' | 'signal'): Promise<unknown> | unknown;
  /**
   * Signal names this kind did not handle before the vocabulary: replaying a run from before
   * it, they stay ignored as they were.
   */
  newSignals: readonly JobAct[];
  /** Names this kind answered before the vocabulary, as signals: applied only on replay of a history that holds them. */
  retiredSignals?: Readonly<Record<string, JobAct>>;
}

/** "Pausing an import is not possible": the refusal of an act a kind does not have. */
export const notSupported = (what: string, act: JobAct, instead: string): Refusal => ({
  code: JOB_ACT_NOT_SUPPORTED,
  message: `${what} has no ${act}; ${instead}.`,
});

const actor = (request?: ActRequest) => request?.by || OPERATIONS_ACTOR;

/** Registers the five Updates and five signals of the vocabulary (and any retired signal names). */
export function setJobControls<Progress>(controls: JobControls<Progress>): void {
  const signalled = (act: JobAct, request: ActRequest | undefined, name: string) => {
    const refusal = controls.refuse(act);
    if (refusal) {
      log.warn('operations signal ignored', { signal: name, act, code: refusal.code, reason: refusal.message });
      return;
    }
    void controls.apply(act, actor(request), 'signal');
  };
  for (const act of JOB_ACTS) {
    setHandler(
      actUpdate<Progress>(act),
      async (request: ActRequest | undefined) => {
        await controls.apply(act, actor(request), 'update');
        return controls.progress();
      },
      {
        validator: (_request: ActRequest | undefined) => {
          const refusal = controls.refuse(act);
          if (refusal) throw ApplicationFailure.create({ type: refusal.code, message: refusal.message, nonRetryable: true });
        },
      },
    );
    const isNew = controls.newSignals.includes(act);
    setHandler(actSignal(act), (request) => {
      if (isNew && !patched(OPERATIONS_VOCABULARY_PATCH)) return;
      signalled(act, request, act);
    });
  }
  for (const [name, act] of Object.entries(controls.retiredSignals ?? {})) {
    setHandler(defineSignal<[ActRequest?]>(name), (request) => {
      if (patched(OPERATIONS_VOCABULARY_PATCH)) {
        log.warn('retired signal name ignored', { signal: name, use: act });
        return;
      }
      signalled(act, request, name);
    });
  }
}
