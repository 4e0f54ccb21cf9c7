import { sql } from 'kysely';
import { agentFigures, pauseTimesText, stateTimesText } from './agent-figures';
import { microsCursor, pageOf, singlePage, type ReportSource } from './source';

/** Relatório de Atividade: the audit log of the period, in id (= time) order. */
export const activitySource: ReportSource = async (db, { tenantId, filters: f }, cursor, limit) => {
  let q = db
    .selectFrom('audit_log')
    .leftJoin('users', 'users.id', 'audit_log.actor_user_id')
    .select([
      'audit_log.id',
      'audit_log.created_at',
      'users.name as user_name',
      'audit_log.actor_key_id',
      'audit_log.action',
      'audit_log.target_type',
      'audit_log.target_id',
      'audit_log.summary',
      'audit_log.request_id',
    ])
    .where('audit_log.tenant_id', '=', tenantId)
    .where('audit_log.id', '>', Number(cursor ?? 0));
  if (f.from) q = q.where('audit_log.created_at', '>=', new Date(f.from));
  if (f.to) q = q.where('audit_log.created_at', '<', new Date(f.to));
  const rows = await q.orderBy('audit_log.id').limit(limit).execute();
  return pageOf(
    rows,
    limit,
    (r) => String(r.id),
    (r) => [r.created_at, r.user_name, r.actor_key_id, r.action, r.target_type, r.target_id, r.summary, r.request_id],
  );
};

/** Histórico Importação: imports oldest first; `groupKind` narrows to dialer or broadcast groups. */
export const importHistorySource =
  (groupKind?: 'dialer' | 'broadcast'): ReportSource =>
  async (db, { tenantId, filters: f }, cursor, limit) => {
    let q = db
      .selectFrom('imports')
      .leftJoin('users', 'users.id', 'imports.created_by')
      .leftJoin('contact_groups', 'contact_groups.id', 'imports.group_id')
      .selectAll('imports')
      .select([
        'users.name as user_name',
        'contact_groups.name as group_name',
        'contact_groups.kind as group_kind',
        microsCursor('imports.created_at').as('cursor_at'),
      ])
      .where('imports.tenant_id', '=', tenantId);
    const kind = groupKind ?? (f.groupKind as 'dialer' | 'broadcast' | undefined);
    if (kind) q = q.where('contact_groups.kind', '=', kind);
    if (f.target) q = q.where('imports.target', '=', f.target as 'contact_group' | 'company_contacts');
    if (f.from) q = q.where('imports.created_at', '>=', new Date(f.from));
    if (f.to) q = q.where('imports.created_at', '<', new Date(f.to));
    if (cursor) {
      const [at, id] = JSON.parse(cursor) as [string, string];
      q = q.where(sql<boolean>`(imports.created_at, imports.id) > (${at}::timestamptz, ${id}::uuid)`);
    }
    const rows = await q.orderBy('imports.created_at').orderBy('imports.id').limit(limit).execute();
    return pageOf(
      rows,
      limit,
      (r) => JSON.stringify([r.cursor_at, r.id]),
      (r) => [
        r.id,
        r.group_name ?? 'Contatos Omni',
        r.group_kind ?? 'company',
        r.file_name,
        r.user_name,
        r.started_at,
        r.finished_at,
        r.started_at && r.finished_at ? new Date(r.finished_at).getTime() - new Date(r.started_at).getTime() : null,
        r.status,
        r.rows_read,
        r.rows_imported,
        r.rows_rejected,
        r.error,
      ],
    );
  };

/**
 * Relatório de Usuários: every user with their keys, then every agent with their numbers in the
 * period — time logged in, per state and per pause reason (their state events), calls handled,
 * talk time and average handle time (the call ledger). Voice interactions handled by an agent id
 * the tenant has no agent for (written by other sources) keep their own row. Abandoned calls
 * while logged in: those of the agent's campaigns that ended `abandoned` while the agent was not offline.
 */
export const usersSource: ReportSource = singlePage(async (db, { tenantId, filters: f }) => {
  const users = await sql<{ id: string; name: string; email: string; role: string; created_at: Date; last_used: Date | null; active_keys: number }>`
    SELECT u.id, u.name, u.email, u.role, u.created_at,
           max(k.last_used_at) AS last_used,
           count(k.id) FILTER (WHERE k.revoked_at IS NULL)::int AS active_keys
    FROM users u LEFT JOIN api_keys k ON k.user_id = u.id
    WHERE u.tenant_id = ${tenantId}
    GROUP BY u.id ORDER BY u.name, u.id`.execute(db);
  const agents = await agentFigures(db, tenantId, { from: f.from, to: f.to });
  const known = agents.map((a) => a.agentId);
  const others = await sql<{ agent: string; calls: number; talk_ms: number | null; handle_ms: number | null; first_at: Date; last_at: Date }>`
    SELECT handled_by_id AS agent, count(*)::int AS calls,
           sum((details ->> 'talkMs')::bigint)::float8 AS talk_ms,
           avg(extract(epoch FROM ended_at - started_at) * 1000)::float8 AS handle_ms,
           min(started_at) AS first_at, max(COALESCE(ended_at, started_at)) AS last_at
    FROM interactions
    WHERE tenant_id = ${tenantId} AND handled_by_kind = 'agent' AND channel = 'voice'
      AND NOT (COALESCE(handled_by_id, '') = ANY(${known}::text[]))
      ${f.from ? sql`AND started_at >= ${new Date(f.from)}` : sql``} ${f.to ? sql`AND started_at < ${new Date(f.to)}` : sql``}
    GROUP BY handled_by_id ORDER BY handled_by_id`.execute(db);
  return [
    ...users.rows.map((u) => [
      'usuario',
      u.id,
      u.name,
      u.email,
      u.role,
      u.active_keys > 0 ? 'ativo' : 'inativo',
      u.created_at,
      u.last_used,
      u.active_keys,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]),
    ...agents.map((a) => [
      'agente',
      a.agentId,
      a.name,
      a.email,
      'agent',
      null,
      a.createdAt,
      a.lastEventAt,
      null,
      a.loggedInMs,
      stateTimesText(a),
      pauseTimesText(a),
      a.callsHandled,
      a.talkMs,
      a.averageHandleMs,
      a.abandonedWhileLoggedIn,
    ]),
    ...others.rows.map((a) => ['agente', a.agent, null, null, 'agent', null, null, a.last_at, null, null, null, null, a.calls, a.talk_ms, a.handle_ms, null]),
  ];
});
