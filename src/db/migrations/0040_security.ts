import { sql, type Kysely } from 'kysely';

/**
 * A WhatsApp number belongs to one business account, so to one tenant: its registration is unique
 * across tenants (before, only per tenant, which let a second tenant share — and throttle — the
 * first one's pace window). Orphan webhook statuses remember their channel, so a webhook only ever
 * touches its own channel's messages. Abandoned uploads are found by the imports that took them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ phone_number_id: string }>`
    SELECT phone_number_id FROM whatsapp_channels GROUP BY phone_number_id HAVING count(*) > 1`.execute(db);
  if (rows.length > 0) {
    throw new Error(
      `WhatsApp phone number ids registered by more than one channel: ${rows.map((r) => r.phone_number_id).join(', ')}. ` +
        'Keep the channel of the tenant that owns each number and delete the others, then migrate again.',
    );
  }
  await sql`ALTER TABLE whatsapp_channels DROP CONSTRAINT whatsapp_channels_number_key`.execute(db);
  await sql`ALTER TABLE whatsapp_channels ADD CONSTRAINT whatsapp_channels_number_key UNIQUE (phone_number_id)`.execute(db);
  await sql`ALTER TABLE webhook_orphan_statuses ADD COLUMN channel_id uuid`.execute(db);
  await sql`CREATE INDEX imports_upload_id ON imports (upload_id) WHERE upload_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX imports_upload_id`.execute(db);
  await sql`ALTER TABLE webhook_orphan_statuses DROP COLUMN channel_id`.execute(db);
  await sql`ALTER TABLE whatsapp_channels DROP CONSTRAINT whatsapp_channels_number_key`.execute(db);
  await sql`ALTER TABLE whatsapp_channels ADD CONSTRAINT whatsapp_channels_number_key UNIQUE (tenant_id, phone_number_id)`.execute(db);
}
