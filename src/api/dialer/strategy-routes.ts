import { sql } from 'kysely';
import { z } from 'zod';
import { checkStrategy, ivrFlowOf, type StrategyConfig } from '../../domain/dialer/strategy';
import { textKey } from '../../domain/text-key';
import type { DialStrategyRow } from '../../db/schema';
import { audit } from '../audit';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { conflict, notFound, unprocessable } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';
import { idParams, strategyInputSchema, strategySchema } from './schemas';

const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';
const isForeignKeyViolation = (error: unknown) => (error as { code?: string })?.code === '23503';

function refuseInvalid(config: StrategyConfig, telemarketing: boolean): void {
  const problem = checkStrategy(config, telemarketing);
  if (problem) throw unprocessable(problem.code, problem.message);
}

/** Dialing strategies (Estratégia de Discagem): versioned; a running campaign picks edits up within a minute. */
export const dialStrategyRoutes: RoutePlugin = (app, { db }) => {
  /** An answered call's IVR flow must be one of the tenant's. */
  const refuseUnknownFlow = async (tenantId: string, config: StrategyConfig) => {
    const flowId = ivrFlowOf(config);
    if (!flowId) return;
    const flow = await db.selectFrom('ivr_flows').select('id').where('id', '=', flowId).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!flow) throw unprocessable('IVR_FLOW_UNKNOWN', `answeredCall.ivrFlowId: no IVR flow with id ${flowId} in this tenant.`);
  };
  const usedBy = async (ids: string[]) => {
    if (!ids.length) return new Map<string, { id: string; name: string; status: string }[]>();
    const rows = await db
      .selectFrom('dialer_campaigns')
      .select(['id', 'name', 'status', 'strategy_id'])
      .where('strategy_id', 'in', ids)
      .where('status', 'not in', ['completed', 'stopped'])
      .execute();
    const map = new Map<string, { id: string; name: string; status: string }[]>();
    for (const r of rows) map.set(r.strategy_id, [...(map.get(r.strategy_id) ?? []), { id: r.id, name: r.name, status: r.status }]);
    return map;
  };
  const toApi = (row: DialStrategyRow, users: { id: string; name: string; status: string }[] = []) => ({
    id: row.id,
    name: row.name,
    telemarketing: row.telemarketing,
    version: row.version,
    config: row.config as Record<string, unknown>,
    usedBy: users,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  });
  const find = async (tenantId: string, id: string) => {
    const row = await db.selectFrom('dial_strategies').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) throw notFound('dial strategy', id);
    return row;
  };
  const nameTaken = (name: string) => conflict('STRATEGY_NAME_TAKEN', `A strategy named "${name}" already exists.`);

  app.post(
    '/dialer/strategies',
    { schema: { tags: ['dialer'], summary: 'Create a dialing strategy', body: strategyInputSchema, response: { 201: strategySchema, ...errorResponses } } },
    async (request, reply) => {
      const { name, telemarketing, config } = request.body;
      refuseInvalid(config, telemarketing);
      await refuseUnknownFlow(request.auth.tenantId, config);
      try {
        const row = await db.transaction().execute(async (trx) => {
          const created = await trx
            .insertInto('dial_strategies')
            .values({
              tenant_id: request.auth.tenantId,
              name,
              name_key: textKey(name),
              telemarketing,
              config: JSON.stringify(config),
              created_by: request.auth.userId,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(trx, request, {
            action: 'dial_strategy.create',
            targetType: 'dial_strategy',
            targetId: created.id,
            summary: `Estratégia "${name}" criada`,
          });
          return created;
        });
        return reply.code(201).header('location', `/v1/dialer/strategies/${row.id}`).send(toApi(row));
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(name);
        throw error;
      }
    },
  );

  app.get(
    '/dialer/strategies',
    {
      schema: {
        tags: ['dialer'],
        summary: 'List dialing strategies',
        querystring: pageQuerySchema,
        response: { 200: pageSchema(strategySchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const query = db.selectFrom('dial_strategies').selectAll().where('tenant_id', '=', request.auth.tenantId);
      const rows = await keysetPage(query, { sort: { column: 'created_at', direction: 'desc', timestamp: true }, idColumn: 'id', limit, cursor }).execute();
      const users = await usedBy(rows.map((r) => r.id));
      return toPage(
        rows,
        limit,
        (r) => [dateCursor(r.created_at), r.id],
        (r) => toApi(r, users.get(r.id)),
      );
    },
  );

  app.get(
    '/dialer/strategies/:id',
    { schema: { tags: ['dialer'], summary: 'A dialing strategy', params: idParams, response: { 200: strategySchema, ...errorResponses } } },
    async (request) => {
      const row = await find(request.auth.tenantId, request.params.id);
      return toApi(row, (await usedBy([row.id])).get(row.id));
    },
  );

  app.put(
    '/dialer/strategies/:id',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Replace a dialing strategy (bumps its version; running campaigns apply it within a minute)',
        params: idParams,
        body: strategyInputSchema,
        response: { 200: strategySchema, ...errorResponses },
      },
    },
    async (request) => {
      const { name, telemarketing, config } = request.body;
      refuseInvalid(config, telemarketing);
      await find(request.auth.tenantId, request.params.id);
      await refuseUnknownFlow(request.auth.tenantId, config);
      try {
        const row = await db.transaction().execute(async (trx) => {
          const updated = await trx
            .updateTable('dial_strategies')
            .set({ name, name_key: textKey(name), telemarketing, config: JSON.stringify(config), version: sql`version + 1`, updated_at: sql`now()` })
            .where('id', '=', request.params.id)
            .where('tenant_id', '=', request.auth.tenantId)
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(trx, request, {
            action: 'dial_strategy.update',
            targetType: 'dial_strategy',
            targetId: updated.id,
            summary: `Estratégia "${name}" alterada (versão ${updated.version})`,
          });
          return updated;
        });
        return toApi(row, (await usedBy([row.id])).get(row.id));
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(name);
        throw error;
      }
    },
  );

  app.delete(
    '/dialer/strategies/:id',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Delete a dialing strategy (refused while a campaign uses it)',
        params: idParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await find(request.auth.tenantId, request.params.id);
      const users = (await usedBy([row.id])).get(row.id) ?? [];
      if (users.length) {
        throw conflict(
          'STRATEGY_IN_USE',
          `The strategy is used by ${users.length} campaign(s) not yet finished, e.g. "${users[0].name}" (${users[0].status}).`,
          { campaigns: users },
        );
      }
      try {
        await db.transaction().execute(async (trx) => {
          await trx.deleteFrom('dial_strategies').where('id', '=', row.id).execute();
          await audit(trx, request, {
            action: 'dial_strategy.delete',
            targetType: 'dial_strategy',
            targetId: row.id,
            summary: `Estratégia "${row.name}" excluída`,
          });
        });
      } catch (error) {
        if (isForeignKeyViolation(error)) {
          throw conflict('STRATEGY_REFERENCED', 'Finished campaigns still refer to this strategy (their reports need it); it cannot be deleted.');
        }
        throw error;
      }
      return reply.code(204).send(null);
    },
  );
};
