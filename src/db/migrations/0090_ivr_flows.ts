import { sql, type Kysely } from 'kysely';

/**
 * URA ativa: IVR flows (versioned like strategies: the flow row holds the current definition, every
 * saved version is kept so a call records and replays the version it ran), one row per call that
 * entered a flow (the interpreter's state, so another worker can continue it) and the call's path,
 * one row per node entered (keyed by call and position: a retried write is harmless).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE ivr_flows (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      name text NOT NULL,
      name_key text NOT NULL,
      version integer NOT NULL DEFAULT 1,
      definition jsonb NOT NULL,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ivr_flows_name_key UNIQUE (tenant_id, name_key)
    )`.execute(db);
  await sql`CREATE INDEX ivr_flows_tenant_idx ON ivr_flows (tenant_id, created_at, id)`.execute(db);

  await sql`
    CREATE TABLE ivr_flow_versions (
      flow_id uuid NOT NULL REFERENCES ivr_flows(id) ON DELETE CASCADE,
      version integer NOT NULL,
      definition jsonb NOT NULL,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (flow_id, version)
    )`.execute(db);

  await sql`
    CREATE TABLE ivr_calls (
      -- the dial attempt's key (also its ARI channel id)
      attempt_key text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      campaign_id uuid NOT NULL REFERENCES dialer_campaigns(id) ON DELETE CASCADE,
      contact_id bigint NOT NULL,
      phone text NOT NULL,
      -- no cascade: a flow that calls ran cannot be deleted (the reports need it)
      flow_id uuid NOT NULL REFERENCES ivr_flows(id),
      flow_version integer NOT NULL,
      -- the interpreter's state after the last applied event
      state jsonb NOT NULL,
      current_node text NOT NULL,
      keys text NOT NULL DEFAULT '',
      disposition text,
      opted_out boolean NOT NULL DEFAULT false,
      transferred_to text,
      entered_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX ivr_calls_tenant_idx ON ivr_calls (tenant_id, entered_at, attempt_key)`.execute(db);
  await sql`CREATE INDEX ivr_calls_campaign_idx ON ivr_calls (campaign_id, entered_at)`.execute(db);
  await sql`CREATE INDEX ivr_calls_flow_idx ON ivr_calls (flow_id)`.execute(db);
  await sql`CREATE INDEX ivr_calls_live_idx ON ivr_calls (campaign_id, current_node) WHERE ended_at IS NULL`.execute(db);

  await sql`
    CREATE TABLE ivr_path_steps (
      attempt_key text NOT NULL REFERENCES ivr_calls(attempt_key) ON DELETE CASCADE,
      seq integer NOT NULL,
      node text NOT NULL,
      entered_at timestamptz NOT NULL DEFAULT now(),
      left_at timestamptz,
      -- keys pressed while in the node
      keys text NOT NULL DEFAULT '',
      -- the keys that decided a 'key' exit (the menu entry that matched a branch)
      entry text NOT NULL DEFAULT '',
      -- how it left: next, key, timeout, invalid, hangup, ended, max_visits, transferred, no_agent
      exit text,
      PRIMARY KEY (attempt_key, seq)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['ivr_path_steps', 'ivr_calls', 'ivr_flow_versions', 'ivr_flows']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
