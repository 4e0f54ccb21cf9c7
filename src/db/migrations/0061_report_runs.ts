import { sql, type Kysely } from 'kysely';

/**
 * Report runs are exports of a catalogue report (`report_id`) in a format and locale. Their files
 * are personal data (LGPD): kept for the tenant's retention (default 7 days) after they finish,
 * then deleted (`file_deleted_at`), while the run history stays.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE tenants ADD COLUMN report_retention_days integer NOT NULL DEFAULT 7
    CHECK (report_retention_days BETWEEN 1 AND 365)`.execute(db);
  await sql`ALTER TABLE exports
    ADD COLUMN report_id text,
    ADD COLUMN format text NOT NULL DEFAULT 'csv' CHECK (format IN ('csv', 'xlsx')),
    ADD COLUMN locale text NOT NULL DEFAULT 'pt-BR' CHECK (locale IN ('pt-BR', 'iso')),
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN file_deleted_at timestamptz`.execute(db);
  await sql`UPDATE exports SET report_id = 'activity' WHERE kind = 'activity-report'`.execute(db);
  await sql`CREATE INDEX exports_report_history_idx ON exports (tenant_id, created_at, id) WHERE report_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX exports_expiry_idx ON exports (expires_at) WHERE file_deleted_at IS NULL AND expires_at IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE exports DROP COLUMN report_id, DROP COLUMN format, DROP COLUMN locale, DROP COLUMN expires_at, DROP COLUMN file_deleted_at`.execute(db);
  await sql`ALTER TABLE tenants DROP COLUMN report_retention_days`.execute(db);
}
