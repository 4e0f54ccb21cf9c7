import type { ColumnType, Generated, Selectable } from 'kysely';
import type { AgentActorKind, AgentState } from '../domain/dialer/agent-state';

/** Kysely types of the agents tables (migration 0070). */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface AgentPauseReasonsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  name_key: string;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface AgentsTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  /** The channel the dialer rings to reach the agent, e.g. `PJSIP/agent-1001` (unique per tenant). */
  sip_endpoint: string;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface DialerCampaignAgentsTable {
  campaign_id: string;
  agent_id: string;
  tenant_id: string;
  assigned_at: CreatedAt;
}

export interface AgentStatesTable {
  agent_id: string;
  tenant_id: string;
  state: ColumnType<AgentState, AgentState | undefined, AgentState>;
  since: Stamp;
  pause_reason_id: string | null;
  /** The call the agent is on (`on_call` only). */
  call_key: string | null;
  /** The campaign of the agent's current or last call. */
  campaign_id: string | null;
  /** `wrap_up` only: when after-call work ends by itself. */
  wrap_up_until: NullableStamp;
  seq: Generated<number>;
}

export interface AgentStateEventsTable {
  id: Generated<string>;
  tenant_id: string;
  agent_id: string;
  from_state: AgentState;
  to_state: AgentState;
  pause_reason_id: string | null;
  reason: string;
  actor_kind: AgentActorKind;
  actor_user_id: string | null;
  call_key: string | null;
  campaign_id: string | null;
  at: Stamp;
}

export interface AgentCallsTable {
  call_key: string;
  tenant_id: string;
  campaign_id: string;
  agent_id: string;
  reserved_at: Stamp;
  released_at: NullableStamp;
}

export interface AgentTables {
  agent_pause_reasons: AgentPauseReasonsTable;
  agents: AgentsTable;
  dialer_campaign_agents: DialerCampaignAgentsTable;
  agent_states: AgentStatesTable;
  agent_state_events: AgentStateEventsTable;
  agent_calls: AgentCallsTable;
}

export type AgentRow = Selectable<AgentsTable>;
export type AgentStateRow = Selectable<AgentStatesTable>;
export type PauseReasonRow = Selectable<AgentPauseReasonsTable>;
