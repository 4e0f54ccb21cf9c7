import { sql, type Kysely } from 'kysely';

/**
 * Broadcast (WhatsApp template campaigns): channels and their synced templates, campaigns and
 * sends, one message row per contact per send (the business key of "exactly once"), the shared
 * pace limiter, and the raw status webhooks waiting to be applied.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('whatsapp_channels')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('phone_number_id', 'text', (c) => c.notNull())
    .addColumn('waba_id', 'text', (c) => c.notNull())
    .addColumn('display_number', 'text', (c) => c.notNull())
    /** AES-256-GCM with SECRETS_KEY (`v1:<iv>:<tag>:<data>`); never returned by the API. */
    .addColumn('access_token_enc', 'text', (c) => c.notNull())
    .addColumn('app_secret_enc', 'text', (c) => c.notNull())
    .addColumn('verify_token', 'text', (c) => c.notNull())
    .addColumn('mps_limit', 'integer', (c) => c.notNull().defaultTo(80).check(sql`mps_limit BETWEEN 1 AND 1000`))
    .addColumn('templates_synced_at', 'timestamptz')
    .addColumn('created_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('whatsapp_channels_number_key', ['tenant_id', 'phone_number_id'])
    .execute();

  await db.schema
    .createTable('whatsapp_templates')
    .addColumn('channel_id', 'uuid', (c) => c.notNull().references('whatsapp_channels.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('meta_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('quality', 'text')
    .addColumn('parameter_format', 'text', (c) => c.notNull().defaultTo('POSITIONAL'))
    .addColumn('components', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('placeholders', sql`text[]`, (c) => c.notNull())
    .addColumn('synced_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('whatsapp_templates_pkey', ['channel_id', 'name', 'language'])
    .execute();

  await db.schema
    .createTable('broadcast_campaigns')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('channel_id', 'uuid', (c) => c.notNull().references('whatsapp_channels.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('broadcast_campaigns_name_key', ['tenant_id', 'name_key'])
    .execute();
  await db.schema.createIndex('broadcast_campaigns_tenant_idx').on('broadcast_campaigns').columns(['tenant_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('broadcast_sends')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('campaign_id', 'uuid', (c) => c.notNull().references('broadcast_campaigns.id').onDelete('cascade'))
    .addColumn('channel_id', 'uuid', (c) => c.notNull().references('whatsapp_channels.id'))
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('contact_groups.id'))
    .addColumn('template_name', 'text', (c) => c.notNull())
    .addColumn('template_language', 'text', (c) => c.notNull())
    /** Placeholder → { column } or { text }, checked against the template on create. */
    .addColumn('variables', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('start_at', 'timestamptz')
    .addColumn('sending_hours', 'jsonb')
    .addColumn('pace_mps', 'integer', (c) => c.notNull())
    .addColumn('gradual', 'jsonb')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('scheduled', 'running', 'paused', 'waiting', 'completed', 'stopped')`))
    .addColumn('status_reason', 'text')
    /** Bumped by the workflow on every state change, so a late write never undoes a newer one. */
    .addColumn('state_version', 'integer', (c) => c.notNull().defaultTo(0))
    /** Set by a worker that met an account-level (pause) or fatal (stop) error; the workflow adopts it. */
    .addColumn('halt_action', 'text', (c) => c.check(sql`halt_action IN ('pause', 'stop')`))
    .addColumn('halt_reason', 'text')
    .addColumn('total_contacts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('prepared', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('broadcast_sends_campaign_idx').on('broadcast_sends').columns(['campaign_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('broadcast_sends_tenant_idx').on('broadcast_sends').columns(['tenant_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('broadcast_messages')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('send_id', 'uuid', (c) => c.notNull().references('broadcast_sends.id').onDelete('cascade'))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull())
    .addColumn('contact_id', 'bigint', (c) => c.notNull())
    /** 1..N in contact order: pages and the gradual release go by it. */
    .addColumn('seq', 'integer', (c) => c.notNull())
    /** The number sent to, and the same without a Brazilian mobile's ninth digit (webhook matching). */
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('phone_key', 'text', (c) => c.notNull())
    .addColumn('wa_id', 'text')
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state IN ('pending', 'sending', 'accepted', 'sent', 'delivered', 'read', 'failed', 'skipped', 'unknown')`),
    )
    .addColumn('skip_reason', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz')
    /** When the intent to call the API was recorded (state `sending`). */
    .addColumn('sending_since', 'timestamptz')
    .addColumn('wamid', 'text')
    .addColumn('message_status', 'text')
    .addColumn('error_code', 'integer')
    .addColumn('error_title', 'text')
    .addColumn('error_details', 'text')
    .addColumn('accepted_at', 'timestamptz')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('read_at', 'timestamptz')
    .addColumn('failed_at', 'timestamptz')
    .addColumn('unknown_at', 'timestamptz')
    .addColumn('skipped_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('broadcast_messages_send_contact_key', ['send_id', 'contact_id'])
    .execute();
  await sql`CREATE UNIQUE INDEX broadcast_messages_send_seq_key ON broadcast_messages (send_id, seq)`.execute(db);
  await sql`CREATE INDEX broadcast_messages_pending_idx ON broadcast_messages (send_id, seq) WHERE state = 'pending'`.execute(db);
  await sql`CREATE INDEX broadcast_messages_sending_idx ON broadcast_messages (send_id, sending_since) WHERE state = 'sending'`.execute(db);
  await sql`CREATE UNIQUE INDEX broadcast_messages_wamid_key ON broadcast_messages (wamid) WHERE wamid IS NOT NULL`.execute(db);
  await sql`CREATE INDEX broadcast_messages_phone_key_idx ON broadcast_messages (tenant_id, phone_key)`.execute(db);

  /** Token buckets shared by every worker: `wa:<phone number id>` (the channel limit), `send:<id>` (its pace). */
  await db.schema
    .createTable('rate_buckets')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('rate', 'double precision', (c) => c.notNull())
    .addColumn('burst', 'double precision', (c) => c.notNull())
    .addColumn('tokens', 'double precision', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .execute();

  /** Webhook POSTs as received (signature checked), applied asynchronously by the worker. */
  await db.schema
    .createTable('webhook_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull().defaultTo('whatsapp'))
    .addColumn('channel_id', 'uuid', (c) => c.notNull())
    .addColumn('tenant_id', 'uuid', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('applied_at', 'timestamptz')
    .addColumn('statuses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .execute();
  await sql`CREATE INDEX webhook_events_unapplied_idx ON webhook_events (id) WHERE applied_at IS NULL`.execute(db);

  /** Status events whose message is not recorded yet (webhook before the send answer); retried. */
  await db.schema
    .createTable('webhook_orphan_statuses')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'uuid', (c) => c.notNull())
    .addColumn('event', 'jsonb', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('tries', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'webhook_orphan_statuses',
    'webhook_events',
    'rate_buckets',
    'broadcast_messages',
    'broadcast_sends',
    'broadcast_campaigns',
    'whatsapp_templates',
    'whatsapp_channels',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
