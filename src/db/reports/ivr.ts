import { sql, type Kysely } from 'kysely';
import { normalizePhone } from '../../domain/phone';
import { agentNameSql } from '../agents';
import { AGENT_TRANSFER } from '../ivr-calls';
import type { Database } from '../schema';
import { microsCursor, pageOf, type ReportSource } from './source';

/** Relatório IVR: one row per call that entered a flow, paged by (entered at, call). */
export const ivrCallsSource: ReportSource = async (db, { tenantId, filters: f }, cursor, limit) => {
  let q = db
    .selectFrom('ivr_calls as c')
    .innerJoin('dialer_campaigns as dc', 'dc.id', 'c.campaign_id')
    .innerJoin('ivr_flows as fl', 'fl.id', 'c.flow_id')
    .leftJoin('contacts as ct', 'ct.id', 'c.contact_id')
    // A transfer to a campaign agent names who took the call (the attempt records the agent).
    .leftJoin('dial_attempts as da', 'da.attempt_key', 'c.attempt_key')
    .leftJoin('agents as ag', 'ag.id', 'da.agent_id')
    .leftJoin('users as au', 'au.id', 'ag.user_id')
    .select([
      'c.attempt_key',
      'c.entered_at',
      'c.ended_at',
      'dc.name as campaign',
      'c.campaign_id',
      'c.contact_id',
      'ct.name as contact',
      'c.phone',
      'fl.name as flow',
      'c.flow_id',
      'c.flow_version',
      'c.keys',
      'c.current_node',
      'c.disposition',
      'c.opted_out',
      sql<string | null>`CASE WHEN c.transferred_to = ${AGENT_TRANSFER} AND au.id IS NOT NULL
        THEN c.transferred_to || ': ' || ${agentNameSql('au')} ELSE c.transferred_to END`.as('transferred_to'),
      sql<string | null>`(SELECT string_agg(s.node, ' > ' ORDER BY s.seq) FROM ivr_path_steps s WHERE s.attempt_key = c.attempt_key)`.as('path'),
      sql<string | null>`(SELECT s.exit FROM ivr_path_steps s WHERE s.attempt_key = c.attempt_key ORDER BY s.seq DESC LIMIT 1)`.as('last_exit'),
      microsCursor('c.entered_at').as('cursor_at'),
    ])
    .where('c.tenant_id', '=', tenantId);
  if (f.campaignId) q = q.where('c.campaign_id', '=', f.campaignId);
  if (f.flowId) q = q.where('c.flow_id', '=', f.flowId);
  if (f.from) q = q.where('c.entered_at', '>=', new Date(f.from));
  if (f.to) q = q.where('c.entered_at', '<', new Date(f.to));
  if (f.phone) {
    const digits = normalizePhone(f.phone);
    // With or without the country code, as the calls were dialled.
    q = q.where('c.phone', 'in', [...new Set([digits, `55${digits}`, digits.replace(/^55(?=\d{10,11}$)/, '')])]);
  }
  if (cursor) {
    const [at, key] = JSON.parse(cursor) as [string, string];
    q = q.where(sql<boolean>`(c.entered_at, c.attempt_key) > (${at}::timestamptz, ${key})`);
  }
  const rows = await q.orderBy('c.entered_at').orderBy('c.attempt_key').limit(limit).execute();
  return pageOf(
    rows,
    limit,
    (r) => JSON.stringify([r.cursor_at, r.attempt_key]),
    (r) => [
      r.entered_at,
      r.campaign,
      r.campaign_id,
      r.contact_id,
      r.contact,
      r.phone,
      r.flow,
      r.flow_id,
      r.flow_version,
      r.path,
      r.keys,
      r.current_node,
      r.ended_at ? (r.last_exit ?? '') : 'em_andamento',
      r.disposition,
      r.opted_out ? 'sim' : 'nao',
      r.transferred_to,
      r.ended_at ? new Date(r.ended_at).getTime() - new Date(r.entered_at).getTime() : null,
      r.attempt_key,
    ],
  );
};

export interface IvrNodeSummary {
  flowId: string;
  flowName: string;
  node: string;
  entered: number;
  /** Left by a key: the entry (keys) that decided it → how many. */
  byKey: Record<string, number>;
  timeouts: number;
  invalid: number;
  hangups: number;
  /** Left otherwise: next (prompt ended), ended (a hangup node), transferred, no_agent, max_visits. */
  other: Record<string, number>;
  /** Calls in the node now. */
  inNode: number;
}

/** Relatório IVR por nó: for each flow node, calls that entered it and how they left. */
export async function ivrNodeSummary(
  db: Kysely<Database>,
  tenantId: string,
  f: { from?: string; to?: string; campaignId?: string; flowId?: string },
): Promise<IvrNodeSummary[]> {
  const where = sql`c.tenant_id = ${tenantId}
    ${f.campaignId ? sql`AND c.campaign_id = ${f.campaignId}` : sql``}
    ${f.flowId ? sql`AND c.flow_id = ${f.flowId}` : sql``}
    ${f.from ? sql`AND c.entered_at >= ${new Date(f.from)}` : sql``}
    ${f.to ? sql`AND c.entered_at < ${new Date(f.to)}` : sql``}`;
  const { rows } = await sql<{
    flow_id: string;
    flow_name: string;
    node: string;
    exit: string | null;
    entry: string;
    ended: boolean;
    n: number;
    first_seq: number;
  }>`
    SELECT c.flow_id, fl.name AS flow_name, s.node, s.exit, CASE WHEN s.exit = 'key' THEN s.entry ELSE '' END AS entry,
      (c.ended_at IS NOT NULL) AS ended, count(*)::int AS n, min(s.seq)::int AS first_seq
    FROM ivr_calls c
    JOIN ivr_flows fl ON fl.id = c.flow_id
    JOIN ivr_path_steps s ON s.attempt_key = c.attempt_key
    WHERE ${where}
    GROUP BY 1, 2, 3, 4, 5, 6`.execute(db);
  const nodes = new Map<string, IvrNodeSummary & { order: number }>();
  for (const r of rows) {
    const id = `${r.flow_id}\u0000${r.node}`;
    let s = nodes.get(id);
    if (!s) {
      s = {
        flowId: r.flow_id,
        flowName: r.flow_name,
        node: r.node,
        entered: 0,
        byKey: {},
        timeouts: 0,
        invalid: 0,
        hangups: 0,
        other: {},
        inNode: 0,
        order: r.first_seq,
      };
      nodes.set(id, s);
    }
    s.order = Math.min(s.order, r.first_seq);
    s.entered += r.n;
    if (r.exit === 'key') s.byKey[r.entry] = (s.byKey[r.entry] ?? 0) + r.n;
    else if (r.exit === 'timeout') s.timeouts += r.n;
    else if (r.exit === 'invalid') s.invalid += r.n;
    else if (r.exit === 'hangup') s.hangups += r.n;
    else if (r.exit === null) {
      // Never left: still there, or the call ended without a recorded exit (a transfer in progress when the row was read).
      if (r.ended) s.other.unknown = (s.other.unknown ?? 0) + r.n;
      else s.inNode += r.n;
    } else s.other[r.exit] = (s.other[r.exit] ?? 0) + r.n;
  }
  return [...nodes.values()]
    .sort((a, b) => a.flowName.localeCompare(b.flowName) || a.flowId.localeCompare(b.flowId) || a.order - b.order || a.node.localeCompare(b.node))
    .map(({ order: _order, ...s }) => s);
}
