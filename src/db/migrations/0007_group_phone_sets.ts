import { sql, type Kysely } from 'kysely';

/**
 * A group's phones live only in its contacts' `phones`: the importer holds them as an in-memory
 * set (one import per group at a time) instead of a `group_phones` row per phone, whose random
 * inserts into a primary key cost more than the rest of the import together. `phones_revision`
 * is bumped by every write that adds, changes or removes a group's phones, so an importer knows
 * when its set is stale.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('group_phones').execute();
  await db.schema
    .alterTable('contact_groups')
    .addColumn('phones_revision', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contact_groups').dropColumn('phones_revision').execute();
  await db.schema
    .createTable('group_phones')
    .addColumn('group_id', 'uuid', (c) => c.notNull())
    .addColumn('phone', sql`text COLLATE "C"`, (c) => c.notNull())
    .addColumn('contact_id', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_phones_pkey', ['group_id', 'phone'])
    .execute();
  await sql`INSERT INTO group_phones SELECT DISTINCT ON (group_id, p) group_id, p, id FROM contacts, unnest(phones) AS p ORDER BY group_id, p, id`.execute(db);
}
