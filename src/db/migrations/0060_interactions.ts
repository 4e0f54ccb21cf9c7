import { sql, type Kysely } from 'kysely';

/**
 * Rastreio de Interações: one row per touch with a person, whatever the channel (a call attempt, a
 * WhatsApp message or reply, a Mercado Livre question, answer or post-sale message), written by the
 * same transaction that records the event itself.
 *
 * - `source_key` is the event's own business key (`dc:…` attempt key, `bm:<send>:<contact>`, an
 *   inbound wamid, an ML question id…), unique per tenant and channel: every write is an upsert, so
 *   a retried activity, a webhook that beats the send's answer or a later writer (IVR, agent)
 *   merges into the same row.
 * - `events` is a jsonb array `[{ key, at, type, data? }]`, deduplicated by `key` on write and
 *   ordered by `at` on read. Kept in the row rather than a child table: a WhatsApp message gains
 *   four or five statuses, and each is then one (mostly HOT) update of one row instead of an
 *   insert into another table and its indexes; "an interaction with its events in order" is one
 *   index probe.
 * - Channel specifics (agent wait/talk, IVR path/keys/disposition, ML item/question) live in
 *   `details`; `handled_by_kind` + `handled_by_id` say who handled it (an agent, an automatic rule,
 *   the system, a user).
 * - No foreign keys: the rows are written on the hot paths of the dialer and broadcast, and they
 *   outlive a deleted campaign or contact (the history of a touch stays).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE interactions (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id uuid NOT NULL,
      channel text NOT NULL CHECK (channel IN ('voice', 'whatsapp', 'mercadolivre')),
      direction text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
      -- call | template_message | reply | question | answer | message …
      kind text NOT NULL,
      source_key text NOT NULL,
      -- digits as dialled/sent (55 + DDD + number), and the same without a mobile's ninth digit
      phone text,
      phone_key text,
      company_contact_id uuid,
      -- the campaign's group contact (contacts.id) the touch came from
      contact_id bigint,
      ml_buyer_id text,
      campaign_id uuid,
      send_id uuid,
      ml_account_id uuid,
      started_at timestamptz NOT NULL,
      ended_at timestamptz,
      outcome text,
      handled_by_kind text CHECK (handled_by_kind IN ('agent', 'rule', 'system', 'user')),
      handled_by_id text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      events jsonb NOT NULL DEFAULT '[]'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT interactions_source_key UNIQUE (tenant_id, channel, source_key)
    ) WITH (fillfactor = 80)`.execute(db);
  // "everything in this period" (and the keyset page order), "everything about this phone / contact".
  await sql`CREATE INDEX interactions_period_idx ON interactions (tenant_id, started_at, id)`.execute(db);
  await sql`CREATE INDEX interactions_phone_idx ON interactions (tenant_id, phone_key, started_at) WHERE phone_key IS NOT NULL`.execute(db);
  await sql`CREATE INDEX interactions_company_contact_idx ON interactions (tenant_id, company_contact_id, started_at)
    WHERE company_contact_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX interactions_campaign_idx ON interactions (campaign_id, started_at, id) WHERE campaign_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX interactions_agent_idx ON interactions (tenant_id, handled_by_id, started_at)
    WHERE handled_by_kind = 'agent'`.execute(db);
  await sql`CREATE INDEX interactions_ml_buyer_idx ON interactions (tenant_id, ml_buyer_id, started_at) WHERE ml_buyer_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS interactions`.execute(db);
}
