import type { ColumnType, Generated, Selectable } from 'kysely';

/** Kysely types of the IVR tables (migration 0090). */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string | undefined, string>;

export interface IvrFlowsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  name_key: string;
  version: Generated<number>;
  definition: Json<unknown>;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: Stamp;
}

export interface IvrFlowVersionsTable {
  flow_id: string;
  version: number;
  definition: Json<unknown>;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface IvrCallsTable {
  attempt_key: string;
  tenant_id: string;
  campaign_id: string;
  contact_id: number;
  phone: string;
  flow_id: string;
  flow_version: number;
  state: Json<unknown>;
  current_node: string;
  keys: Generated<string>;
  disposition: string | null;
  opted_out: Generated<boolean>;
  transferred_to: string | null;
  entered_at: Stamp;
  ended_at: NullableStamp;
}

export interface IvrPathStepsTable {
  attempt_key: string;
  seq: number;
  node: string;
  entered_at: Stamp;
  left_at: NullableStamp;
  keys: Generated<string>;
  entry: Generated<string>;
  exit: string | null;
}

export interface IvrTables {
  ivr_flows: IvrFlowsTable;
  ivr_flow_versions: IvrFlowVersionsTable;
  ivr_calls: IvrCallsTable;
  ivr_path_steps: IvrPathStepsTable;
}

export type IvrFlowRow = Selectable<IvrFlowsTable>;
