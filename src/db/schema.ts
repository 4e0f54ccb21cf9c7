import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Kysely table types. One interface per table; migrations are the source of truth. */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string | T, string | T>;
/** A JSON column with a database default: optional on insert. */
type JsonWithDefault<T = unknown> = ColumnType<T, string | T | undefined, string | T>;

export type Role = 'admin' | 'supervisor' | 'viewer';

export interface TenantsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  email: string;
  role: Role;
  created_at: CreatedAt;
}

export interface ApiKeysTable {
  /** Public part of the key, e.g. `k_3f9a…`; the secret part is only stored hashed. */
  id: string;
  tenant_id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  tenant_id: string;
  actor_user_id: string | null;
  actor_key_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  summary: string;
  details: JsonWithDefault<Record<string, unknown>>;
  request_id: string | null;
  created_at: CreatedAt;
}

export type ExportStatus = 'running' | 'completed' | 'cancelled' | 'failed';

export interface ExportsTable {
  id: Generated<string>;
  tenant_id: string;
  kind: string;
  params: JsonWithDefault<Record<string, unknown>>;
  status: ExportStatus;
  file_name: string;
  rows_written: Generated<number>;
  bytes_written: Generated<number>;
  error: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  finished_at: Timestamp | null;
}

export interface ExportChunksTable {
  export_id: string;
  seq: number;
  data: Buffer;
}

export interface Database {
  tenants: TenantsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  exports: ExportsTable;
  export_chunks: ExportChunksTable;
}

export type Tenant = Selectable<TenantsTable>;
export type User = Selectable<UsersTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type NewAuditEntry = Insertable<AuditLogTable>;
export type ExportRow = Selectable<ExportsTable>;
