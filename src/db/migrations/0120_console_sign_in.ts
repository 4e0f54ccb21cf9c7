import { sql, type Kysely } from 'kysely';

/**
 * Sign-in for the console: people get a password (an argon2id hash), sessions live in a table (the
 * cookie holds a random token, the table only its hash), an admin invites a user with a single-use
 * link, and failed sign-ins are stored so throttling holds across API processes and restarts.
 * E-mail is unique per tenant; a user who can sign in is found by e-mail alone, so among users with a
 * password it is unique everywhere.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN password_hash text`.execute(db);
  await sql`CREATE UNIQUE INDEX users_sign_in_email ON users (email) WHERE password_hash IS NOT NULL`.execute(db);
  await sql`
    CREATE TABLE user_sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      csrf_token text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX user_sessions_user ON user_sessions (user_id)`.execute(db);
  await sql`
    CREATE TABLE user_invites (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      accepted_at timestamptz
    )`.execute(db);
  await sql`
    CREATE TABLE sign_in_failures (
      id bigserial PRIMARY KEY,
      email text NOT NULL,
      ip text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX sign_in_failures_email ON sign_in_failures (email, created_at)`.execute(db);
  await sql`CREATE INDEX sign_in_failures_ip ON sign_in_failures (ip, created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS sign_in_failures`.execute(db);
  await sql`DROP TABLE IF EXISTS user_invites`.execute(db);
  await sql`DROP TABLE IF EXISTS user_sessions`.execute(db);
  await sql`DROP INDEX IF EXISTS users_sign_in_email`.execute(db);
  await sql`ALTER TABLE users DROP COLUMN IF EXISTS password_hash`.execute(db);
}
