import { sql, type Kysely } from 'kysely';

/**
 * The Mercado Livre channel: seller accounts (tokens sealed under SECRETS_KEY), the OAuth states
 * in flight, the tenant's answering settings and automatic-answer rules, every notification as it
 * came (the dedup key makes Mercado Livre's retries one row), questions with their SLA deadline and
 * the one answer each may get (its business key), post-sale conversations and their messages.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE ml_accounts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      seller_id bigint NOT NULL,
      nickname text NOT NULL,
      status text NOT NULL CHECK (status IN ('connected', 'needs_reauthorization', 'disconnected')),
      access_token_enc text,
      refresh_token_enc text,
      token_expires_at timestamptz,
      token_generation integer NOT NULL DEFAULT 0,
      refresh_count integer NOT NULL DEFAULT 0,
      last_refresh_at timestamptz,
      last_notification_at timestamptz,
      throttled_until timestamptz,
      throttle_level integer NOT NULL DEFAULT 0,
      status_reason text,
      connected_by uuid,
      connected_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ml_accounts_seller_key UNIQUE (seller_id)
    )`.execute(db);
  await sql`CREATE INDEX ml_accounts_tenant ON ml_accounts (tenant_id, created_at)`.execute(db);

  await sql`
    CREATE TABLE ml_oauth_states (
      state text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      user_id uuid,
      key_id text,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE ml_settings (
      tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
      answer_sla_minutes integer NOT NULL DEFAULT 60 CHECK (answer_sla_minutes BETWEEN 1 AND 10080),
      business_hours jsonb,
      out_of_hours_answer text,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE ml_auto_rules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      account_id uuid REFERENCES ml_accounts(id) ON DELETE CASCADE,
      name text NOT NULL,
      keywords text[] NOT NULL DEFAULT '{}',
      item_id text,
      answer_text text NOT NULL,
      priority integer NOT NULL DEFAULT 100,
      enabled boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE ml_notifications (
      id bigserial PRIMARY KEY,
      dedup_key text NOT NULL,
      tenant_id uuid,
      account_id uuid REFERENCES ml_accounts(id) ON DELETE SET NULL,
      topic text NOT NULL,
      resource text NOT NULL,
      user_id text NOT NULL,
      application_id text NOT NULL,
      attempts integer NOT NULL DEFAULT 1,
      source text NOT NULL DEFAULT 'webhook',
      state text NOT NULL CHECK (state IN ('pending', 'applied', 'ignored', 'failed')),
      ignore_reason text,
      duplicates integer NOT NULL DEFAULT 0,
      tries integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      claimed_until timestamptz,
      last_error text,
      received_at timestamptz NOT NULL DEFAULT now(),
      applied_at timestamptz,
      CONSTRAINT ml_notifications_dedup_key UNIQUE (dedup_key)
    )`.execute(db);
  await sql`CREATE INDEX ml_notifications_due ON ml_notifications (next_attempt_at) WHERE state = 'pending'`.execute(db);

  await sql`
    CREATE TABLE ml_questions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES ml_accounts(id) ON DELETE CASCADE,
      ml_question_id bigint NOT NULL,
      item_id text NOT NULL,
      item_title text,
      buyer_id bigint NOT NULL,
      text text NOT NULL,
      status text NOT NULL CHECK (status IN ('UNANSWERED', 'ANSWERED', 'CLOSED_UNANSWERED', 'UNDER_REVIEW', 'BANNED', 'DELETED')),
      asked_at timestamptz NOT NULL,
      sla_deadline timestamptz NOT NULL,
      sla_breached_at timestamptz,
      answer_text text,
      answer_status text,
      answered_at timestamptz,
      answered_via text CHECK (answered_via IN ('agent', 'auto', 'mercadolivre')),
      hold boolean NOT NULL DEFAULT false,
      suspected_spam boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ml_questions_ml_key UNIQUE (account_id, ml_question_id)
    )`.execute(db);
  await sql`CREATE INDEX ml_questions_tenant_asked ON ml_questions (tenant_id, asked_at DESC, id)`.execute(db);
  await sql`CREATE INDEX ml_questions_waiting ON ml_questions (sla_deadline) WHERE status = 'UNANSWERED' AND sla_breached_at IS NULL`.execute(db);

  await sql`
    CREATE TABLE ml_answers (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      question_id uuid NOT NULL REFERENCES ml_questions(id) ON DELETE CASCADE,
      text text NOT NULL,
      source text NOT NULL CHECK (source IN ('agent', 'auto')),
      rule_id uuid,
      requested_by_user uuid,
      requested_by_key text,
      state text NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      claimed_until timestamptz,
      sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ml_answers_question_key UNIQUE (question_id)
    )`.execute(db);
  await sql`CREATE INDEX ml_answers_due ON ml_answers (next_attempt_at) WHERE state = 'pending'`.execute(db);

  await sql`
    CREATE TABLE ml_conversations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES ml_accounts(id) ON DELETE CASCADE,
      pack_id text NOT NULL,
      buyer_id bigint,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
      substatus text,
      unread_count integer NOT NULL DEFAULT 0,
      last_message_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ml_conversations_pack_key UNIQUE (account_id, pack_id)
    )`.execute(db);
  await sql`CREATE INDEX ml_conversations_tenant ON ml_conversations (tenant_id, last_message_at DESC NULLS LAST, id)`.execute(db);

  await sql`
    CREATE TABLE ml_messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      conversation_id uuid NOT NULL REFERENCES ml_conversations(id) ON DELETE CASCADE,
      ml_message_id text,
      client_key text,
      direction text NOT NULL CHECK (direction IN ('buyer', 'seller')),
      text text NOT NULL,
      option_id text,
      state text NOT NULL DEFAULT 'sent' CHECK (state IN ('sending', 'sent', 'failed')),
      moderation_status text,
      moderation_reason text,
      attachments jsonb NOT NULL DEFAULT '[]'::jsonb,
      sent_by uuid,
      sent_at timestamptz NOT NULL DEFAULT now(),
      read_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ml_messages_ml_key UNIQUE (conversation_id, ml_message_id),
      CONSTRAINT ml_messages_client_key UNIQUE (conversation_id, client_key)
    )`.execute(db);
  await sql`CREATE INDEX ml_messages_conversation ON ml_messages (conversation_id, sent_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'ml_messages',
    'ml_conversations',
    'ml_answers',
    'ml_questions',
    'ml_notifications',
    'ml_auto_rules',
    'ml_settings',
    'ml_oauth_states',
    'ml_accounts',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.id(table)}`.execute(db);
  }
}
