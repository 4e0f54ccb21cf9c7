import { sql, type Kysely } from 'kysely';

/**
 * Agents of the dialer (issue 12). An agent is a user of role `agent` with a SIP endpoint, assigned
 * to dialer campaigns. `agent_states` holds one row per agent (its live state, locked by every
 * change); `agent_state_events` keeps every change with its time, reason and actor (the users
 * report reads it); `agent_calls` is the ledger of calls given to agents, keyed by the call's own
 * key, so one call never gets two agents however often the dialer asks.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users DROP CONSTRAINT users_role_check`.execute(db);
  await sql`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'supervisor', 'agent', 'viewer'))`.execute(db);

  await sql`CREATE TABLE agent_pause_reasons (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    name text NOT NULL,
    name_key text NOT NULL,
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name_key)
  )`.execute(db);

  await sql`CREATE TABLE agents (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL UNIQUE REFERENCES users(id),
    sip_endpoint text NOT NULL,
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, sip_endpoint)
  )`.execute(db);

  await sql`CREATE TABLE dialer_campaign_agents (
    campaign_id uuid NOT NULL REFERENCES dialer_campaigns(id) ON DELETE CASCADE,
    agent_id uuid NOT NULL REFERENCES agents(id),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, agent_id)
  )`.execute(db);
  await sql`CREATE INDEX dialer_campaign_agents_agent_idx ON dialer_campaign_agents (agent_id)`.execute(db);

  await sql`CREATE TABLE agent_states (
    agent_id uuid PRIMARY KEY REFERENCES agents(id),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    state text NOT NULL DEFAULT 'offline' CHECK (state IN ('offline', 'available', 'on_call', 'wrap_up', 'paused')),
    since timestamptz NOT NULL DEFAULT now(),
    pause_reason_id uuid REFERENCES agent_pause_reasons(id),
    call_key text UNIQUE,
    campaign_id uuid REFERENCES dialer_campaigns(id) ON DELETE SET NULL,
    wrap_up_until timestamptz,
    seq integer NOT NULL DEFAULT 0,
    CHECK ((state = 'paused') = (pause_reason_id IS NOT NULL)),
    CHECK ((state = 'on_call') = (call_key IS NOT NULL)),
    CHECK ((state = 'wrap_up') = (wrap_up_until IS NOT NULL))
  )`.execute(db);
  await sql`CREATE INDEX agent_states_tenant_state_idx ON agent_states (tenant_id, state)`.execute(db);

  await sql`CREATE TABLE agent_state_events (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    agent_id uuid NOT NULL REFERENCES agents(id),
    from_state text NOT NULL,
    to_state text NOT NULL,
    pause_reason_id uuid REFERENCES agent_pause_reasons(id),
    reason text NOT NULL,
    actor_kind text NOT NULL CHECK (actor_kind IN ('agent', 'supervisor', 'system')),
    actor_user_id uuid REFERENCES users(id),
    call_key text,
    campaign_id uuid,
    at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  await sql`CREATE INDEX agent_state_events_agent_at_idx ON agent_state_events (tenant_id, agent_id, at, id)`.execute(db);

  await sql`CREATE TABLE agent_calls (
    call_key text PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    campaign_id uuid NOT NULL REFERENCES dialer_campaigns(id) ON DELETE CASCADE,
    agent_id uuid NOT NULL REFERENCES agents(id),
    reserved_at timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz
  )`.execute(db);
  await sql`CREATE INDEX agent_calls_agent_idx ON agent_calls (tenant_id, agent_id, reserved_at)`.execute(db);

  await sql`ALTER TABLE dialer_campaigns ADD COLUMN wrap_up_seconds integer NOT NULL DEFAULT 10
    CHECK (wrap_up_seconds BETWEEN 0 AND 3600)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE dialer_campaigns DROP COLUMN wrap_up_seconds`.execute(db);
  await sql`DROP TABLE agent_calls, agent_state_events, agent_states, dialer_campaign_agents, agents, agent_pause_reasons`.execute(db);
  // Agent users keep their keys and history as viewers.
  await sql`UPDATE users SET role = 'viewer' WHERE role = 'agent'`.execute(db);
  await sql`ALTER TABLE users DROP CONSTRAINT users_role_check`.execute(db);
  await sql`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'supervisor', 'viewer'))`.execute(db);
}
