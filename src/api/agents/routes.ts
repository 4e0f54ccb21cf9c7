import { sql } from 'kysely';
import { z } from 'zod';
import { createUser } from '../../db/accounts';
import { changeAgentState, createAgent, settleWrapUps } from '../../db/agents';
import type { Database } from '../../db/schema';
import { commandFor, REQUESTABLE_STATES, type AgentActorKind, type RequestableState } from '../../domain/dialer/agent-state';
import { textKey } from '../../domain/text-key';
import { audit } from '../audit';
import { hasRole } from '../auth';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { conflict, notFound, ProblemError, unprocessable } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';
import type { Kysely } from 'kysely';
import type { FastifyRequest } from 'fastify';
import { agentInputSchema, agentQuerySchema, agentSchema, agentStateInputSchema } from './schemas';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type AgentView = z.infer<typeof agentSchema>;

function agentsQuery(db: Kysely<Database>, tenantId: string) {
  return db
    .selectFrom('agents')
    .innerJoin('users', 'users.id', 'agents.user_id')
    .innerJoin('agent_states as s', 's.agent_id', 'agents.id')
    .leftJoin('agent_pause_reasons as pr', 'pr.id', 's.pause_reason_id')
    .select([
      'agents.id',
      'agents.user_id',
      'agents.sip_endpoint',
      'agents.created_at',
      'users.name',
      'users.email',
      's.state',
      's.since',
      's.pause_reason_id',
      'pr.name as pause_reason_name',
      's.call_key',
      's.campaign_id',
      's.wrap_up_until',
      sql<string[]>`ARRAY(SELECT campaign_id::text FROM dialer_campaign_agents ca WHERE ca.agent_id = agents.id ORDER BY campaign_id)`.as('campaign_ids'),
    ])
    .where('agents.tenant_id', '=', tenantId);
}

type AgentQueryRow = Awaited<ReturnType<ReturnType<typeof agentsQuery>['executeTakeFirstOrThrow']>>;

const toApi = (r: AgentQueryRow): AgentView => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  email: r.email,
  sipEndpoint: r.sip_endpoint,
  state: r.state,
  since: new Date(r.since).toISOString(),
  pauseReason: r.pause_reason_id ? { id: r.pause_reason_id, name: r.pause_reason_name ?? '' } : null,
  callKey: r.call_key,
  campaignId: r.campaign_id,
  wrapUpUntil: iso(r.wrap_up_until),
  campaignIds: r.campaign_ids,
  createdAt: new Date(r.created_at).toISOString(),
});

/** The tenant's pause reason named by id or by name; 422 when the tenant has no such reason. */
async function findPauseReason(db: Kysely<Database>, tenantId: string, given: string): Promise<string> {
  let q = db.selectFrom('agent_pause_reasons').select('id').where('tenant_id', '=', tenantId);
  q = UUID.test(given) ? q.where((eb) => eb.or([eb('id', '=', given), eb('name_key', '=', textKey(given))])) : q.where('name_key', '=', textKey(given));
  const row = await q.executeTakeFirst();
  if (!row) throw unprocessable('PAUSE_REASON_UNKNOWN', `The tenant has no pause reason "${given}"; see GET /v1/dialer/pause-reasons.`);
  return row.id;
}

/**
 * Agents (Agentes) of the dialer: supervisors create them and see them live; an agent changes
 * their own state (log in, ready, pause, log out), a supervisor may force a pause or a log-out.
 * `on_call` and `wrap_up` are set by the dialer through the same state table.
 */
export const agentRoutes: RoutePlugin = (app, { db }) => {
  const findView = async (tenantId: string, where: { id?: string; userId?: string }) => {
    let q = agentsQuery(db, tenantId);
    if (where.id) q = q.where('agents.id', '=', where.id);
    if (where.userId) q = q.where('agents.user_id', '=', where.userId);
    return q.executeTakeFirst();
  };
  const find = async (tenantId: string, id: string) => {
    await settleWrapUps(db, { agentIds: [id] });
    const row = await findView(tenantId, { id });
    if (!row) throw notFound('agent', id);
    return row;
  };
  const findMine = async (request: FastifyRequest) => {
    const mine = await findView(request.auth.tenantId, { userId: request.auth.userId });
    if (!mine) throw new ProblemError(404, 'AGENT_NOT_FOUND', 'Your user is not an agent: a supervisor creates agents with POST /v1/agents.');
    return find(request.auth.tenantId, mine.id);
  };

  const changeState = async (request: FastifyRequest, agent: AgentQueryRow, body: { state: RequestableState; pauseReason?: string }) => {
    const self = agent.user_id === request.auth.userId;
    if (!self && !hasRole(request.auth, 'supervisor')) {
      throw new ProblemError(403, 'AGENT_NOT_SELF', 'An agent changes only their own state; supervisors may force a pause or a log-out.');
    }
    const by: AgentActorKind = self ? 'agent' : 'supervisor';
    if (body.pauseReason !== undefined && body.state !== 'paused') {
      throw unprocessable('PAUSE_REASON_NOT_EXPECTED', 'A pause reason goes only with the state `paused`.');
    }
    const pauseReasonId = body.pauseReason === undefined ? undefined : await findPauseReason(db, request.auth.tenantId, body.pauseReason);
    const command = commandFor(agent.state, body.state);
    const result = await changeAgentState(db, {
      tenantId: request.auth.tenantId,
      agentId: agent.id,
      command,
      by,
      actorUserId: request.auth.userId,
      pauseReasonId,
    });
    if (!result) throw notFound('agent', agent.id);
    const { decision } = result;
    if (!decision.ok) throw new ProblemError(decision.status, decision.code, decision.message, { state: result.state.state });
    if (decision.changed && by === 'supervisor') {
      await audit(db, request, {
        action: command === 'pause' ? 'agent.force_pause' : 'agent.force_log_out',
        targetType: 'agent',
        targetId: agent.id,
        summary: `Agente ${agent.name} ${command === 'pause' ? 'pausado' : 'deslogado'} pelo supervisor`,
        details: { from: agent.state, to: decision.next.state, pauseReasonId },
      });
    }
    return toApi((await findView(request.auth.tenantId, { id: agent.id }))!);
  };

  app.get(
    '/agents',
    {
      schema: {
        tags: ['dialer'],
        summary: "The tenant's agents with their live state (oldest first)",
        querystring: pageQuerySchema.extend(agentQuerySchema.shape),
        response: { 200: pageSchema(agentSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, state, campaignId } = request.query;
      await settleWrapUps(db, { tenantId: request.auth.tenantId });
      let q = agentsQuery(db, request.auth.tenantId);
      if (state) q = q.where('s.state', '=', state);
      if (campaignId)
        q = q.where((eb) =>
          eb.exists(
            eb.selectFrom('dialer_campaign_agents as f').select('f.agent_id').whereRef('f.agent_id', '=', 'agents.id').where('f.campaign_id', '=', campaignId),
          ),
        );
      const rows = await keysetPage(q, {
        sort: { column: 'agents.created_at', direction: 'asc', timestamp: true },
        idColumn: 'agents.id',
        limit,
        cursor,
      }).execute();
      return toPage(rows, limit, (r) => [dateCursor(r.created_at), r.id], toApi);
    },
  );

  app.post(
    '/agents',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Create an agent: an existing user of role agent, or a new one (name, email), with their SIP endpoint; starts offline',
        body: agentInputSchema,
        response: { 201: agentSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { sipEndpoint, userId, name, email } = request.body;
      const tenantId = request.auth.tenantId;
      const agent = await db
        .transaction()
        .execute(async (trx) => {
          let user: { id: string; name: string; role: string };
          if (userId) {
            const found = await trx
              .selectFrom('users')
              .select(['id', 'name', 'role'])
              .where('id', '=', userId)
              .where('tenant_id', '=', tenantId)
              .executeTakeFirst();
            if (!found) throw notFound('user', userId);
            if (found.role !== 'agent')
              throw unprocessable('USER_NOT_AGENT', `The user ${found.name} has the role ${found.role}; an agent needs a user of role agent.`);
            const already = await trx.selectFrom('agents').select('id').where('user_id', '=', userId).executeTakeFirst();
            if (already) throw conflict('USER_ALREADY_AGENT', `The user ${found.name} is already agent ${already.id}.`, { agentId: already.id });
            user = found;
          } else {
            const taken = await trx
              .selectFrom('users')
              .select('id')
              .where('tenant_id', '=', tenantId)
              .where('email', '=', email!.toLowerCase())
              .executeTakeFirst();
            if (taken)
              throw conflict('USER_EMAIL_TAKEN', `A user with e-mail ${email} already exists; pass its userId if it is an agent.`, { userId: taken.id });
            user = await createUser(trx, { tenantId, name: name!, email: email!, role: 'agent' });
          }
          const created = await createAgent(trx, { tenantId, userId: user.id, sipEndpoint, createdBy: request.auth.userId });
          await audit(trx, request, {
            action: 'agent.create',
            targetType: 'agent',
            targetId: created.id,
            summary: `Agente ${user.name} (${sipEndpoint}) criado`,
            details: { userId: user.id, sipEndpoint },
          });
          return created;
        })
        .catch((error) => {
          if (!isUniqueViolation(error)) throw error;
          // A concurrent request took the same endpoint, user or e-mail between the checks and the insert.
          const constraint = String((error as { constraint?: string }).constraint ?? '');
          if (constraint.includes('sip_endpoint')) throw conflict('SIP_ENDPOINT_TAKEN', `Another agent of the tenant already uses ${sipEndpoint}.`);
          if (constraint.includes('user_id')) throw conflict('USER_ALREADY_AGENT', 'The user is already an agent.');
          throw conflict('USER_EMAIL_TAKEN', `A user with e-mail ${email} already exists.`);
        });
      const view = (await findView(tenantId, { id: agent.id }))!;
      return reply.code(201).header('location', `/v1/agents/${agent.id}`).send(toApi(view));
    },
  );

  app.get(
    '/agents/me',
    {
      config: { minRole: 'agent' },
      schema: { tags: ['dialer'], summary: 'The agent of the API key in use, with their live state', response: { 200: agentSchema, ...errorResponses } },
    },
    async (request) => toApi(await findMine(request)),
  );

  app.post(
    '/agents/me/state',
    {
      config: { minRole: 'agent' },
      schema: {
        tags: ['dialer'],
        summary: `Change your own state (${REQUESTABLE_STATES.join(', ')}); 409 on an impossible change (e.g. AGENT_ON_CALL), 422 on an unknown pause reason`,
        body: agentStateInputSchema,
        response: { 200: agentSchema, ...errorResponses },
      },
    },
    async (request) => changeState(request, await findMine(request), request.body),
  );

  app.get(
    '/agents/:id',
    {
      schema: {
        tags: ['dialer'],
        summary: 'An agent with their live state',
        params: z.object({ id: z.uuid() }),
        response: { 200: agentSchema, ...errorResponses },
      },
    },
    async (request) => toApi(await find(request.auth.tenantId, request.params.id)),
  );

  app.post(
    '/agents/:id/state',
    {
      config: { minRole: 'agent' },
      schema: {
        tags: ['dialer'],
        summary:
          "Change an agent's state: the agent themself, or a supervisor forcing a pause or a log-out (403 AGENT_NOT_SELF / AGENT_COMMAND_NOT_ALLOWED otherwise)",
        params: z.object({ id: z.uuid() }),
        body: agentStateInputSchema,
        response: { 200: agentSchema, ...errorResponses },
      },
    },
    async (request) => changeState(request, await find(request.auth.tenantId, request.params.id), request.body),
  );
};
