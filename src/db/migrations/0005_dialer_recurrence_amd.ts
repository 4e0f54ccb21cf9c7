import { sql, type Kysely } from 'kysely';

/**
 * Discador, recurrence and answering-machine detection: a recurring campaign runs in cycles
 * (each Schedule occurrence re-arms the contacts not yet reached), so the campaign keeps its
 * current cycle and next run, and every attempt records the cycle that placed it and what AMD
 * said about the answered call.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE dialer_campaigns
      ADD COLUMN cycle integer NOT NULL DEFAULT 0,
      ADD COLUMN next_run_at timestamptz`.execute(db);
  await sql`ALTER TABLE dial_attempts ADD COLUMN cycle integer NOT NULL DEFAULT 1, ADD COLUMN amd_status text`.execute(db);
  // One attempt number per contact, phone dial and cycle (the attempt key also carries the cycle).
  await sql`CREATE UNIQUE INDEX dial_attempts_cycle_dial_key ON dial_attempts (campaign_id, contact_id, cycle, dial_no)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS dial_attempts_cycle_dial_key`.execute(db);
  await sql`ALTER TABLE dial_attempts DROP COLUMN IF EXISTS cycle, DROP COLUMN IF EXISTS amd_status`.execute(db);
  await sql`ALTER TABLE dialer_campaigns DROP COLUMN IF EXISTS cycle, DROP COLUMN IF EXISTS next_run_at`.execute(db);
}
