import { sql } from 'kysely';
import { z } from 'zod';
import type { RoutePlugin } from '../types';

const checkSchema = z.object({ ok: z.boolean(), error: z.string().optional() });
const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({ postgres: checkSchema, temporal: checkSchema }),
});

async function check(fn: () => Promise<unknown>, timeoutMs = 3000): Promise<z.infer<typeof checkSchema>> {
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

/** /health: the process is alive. /ready: PostgreSQL and Temporal answer (for load balancers). */
export const healthRoutes: RoutePlugin = (app, deps) => {
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
        summary: 'PostgreSQL and Temporal are reachable',
        response: { 200: readySchema, 503: readySchema },
      },
    },
    async (_request, reply) => {
      const [postgres, temporal] = await Promise.all([
        check(() => (deps.pingDatabase ? deps.pingDatabase() : sql`SELECT 1`.execute(deps.db))),
        check(() =>
          deps.temporal.workflowService.describeNamespace({ namespace: deps.config.TEMPORAL_NAMESPACE }),
        ),
      ]);
      const ok = postgres.ok && temporal.ok;
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks: { postgres, temporal } });
    },
  );
};
