import { sql, type Kysely } from 'kysely';
import { pauseReasonText, type PauseReason } from '../../domain/dialer/campaign-state';
import { strategyConfigSchema } from '../../domain/dialer/strategy';
import type { Database, DialerCampaignRow } from '../../db/schema';
import { shortCallsToday } from '../../db/short-calls';
import { overShortCallGuard, type ShortCallGuard } from '../../domain/dialer/short-calls';
import { monitorAgents } from './monitor-agents';
import { monitorIvr, type MonitorIvr } from './monitor-ivr';

/** Live numbers of dialer campaigns, computed from PostgreSQL (contacts and attempts). */

export interface Headline {
  contacts: number;
  finished: number;
  attempts: number;
  answered: number;
  answerRate: number | null;
  callsInProgress: number;
}

const emptyHeadline: Headline = { contacts: 0, finished: 0, attempts: 0, answered: 0, answerRate: null, callsInProgress: 0 };

/** The list's headline numbers, for a page of campaigns in two grouped queries. */
export async function headlines(db: Kysely<Database>, campaigns: DialerCampaignRow[]): Promise<Map<string, Headline>> {
  const ids = campaigns.map((c) => c.id);
  const map = new Map<string, Headline>();
  if (!ids.length) return map;
  const contacts = await db
    .selectFrom('dialer_contacts')
    .select([
      'campaign_id',
      sql<number>`count(*)::int`.as('total'),
      sql<number>`count(*) FILTER (WHERE state IN ('done', 'blocked', 'exhausted'))::int`.as('finished'),
    ])
    .where('campaign_id', 'in', ids)
    .groupBy('campaign_id')
    .execute();
  const attempts = await db
    .selectFrom('dial_attempts')
    .select([
      'campaign_id',
      sql<number>`count(*)::int`.as('attempts'),
      sql<number>`count(*) FILTER (WHERE outcome = 'answered')::int`.as('answered'),
      sql<number>`count(*) FILTER (WHERE state = 'done')::int`.as('done'),
      sql<number>`count(*) FILTER (WHERE state = 'dialing')::int`.as('dialing'),
    ])
    .where('campaign_id', 'in', ids)
    .groupBy('campaign_id')
    .execute();
  for (const c of campaigns) map.set(c.id, { ...emptyHeadline, contacts: c.total_contacts });
  for (const r of contacts) Object.assign(map.get(r.campaign_id)!, { contacts: r.total, finished: r.finished });
  for (const r of attempts) {
    Object.assign(map.get(r.campaign_id)!, {
      attempts: r.attempts,
      answered: r.answered,
      answerRate: r.done ? r.answered / r.done : null,
      callsInProgress: r.dialing,
    });
  }
  return map;
}

export function whyOf(row: Pick<DialerCampaignRow, 'status' | 'pause_reason' | 'waiting_window' | 'next_window_at' | 'next_run_at' | 'cycle'>): string | null {
  if (row.status === 'paused') return pauseReasonText[(row.pause_reason ?? 'manual') as PauseReason] ?? row.pause_reason;
  if (row.status === 'running' && row.waiting_window) {
    const at = row.next_window_at ? ` (próxima janela: ${new Date(row.next_window_at).toISOString()})` : '';
    return `Aguardando a janela de discagem${at}.`;
  }
  if (row.status === 'scheduled' && row.cycle > 0 && row.next_run_at) {
    return `Ciclo ${row.cycle} concluído; o próximo começa em ${new Date(row.next_run_at).toISOString()}.`;
  }
  if (row.status === 'scheduled' && row.next_run_at) return `Agendada para ${new Date(row.next_run_at).toISOString()}.`;
  if (row.status === 'scheduled') return 'Agendada.';
  return null;
}

export async function monitor(
  db: Kysely<Database>,
  campaign: DialerCampaignRow,
  guard: ShortCallGuard,
  ivrNow: (campaignId: string) => Promise<MonitorIvr> = (id) => monitorIvr(db, id),
) {
  const strategy = await db.selectFrom('dial_strategies').select(['config']).where('id', '=', campaign.strategy_id).executeTakeFirstOrThrow();
  const { channels, mode } = strategyConfigSchema.parse(strategy.config).pacing;
  const states = await db
    .selectFrom('dialer_contacts')
    .select(['state', 'final_outcome', sql<number>`count(*)::int`.as('n')])
    .where('campaign_id', '=', campaign.id)
    .groupBy(['state', 'final_outcome'])
    .execute();
  const contacts = { total: 0, pending: 0, inProgress: 0, blocked: 0, exhausted: 0, finishedByOutcome: {} as Record<string, number> };
  for (const s of states) {
    contacts.total += s.n;
    if (s.state === 'pending') contacts.pending += s.n;
    else if (s.state === 'queued' || s.state === 'dialing') contacts.inProgress += s.n;
    else if (s.state === 'blocked') contacts.blocked += s.n;
    else if (s.state === 'exhausted') contacts.exhausted += s.n;
    if (s.state === 'done' || s.state === 'exhausted')
      contacts.finishedByOutcome[s.final_outcome ?? 'unknown'] = (contacts.finishedByOutcome[s.final_outcome ?? 'unknown'] ?? 0) + s.n;
  }
  const a = await sql<{
    attempts: number;
    dialing: number;
    done: number;
    answered: number;
    last_minute: number;
    busy_s: number | null;
    first_at: Date | null;
    finals_5m: number;
  }>`
    SELECT count(*)::int AS attempts,
      count(*) FILTER (WHERE state = 'dialing')::int AS dialing,
      count(*) FILTER (WHERE state = 'done')::int AS done,
      count(*) FILTER (WHERE outcome = 'answered')::int AS answered,
      count(*) FILTER (WHERE started_at > now() - interval '1 minute')::int AS last_minute,
      sum(EXTRACT(epoch FROM COALESCE(ended_at, now()) - GREATEST(started_at, now() - interval '1 minute')))
        FILTER (WHERE COALESCE(ended_at, now()) > now() - interval '1 minute')::float8 AS busy_s,
      min(started_at) AS first_at,
      (SELECT count(*)::int FROM dialer_contacts WHERE campaign_id = ${campaign.id}
         AND state IN ('done', 'exhausted', 'blocked') AND updated_at > now() - interval '5 minutes') AS finals_5m
    FROM dial_attempts WHERE campaign_id = ${campaign.id}`.execute(db);
  const row = a.rows[0];
  const shortCalls = await shortCallsToday(db, campaign.tenant_id);
  const agents = await monitorAgents(db, campaign, mode);
  const ivr = await ivrNow(campaign.id);
  const now = Date.now();
  const windowS = row.first_at ? Math.min(60, Math.max(1, (now - new Date(row.first_at).getTime()) / 1000)) : 0;
  const open = contacts.pending + contacts.inProgress;
  const finalsPerSecond = row.finals_5m / Math.min(300, Math.max(1, row.first_at ? (now - new Date(row.first_at).getTime()) / 1000 : 300));
  return {
    campaignId: campaign.id,
    status: campaign.status,
    why: whyOf(campaign),
    waitingWindow: campaign.waiting_window,
    nextWindowAt: campaign.next_window_at ? new Date(campaign.next_window_at).toISOString() : null,
    cycle: campaign.cycle,
    nextRunAt: campaign.next_run_at ? new Date(campaign.next_run_at).toISOString() : null,
    contacts,
    attempts: row.attempts,
    callsInProgress: row.dialing,
    channels,
    callsPerMinute: row.last_minute,
    answerRate: row.done ? row.answered / row.done : null,
    lineUtilisation: windowS && campaign.status === 'running' ? Math.min(1, (row.busy_s ?? 0) / (channels * windowS)) : null,
    etaSeconds: open === 0 ? 0 : finalsPerSecond > 0 && campaign.status === 'running' ? Math.round(open / finalsPerSecond) : null,
    shortCalls: { ...shortCalls, guard: { ...guard, over: overShortCallGuard(shortCalls, guard) } },
    agents,
    ivr,
    at: new Date(now).toISOString(),
  };
}
