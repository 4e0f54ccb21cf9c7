import type { LightMyRequestResponse as InjectResponse } from 'fastify';
import type { SimConfigPatch } from '../../src/simulators/ari/config';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { bearer, createTestStack, type TestStack, type TestTenant } from './app';
import { startTestWorker, type RunningWorker } from './temporal';

export interface DialerTestStack {
  stack: TestStack;
  tenant: TestTenant;
  sim: AriSimulator;
  worker: RunningWorker;
  /** The API as the tenant's supervisor. */
  api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown): Promise<InjectResponse>;
  close(): Promise<void>;
}

/** A test stack with an ARI simulator and a worker that dials through it (default lane tuning). */
export async function startDialerTestStack(
  name: string,
  simConfig: SimConfigPatch,
  wrapActivities?: Parameters<typeof startTestWorker>[2],
): Promise<DialerTestStack> {
  const stack = await createTestStack({ name });
  const tenant = await stack.createTenant(name);
  const sim = await startAriSimulator({ config: simConfig });
  const worker = await startTestWorker(
    stack.config.TEMPORAL_TASK_QUEUE,
    {
      db: stack.database.db,
      pool: stack.database.pool,
      dialer: { ari: { url: sim.url, username: 'omni', password: 'omni', app: name } },
    },
    wrapActivities,
  );
  return {
    stack,
    tenant,
    sim,
    worker,
    api: (method, url, payload) =>
      stack.app.inject({ method, url, headers: bearer(tenant.supervisorKey), ...(payload !== undefined ? { payload: payload as object } : {}) }),
    close: async () => {
      await worker.stop();
      await sim.stop();
      await stack.close();
    },
  };
}
