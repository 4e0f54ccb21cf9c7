import { sql, type Kysely } from 'kysely';

/**
 * A company contact (the person) may be a Mercado Livre buyer too: its buyer ids put that
 * channel's questions and messages in the person's timeline (issue 15), since a question carries
 * no phone to match.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE company_contacts ADD COLUMN ml_buyer_ids text[] NOT NULL DEFAULT '{}'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE company_contacts DROP COLUMN ml_buyer_ids`.execute(db);
}
