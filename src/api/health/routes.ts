import { z } from 'zod';
import type { RoutePlugin } from '../types';
import { createReadinessProbe } from './readiness';

const checkSchema = z.object({ ok: z.boolean(), error: z.string().optional() });
const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({ postgres: checkSchema, temporal: checkSchema, worker: checkSchema }),
});

/** /health: the process is alive. /ready: PostgreSQL and Temporal answer and a worker polls (for load balancers). */
export const healthRoutes: RoutePlugin = (app, deps) => {
  const probe = createReadinessProbe({
    db: deps.db,
    temporal: deps.temporal,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    pingDatabase: deps.pingDatabase,
    refreshMs: deps.config.READY_REFRESH_MS,
    pollerMaxAgeMs: deps.config.READY_POLLER_MAX_AGE_MS,
  });
  app.addHook('onClose', async () => probe.stop());

  app.get(
    '/health',
    {
      config: { auth: false },
      schema: { tags: ['health'], summary: 'The process is alive', response: { 200: z.object({ status: z.literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      config: { auth: false },
      schema: {
        tags: ['health'],
        summary: 'PostgreSQL and Temporal are reachable and a worker polls the task queue',
        description: `Measured in the background every READY_REFRESH_MS and answered from memory.`,
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const { ready, checks } = await probe.get();
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
};
