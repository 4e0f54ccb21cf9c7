import type { Client } from '@temporalio/client';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema';

export interface Check {
  ok: boolean;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  checks: { postgres: Check; temporal: Check; worker: Check };
}

// temporal.api.enums.v1 values (the proto package is not one of our direct dependencies).
const TaskQueueType = { TASK_QUEUE_TYPE_WORKFLOW: 1, TASK_QUEUE_TYPE_ACTIVITY: 2 } as const;
const TaskQueueKind = { TASK_QUEUE_KIND_NORMAL: 1 } as const;

async function check(fn: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message.split('\n')[0] };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Readiness measured in the background and served from memory: a load balancer's calls cost no
 * round trip (hundreds a second used to time out against PostgreSQL and Temporal). Ready means
 * PostgreSQL and Temporal answer and a worker polls our task queue (workflow and activity tasks),
 * so the API does not take work that nothing would run.
 */
export function createReadinessProbe(deps: {
  db: Kysely<Database>;
  temporal: Client;
  namespace: string;
  taskQueue: string;
  pingDatabase?: () => Promise<void>;
  refreshMs: number;
  pollerMaxAgeMs: number;
}) {
  const timeoutMs = Math.max(500, Math.min(3000, deps.refreshMs * 2));
  let current: { at: number; value: Readiness } | undefined;
  let first: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function pollersOf(type: number): Promise<number> {
    const answer = await deps.temporal.workflowService.describeTaskQueue({
      namespace: deps.namespace,
      taskQueue: { name: deps.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: type,
    });
    const now = Date.now();
    return (answer.pollers ?? []).filter((p) => {
      const seconds = Number(p.lastAccessTime?.seconds ?? 0);
      return now - seconds * 1000 <= deps.pollerMaxAgeMs;
    }).length;
  }

  async function measure(): Promise<Readiness> {
    let workerError = 'Temporal does not answer';
    const [postgres, temporalCheck] = await Promise.all([
      check(() => (deps.pingDatabase ? deps.pingDatabase() : sql`SELECT 1`.execute(deps.db)), timeoutMs),
      check(async () => {
        const [workflowPollers, activityPollers] = await Promise.all([
          pollersOf(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
          pollersOf(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
        ]);
        workerError =
          workflowPollers > 0 && activityPollers > 0
            ? ''
            : `no worker polls task queue ${deps.taskQueue} (workflow pollers ${workflowPollers}, activity pollers ${activityPollers})`;
      }, timeoutMs),
    ]);
    const worker: Check = temporalCheck.ok && !workerError ? { ok: true } : { ok: false, error: workerError };
    return { ready: postgres.ok && temporalCheck.ok && worker.ok, checks: { postgres, temporal: temporalCheck, worker } };
  }

  async function refresh(): Promise<void> {
    const value = await measure();
    current = { at: Date.now(), value };
    if (!stopped) timer = setTimeout(() => void refresh(), deps.refreshMs);
  }

  return {
    /** The latest measure; the first call waits for the first one. A measure gone stale (the loop stuck) is not ready. */
    async get(): Promise<Readiness> {
      first ??= refresh();
      if (!current) await first;
      const value = current!.value;
      if (Date.now() - current!.at > deps.refreshMs * 3 + timeoutMs) {
        return { ready: false, checks: { ...value.checks, postgres: { ok: false, error: 'readiness not measured recently' } } };
      }
      return value;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
