import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { ActivityDeps, createActivities } from '../../src/activities/index';
import { workerOptions } from '../../src/worker';

export const uniqueTaskQueue = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

export async function connectTestClient(): Promise<Client> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  return new Client({ connection, namespace: 'default' });
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

type Activities = ReturnType<typeof createActivities>;

/**
 * A worker on the shared dev server with the pre-built bundle, on this test's own task queue.
 * `wrapActivities` lets a test hold an activity back, to reach an interleaving on purpose.
 */
export async function startTestWorker(taskQueue: string, deps: ActivityDeps, wrapActivities?: (activities: Activities) => Activities): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const options = workerOptions({ connection, namespace: 'default', taskQueue, deps, workflowBundle: { codePath: inject('workflowBundlePath') } });
  const worker = await Worker.create(
    wrapActivities && options.activities ? { ...options, activities: wrapActivities(options.activities as Activities) } : options,
  );
  const running = worker.run();
  return {
    worker,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
