import { sql, type Kysely } from 'kysely';

/**
 * Discador: dialing strategies (versioned), dialer campaigns, each campaign's per-contact state
 * and one row per call attempt (the attempt key is the ARI channel id, unique: a retried
 * originate can never place a second call for the same attempt).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE dial_strategies (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      name text NOT NULL,
      name_key text NOT NULL,
      -- bumped by every edit; every attempt records the version that produced it
      version integer NOT NULL DEFAULT 1,
      telemarketing boolean NOT NULL DEFAULT false,
      config jsonb NOT NULL,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT dial_strategies_name_key UNIQUE (tenant_id, name_key)
    )`.execute(db);
  await sql`CREATE INDEX dial_strategies_tenant_idx ON dial_strategies (tenant_id, created_at, id)`.execute(db);

  await sql`
    CREATE TABLE dialer_campaigns (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      name text NOT NULL,
      name_key text NOT NULL,
      group_id uuid NOT NULL REFERENCES contact_groups(id),
      strategy_id uuid NOT NULL REFERENCES dial_strategies(id),
      status text NOT NULL CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'stopped')),
      -- running but outside its calling window (campaign window, or every remaining contact's state hours)
      waiting_window boolean NOT NULL DEFAULT false,
      next_window_at timestamptz,
      pause_reason text,
      -- the workflow's state sequence: a late write of an older state never overwrites a newer one
      state_seq integer NOT NULL DEFAULT 0,
      start_at timestamptz,
      end_at timestamptz,
      recurrence jsonb,
      total_contacts integer NOT NULL DEFAULT 0,
      prepared boolean NOT NULL DEFAULT false,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      CONSTRAINT dialer_campaigns_name_key UNIQUE (tenant_id, name_key)
    )`.execute(db);
  await sql`CREATE INDEX dialer_campaigns_tenant_idx ON dialer_campaigns (tenant_id, created_at, id)`.execute(db);
  await sql`CREATE INDEX dialer_campaigns_strategy_idx ON dialer_campaigns (strategy_id, status)`.execute(db);

  // Built from the group's contacts when the campaign starts (one INSERT … SELECT).
  await sql`
    CREATE TABLE dialer_contacts (
      campaign_id uuid NOT NULL REFERENCES dialer_campaigns(id) ON DELETE CASCADE,
      contact_id bigint NOT NULL,
      phones text[] NOT NULL,
      -- pending: due at next_attempt_at; queued: claimed by a dialing lane; dialing: a call is up;
      -- done (final_outcome says how), blocked, exhausted (attempts used up)
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued', 'dialing', 'done', 'blocked', 'exhausted')),
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      -- the phone (index into phones) the next attempt dials, and its DDD (state telemarketing hours)
      phone_idx integer NOT NULL DEFAULT 0,
      ddd text,
      attempts integer NOT NULL DEFAULT 0,
      phone_attempts integer[] NOT NULL DEFAULT '{}',
      -- every call placed, including those that do not count as attempts (network failures)
      dials integer NOT NULL DEFAULT 0,
      last_outcome text,
      final_outcome text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (campaign_id, contact_id)
    )`.execute(db);
  await sql`CREATE INDEX dialer_contacts_due_idx ON dialer_contacts (campaign_id, next_attempt_at) WHERE state = 'pending'`.execute(db);
  await sql`CREATE INDEX dialer_contacts_state_idx ON dialer_contacts (campaign_id, state)`.execute(db);

  await sql`
    CREATE TABLE dial_attempts (
      id bigserial PRIMARY KEY,
      -- dc:<campaign>:<contact>:<n>, also the ARI channelId
      attempt_key text NOT NULL UNIQUE,
      tenant_id uuid NOT NULL,
      campaign_id uuid NOT NULL REFERENCES dialer_campaigns(id) ON DELETE CASCADE,
      contact_id bigint NOT NULL,
      dial_no integer NOT NULL,
      attempt_no integer NOT NULL,
      phone text NOT NULL,
      strategy_version integer NOT NULL,
      state text NOT NULL DEFAULT 'dialing' CHECK (state IN ('dialing', 'done')),
      outcome text,
      cause integer,
      cause_txt text,
      ring_ms integer,
      talk_ms integer,
      -- the outcome was inferred (the hangup happened while nobody was listening)
      lost boolean NOT NULL DEFAULT false,
      started_at timestamptz NOT NULL DEFAULT now(),
      answered_at timestamptz,
      ended_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX dial_attempts_campaign_idx ON dial_attempts (campaign_id, started_at)`.execute(db);
  await sql`CREATE INDEX dial_attempts_tenant_idx ON dial_attempts (tenant_id, started_at, id)`.execute(db);
  await sql`CREATE INDEX dial_attempts_dialing_idx ON dial_attempts (campaign_id) WHERE state = 'dialing'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['dial_attempts', 'dialer_contacts', 'dialer_campaigns', 'dial_strategies']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
