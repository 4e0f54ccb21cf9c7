import { sql, type Kysely } from 'kysely';

/**
 * Contact groups, their contacts and phones, CSV uploads and imports, company contacts and
 * per-channel opt-outs. Group members are bigint-keyed: a group may hold millions.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Uploaded files, stored in PostgreSQL so any worker can read them.
  await db.schema
    .createTable('uploads')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('chunk_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('upload_chunks')
    .addColumn('upload_id', 'uuid', (c) => c.notNull().references('uploads.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('upload_chunks_pkey', ['upload_id', 'seq'])
    .execute();

  await db.schema
    .createTable('contact_groups')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('dialer', 'broadcast')`))
    .addColumn('name', 'text', (c) => c.notNull())
    /** lower-case, accent-free name: uniqueness and "contains" search ignore case and accents. */
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source IN ('csv', 'company_contacts')`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status IN ('active', 'inactive')`))
    .addColumn('contact_count', 'integer', (c) => c.notNull().defaultTo(0))
    /** The campaign this group is linked to; once set, the group can no longer be edited. */
    .addColumn('campaign_id', 'uuid')
    .addColumn('campaign_name', 'text')
    .addColumn('linked_at', 'timestamptz')
    .addColumn('created_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`CREATE UNIQUE INDEX contact_groups_name_key ON contact_groups (tenant_id, kind, name_key)`.execute(db);
  await db.schema.createIndex('contact_groups_tenant_time_idx').on('contact_groups').columns(['tenant_id', 'created_at', 'id']).execute();

  // contacts, group_phones and import_rejections take millions of rows by COPY: they carry no
  // foreign keys (a per-row RI check nearly doubles the insert time); their parents are never
  // deleted while they exist.
  await db.schema
    .createTable('contacts')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('group_id', 'uuid', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('phones', sql`text[]`, (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('document', 'text')
    .addColumn('custom', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('import_id', 'uuid')
    .addColumn('line_no', 'integer')
    .addColumn('company_contact_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('contacts_group_idx').on('contacts').columns(['group_id', 'id']).execute();
  // An import batch is written once: a retried batch finds its rows by (import, line).
  await sql`CREATE UNIQUE INDEX contacts_import_line_key ON contacts (import_id, line_no) WHERE import_id IS NOT NULL`.execute(db);

  /** Every phone in a group, once: duplicate detection and search by phone. */
  await db.schema
    .createTable('group_phones')
    .addColumn('group_id', 'uuid', (c) => c.notNull())
    .addColumn('phone', sql`text COLLATE "C"`, (c) => c.notNull())
    .addColumn('contact_id', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_phones_pkey', ['group_id', 'phone'])
    .execute();

  await db.schema
    .createTable('imports')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('target', 'text', (c) => c.notNull().check(sql`target IN ('contact_group', 'company_contacts')`))
    .addColumn('group_id', 'uuid', (c) => c.references('contact_groups.id').onDelete('cascade'))
    .addColumn('upload_id', 'uuid', (c) => c.references('uploads.id').onDelete('set null'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('pending', 'running', 'completed', 'failed', 'cancelled')`))
    .addColumn('phone_policy', 'text', (c) => c.notNull().defaultTo('reject_row'))
    .addColumn('encoding', 'text')
    .addColumn('rows_read', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_imported', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_rejected', 'integer', (c) => c.notNull().defaultTo(0))
    /** Last physical line whose batch is committed: the resume point after a crash. */
    .addColumn('checkpoint_line', 'integer', (c) => c.notNull().defaultTo(0))
    /** Byte offset in the upload just after that line: where a resumed import starts reading. */
    .addColumn('checkpoint_offset', 'bigint', (c) => c.notNull().defaultTo(0))
    /** The file's header (first record), kept so a resumed import can map columns again. */
    .addColumn('header', sql`text[]`)
    .addColumn('error', 'text')
    .addColumn('created_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('imports_group_idx').on('imports').columns(['group_id', 'created_at']).execute();
  await db.schema.createIndex('imports_tenant_idx').on('imports').columns(['tenant_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('import_rejections')
    .addColumn('import_id', 'uuid', (c) => c.notNull())
    .addColumn('line_no', 'integer', (c) => c.notNull())
    .addColumn('raw', 'text', (c) => c.notNull())
    .addColumn('reasons', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_rejections_pkey', ['import_id', 'line_no'])
    .execute();

  await db.schema
    .createTable('company_contacts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('phones', sql`text[]`, (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('document', 'text')
    .addColumn('custom', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('opt_out_voice', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('opt_out_whatsapp', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('import_id', 'uuid')
    .addColumn('line_no', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('company_contacts_tenant_idx').on('company_contacts').columns(['tenant_id', 'created_at', 'id']).execute();
  await sql`CREATE UNIQUE INDEX company_contacts_import_line_key ON company_contacts (import_id, line_no) WHERE import_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX company_contacts_phones_idx ON company_contacts USING gin (phones)`.execute(db);

  /**
   * Phones that must not be contacted on a channel: company contacts' opt-outs, WhatsApp opt-out
   * replies, the tenant's outbound block list. Campaigns check it before every call or message.
   */
  await db.schema
    .createTable('phone_opt_outs')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel IN ('voice', 'whatsapp')`))
    .addColumn('phone', sql`text COLLATE "C"`, (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('phone_opt_outs_pkey', ['tenant_id', 'channel', 'phone', 'source'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'phone_opt_outs',
    'company_contacts',
    'import_rejections',
    'imports',
    'group_phones',
    'contacts',
    'contact_groups',
    'upload_chunks',
    'uploads',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
