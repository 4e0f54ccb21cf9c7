import { sql, type Kysely } from 'kysely';
import type { AgentSupply, PredictivePhase, WindowName, WindowRates } from '../domain/dialer/pacing';
import type { PacingMode } from '../domain/dialer/strategy';
import type { Database } from './schema';

/** What a campaign's pacer last wrote (migration 0140), for the monitor. */
export interface PacingLive {
  campaignId: string;
  mode: PacingMode;
  phase: PredictivePhase | null;
  dialLevel: number | null;
  gain: number | null;
  recomputedAt: Date;
  windows: Partial<Record<WindowName, WindowRates>>;
  agents: AgentSupply | null;
}

/** One upsert by campaign: the row always holds the newest recompute. */
export async function writePacingLive(db: Kysely<Database>, live: PacingLive): Promise<void> {
  const values = {
    mode: live.mode,
    phase: live.phase,
    dial_level: live.dialLevel,
    gain: live.gain,
    recomputed_at: live.recomputedAt,
    windows: JSON.stringify(live.windows),
    agents: live.agents ? JSON.stringify(live.agents) : null,
    updated_at: sql<Date>`now()`,
  };
  await db
    .insertInto('dialer_pacing_live')
    .values({
      campaign_id: live.campaignId,
      tenant_id: sql<string>`(SELECT tenant_id FROM dialer_campaigns WHERE id = ${live.campaignId})`,
      ...values,
    })
    .onConflict((oc) => oc.column('campaign_id').doUpdateSet(values))
    .execute();
}

export async function readPacingLive(db: Kysely<Database>, campaignId: string): Promise<PacingLive | undefined> {
  const row = await db.selectFrom('dialer_pacing_live').selectAll().where('campaign_id', '=', campaignId).executeTakeFirst();
  if (!row) return undefined;
  return {
    campaignId: row.campaign_id,
    mode: row.mode,
    phase: (row.phase as PredictivePhase | null) ?? null,
    dialLevel: row.dial_level,
    gain: row.gain,
    recomputedAt: new Date(row.recomputed_at),
    windows: row.windows as PacingLive['windows'],
    agents: (row.agents as AgentSupply | null) ?? null,
  };
}
