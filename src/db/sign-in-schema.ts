import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** 0120: console sessions (the cookie's token only as a hash) and their CSRF token. */
export interface UserSessionsTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  token_hash: string;
  csrf_token: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

/** 0120: single-use invite links an admin hands a user to choose a password. */
export interface UserInvitesTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  token_hash: string;
  created_by: string | null;
  created_at: CreatedAt;
  expires_at: Timestamp;
  accepted_at: Timestamp | null;
}

/** 0120: failed sign-ins, counted per e-mail and per address for throttling. */
export interface SignInFailuresTable {
  id: Generated<string>;
  email: string;
  ip: string;
  created_at: CreatedAt;
}

export interface SignInTables {
  user_sessions: UserSessionsTable;
  user_invites: UserInvitesTable;
  sign_in_failures: SignInFailuresTable;
}
