import type { LightMyRequestResponse as InjectResponse } from 'fastify';
import { AriEventRecorder } from '../../src/recorder/event-recorder';
import type { SimConfigPatch } from '../../src/simulators/ari/config';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { bearer, createTestStack, type TestStack, type TestTenant } from './app';
import { startWorkerProcess, waitFor, type WorkerProcess } from './worker-process';

/**
 * The stack of the SIGKILL tests: campaigns run only on child worker processes that the test
 * kills (no shutdown, as when a machine dies) and replaces; an always-on ARI event recorder (as
 * `npm start` runs one) journals what happened while no worker listened; lanes are declared dead
 * after 2 s without a heartbeat.
 */
export interface CrashStack {
  stack: TestStack;
  tenant: TestTenant;
  sim: AriSimulator;
  /** The API as the tenant's supervisor. */
  api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown): Promise<InjectResponse>;
  /** A new worker process dialing through the simulator. */
  spawnWorker(): Promise<WorkerProcess>;
  /**
   * `times` times: waits until `ready` answers something (what the test wants in flight), then
   * SIGKILLs the current worker and starts another. Answers what `ready` saw at each kill.
   */
  killRepeatedly<T>(
    worker: WorkerProcess,
    times: number,
    ready: (kill: number) => Promise<T | undefined | false>,
  ): Promise<{ worker: WorkerProcess; seen: T[] }>;
  close(): Promise<void>;
}

export async function startCrashStack(name: string, tenantName: string, simConfig: SimConfigPatch): Promise<CrashStack> {
  const stack = await createTestStack({ name, env: { DIALER_LANE_HEARTBEAT_TIMEOUT_MS: '2000' } });
  const tenant = await stack.createTenant(tenantName);
  const sim = await startAriSimulator({ config: simConfig });
  const recorder = new AriEventRecorder({ db: stack.database.db, ari: { url: sim.url, username: 'omni', password: 'omni', app: name } });
  await recorder.start();
  const workers: WorkerProcess[] = [];
  const spawnWorker = async () => {
    const w = await startWorkerProcess({
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      schema: stack.database.schema,
      env: { ARI_URL: sim.url, ARI_APP: name },
    });
    workers.push(w);
    return w;
  };
  return {
    stack,
    tenant,
    sim,
    api: (method, url, payload) =>
      stack.app.inject({ method, url, headers: bearer(tenant.supervisorKey), ...(payload !== undefined ? { payload: payload as object } : {}) }),
    spawnWorker,
    async killRepeatedly(worker, times, ready) {
      const seen = [];
      let current = worker;
      for (let kill = 0; kill < times; kill++) {
        seen.push(await waitFor(() => ready(kill), `what is wanted in flight before kill ${kill + 1}`));
        await current.kill();
        current = await spawnWorker();
      }
      return { worker: current, seen };
    },
    close: async () => {
      for (const w of workers) await w.kill();
      await recorder.stop();
      await sim.stop();
      await stack.close();
    },
  };
}
