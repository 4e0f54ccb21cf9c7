import { sql } from 'kysely';
import { z } from 'zod';
import { flowVariables, type IvrFlowDefinition, validateFlow } from '../../domain/dialer/ivr-flow';
import { textKey } from '../../domain/text-key';
import type { IvrFlowRow } from '../../db/ivr-schema';
import { audit } from '../audit';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { conflict, notFound, ProblemError, unprocessable } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';
import { ivrFlowInputSchema, ivrFlowSchema, ivrFlowVersionQuerySchema } from './ivr-flow-schemas';
import { idParams } from './schemas';

const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';
const isForeignKeyViolation = (error: unknown) => (error as { code?: string })?.code === '23503';

/** 422 naming every problem node, or nothing when the flow may be saved. */
function refuseInvalid(definition: IvrFlowDefinition): void {
  const problems = validateFlow(definition);
  if (problems.length === 0) return;
  const nodes = [...new Set(problems.map((p) => p.node ?? '(flow)'))];
  throw unprocessable('IVR_FLOW_INVALID', `The IVR flow has ${problems.length} problem(s), at: ${nodes.join(', ')}.`, { problems });
}

/** IVR flows (fluxos de URA ativa): versioned; a strategy's answered calls run one. */
export const ivrFlowRoutes: RoutePlugin = (app, { db }) => {
  /** Strategies that refer to each flow (config.answeredCall.ivrFlowId). */
  const usedBy = async (tenantId: string, ids: string[]) => {
    const map = new Map<string, { id: string; name: string }[]>();
    if (!ids.length) return map;
    const rows = await db
      .selectFrom('dial_strategies')
      .select(['id', 'name', sql<string>`config->'answeredCall'->>'ivrFlowId'`.as('flow_id')])
      .where('tenant_id', '=', tenantId)
      .where(sql<string>`config->'answeredCall'->>'ivrFlowId'`, 'in', ids)
      .orderBy('name')
      .execute();
    for (const r of rows) map.set(r.flow_id, [...(map.get(r.flow_id) ?? []), { id: r.id, name: r.name }]);
    return map;
  };
  const toApi = (row: IvrFlowRow, users: { id: string; name: string }[] = [], version?: { version: number; definition: unknown }) => {
    const definition = (version?.definition ?? row.definition) as IvrFlowDefinition;
    return {
      id: row.id,
      name: row.name,
      version: version?.version ?? row.version,
      currentVersion: row.version,
      definition: definition as unknown as Record<string, unknown>,
      variables: flowVariables(definition),
      usedBy: users,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  };
  const find = async (tenantId: string, id: string) => {
    const row = await db.selectFrom('ivr_flows').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) throw notFound('IVR flow', id);
    return row;
  };
  const nameTaken = (name: string) => conflict('IVR_FLOW_NAME_TAKEN', `An IVR flow named "${name}" already exists.`);

  app.post(
    '/dialer/ivr-flows',
    { schema: { tags: ['dialer'], summary: 'Create an IVR flow (URA ativa)', body: ivrFlowInputSchema, response: { 201: ivrFlowSchema, ...errorResponses } } },
    async (request, reply) => {
      const { name, definition } = request.body;
      refuseInvalid(definition);
      try {
        const row = await db.transaction().execute(async (trx) => {
          const created = await trx
            .insertInto('ivr_flows')
            .values({
              tenant_id: request.auth.tenantId,
              name,
              name_key: textKey(name),
              definition: JSON.stringify(definition),
              created_by: request.auth.userId,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await trx
            .insertInto('ivr_flow_versions')
            .values({ flow_id: created.id, version: created.version, definition: JSON.stringify(definition), created_by: request.auth.userId })
            .execute();
          await audit(trx, request, { action: 'ivr_flow.create', targetType: 'ivr_flow', targetId: created.id, summary: `Fluxo de URA "${name}" criado` });
          return created;
        });
        return reply.code(201).header('location', `/v1/dialer/ivr-flows/${row.id}`).send(toApi(row));
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(name);
        throw error;
      }
    },
  );

  app.get(
    '/dialer/ivr-flows',
    { schema: { tags: ['dialer'], summary: 'List IVR flows', querystring: pageQuerySchema, response: { 200: pageSchema(ivrFlowSchema), ...errorResponses } } },
    async (request) => {
      const { limit, cursor } = request.query;
      const query = db.selectFrom('ivr_flows').selectAll().where('tenant_id', '=', request.auth.tenantId);
      const rows = await keysetPage(query, { sort: { column: 'created_at', direction: 'desc', timestamp: true }, idColumn: 'id', limit, cursor }).execute();
      const users = await usedBy(
        request.auth.tenantId,
        rows.map((r) => r.id),
      );
      return toPage(
        rows,
        limit,
        (r) => [dateCursor(r.created_at), r.id],
        (r) => toApi(r, users.get(r.id)),
      );
    },
  );

  app.get(
    '/dialer/ivr-flows/:id',
    {
      schema: {
        tags: ['dialer'],
        summary: 'An IVR flow (the current version, or an earlier one)',
        params: idParams,
        querystring: ivrFlowVersionQuerySchema,
        response: { 200: ivrFlowSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await find(request.auth.tenantId, request.params.id);
      const users = (await usedBy(request.auth.tenantId, [row.id])).get(row.id);
      const wanted = request.query.version;
      if (wanted === undefined || wanted === row.version) return toApi(row, users);
      const version = await db
        .selectFrom('ivr_flow_versions')
        .select(['version', 'definition'])
        .where('flow_id', '=', row.id)
        .where('version', '=', wanted)
        .executeTakeFirst();
      if (!version) throw new ProblemError(404, 'IVR_FLOW_VERSION_NOT_FOUND', `The IVR flow ${row.id} has no version ${wanted} (current: ${row.version}).`);
      return toApi(row, users, version);
    },
  );

  app.put(
    '/dialer/ivr-flows/:id',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Save a new version of an IVR flow (calls already in the flow finish on the version they started)',
        params: idParams,
        body: ivrFlowInputSchema,
        response: { 200: ivrFlowSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { name, definition } = request.body;
      refuseInvalid(definition);
      await find(request.auth.tenantId, request.params.id);
      try {
        const row = await db.transaction().execute(async (trx) => {
          const updated = await trx
            .updateTable('ivr_flows')
            .set({ name, name_key: textKey(name), definition: JSON.stringify(definition), version: sql`version + 1`, updated_at: sql`now()` })
            .where('id', '=', request.params.id)
            .where('tenant_id', '=', request.auth.tenantId)
            .returningAll()
            .executeTakeFirstOrThrow();
          await trx
            .insertInto('ivr_flow_versions')
            .values({ flow_id: updated.id, version: updated.version, definition: JSON.stringify(definition), created_by: request.auth.userId })
            .execute();
          await audit(trx, request, {
            action: 'ivr_flow.update',
            targetType: 'ivr_flow',
            targetId: updated.id,
            summary: `Fluxo de URA "${name}" alterado (versão ${updated.version})`,
          });
          return updated;
        });
        return toApi(row, (await usedBy(request.auth.tenantId, [row.id])).get(row.id));
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(name);
        throw error;
      }
    },
  );

  app.delete(
    '/dialer/ivr-flows/:id',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Delete an IVR flow (refused while a strategy refers to it, or once calls have run it)',
        params: idParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const row = await find(request.auth.tenantId, request.params.id);
      const users = (await usedBy(request.auth.tenantId, [row.id])).get(row.id) ?? [];
      if (users.length) {
        throw conflict('IVR_FLOW_IN_USE', `The IVR flow is used by ${users.length} strategy(ies), e.g. "${users[0]?.name}".`, { strategies: users });
      }
      try {
        await db.transaction().execute(async (trx) => {
          await trx.deleteFrom('ivr_flows').where('id', '=', row.id).execute();
          await audit(trx, request, { action: 'ivr_flow.delete', targetType: 'ivr_flow', targetId: row.id, summary: `Fluxo de URA "${row.name}" excluído` });
        });
      } catch (error) {
        if (isForeignKeyViolation(error))
          throw conflict('IVR_FLOW_REFERENCED', 'Calls have run this IVR flow (the IVR report needs it); it cannot be deleted.');
        throw error;
      }
      return reply.code(204).send(null);
    },
  );
};
