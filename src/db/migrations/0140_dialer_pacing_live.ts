import { sql, type Kysely } from 'kysely';

/**
 * The live state of each campaign's pacer (issue 12): the dial level it last recomputed, its
 * phase and rolling windows, and the agents it saw. One row per campaign, rewritten by the lane's
 * pacer every few seconds; the monitor reads it. Nothing else depends on it: a lost row only
 * blanks the monitor's dial level until the next write.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE dialer_pacing_live (
    campaign_id uuid PRIMARY KEY REFERENCES dialer_campaigns(id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    mode text NOT NULL CHECK (mode IN ('power', 'progressive', 'predictive')),
    phase text,
    dial_level double precision,
    gain double precision,
    recomputed_at timestamptz NOT NULL,
    windows jsonb NOT NULL DEFAULT '{}',
    agents jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE dialer_pacing_live`.execute(db);
}
