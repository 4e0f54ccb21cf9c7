import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { COMPANY_PHONES_LOCK_SQL } from '../../db/company-contacts';
import { copyRows } from '../../db/copy';
import type { Database } from '../../db/schema';
import { textKey } from '../../domain/text-key';
import { duplicate } from '../../domain/contact-csv/reject-reason';
import { claimPhones, type Batch, type BatchOutcome, type RejectedBatchRow, type ValidBatchRow } from './batch';

export interface ImportTarget {
  importId: string;
  tenantId: string;
  /** Set for a contact group import; unset for company contacts. */
  groupId: string | null;
}

/**
 * Writes one batch in one transaction: contacts, their phones, rejections, and the import's
 * counters and checkpoint. A crash before COMMIT leaves nothing of the batch, and the resumed import
 * starts after the last committed checkpoint: no row lost, none written twice.
 */
export async function writeBatch(client: pg.PoolClient, target: ImportTarget, batch: Batch): Promise<BatchOutcome> {
  await client.query('BEGIN');
  try {
    // One writer per group at a time, so two imports cannot both claim the same phone.
    if (target.groupId) await client.query('SELECT 1 FROM contact_groups WHERE id = $1 FOR UPDATE', [target.groupId]);
    // Likewise one writer of the tenant's company-contact phones (imports and the API alike).
    else await client.query(COMPANY_PHONES_LOCK_SQL, [target.tenantId]);
    let kept: ValidBatchRow[];
    let duplicates: RejectedBatchRow[];
    if (target.groupId) {
      const claimed = await claimGroupPhones(client, target.groupId, batch.valid);
      ({ kept, duplicates } = claimed);
      await copyRows(
        client,
        'contacts',
        ['id', 'group_id', 'name', 'phones', 'email', 'document', 'custom', 'import_id', 'line_no'],
        claimed.kept.map((r) => [r.id, target.groupId, r.contact.name, r.contact.phones, r.contact.email ?? null, r.contact.document ?? null, r.contact.custom, target.importId, r.line]),
      );
      await client.query('UPDATE contact_groups SET contact_count = contact_count + $2 WHERE id = $1', [target.groupId, kept.length]);
    } else {
      ({ kept, duplicates } = await claimCompanyPhones(client, target.tenantId, batch.valid));
      await copyRows(
        client,
        'company_contacts',
        ['tenant_id', 'name', 'name_key', 'phones', 'email', 'document', 'custom', 'import_id', 'line_no'],
        kept.map((r) => [target.tenantId, r.contact.name, textKey(r.contact.name), r.contact.phones, r.contact.email ?? null, r.contact.document ?? null, r.contact.custom, target.importId, r.line]),
      );
    }

    const rejected = [...batch.rejected, ...duplicates];
    await copyRows(client, 'import_rejections', ['import_id', 'line_no', 'raw', 'reasons'], rejected.map((r) => [target.importId, r.line, r.raw, JSON.stringify(r.reasons)]));
    await client.query(
      `UPDATE imports SET rows_read = $2, rows_imported = rows_imported + $3, rows_rejected = rows_rejected + $4,
         checkpoint_line = $5, checkpoint_offset = $6 WHERE id = $1`,
      [target.importId, batch.rowsRead, kept.length, rejected.length, batch.checkpointLine, batch.checkpointOffset],
    );
    await client.query('COMMIT');
    return { imported: kept.length, rejected: rejected.length };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function allocateContactIds(client: pg.PoolClient, count: number): Promise<number[]> {
  if (count === 0) return [];
  const result = await client.query<{ id: string }>(
    `SELECT nextval(pg_get_serial_sequence('contacts', 'id')) AS id FROM generate_series(1, $1)`,
    [count],
  );
  return result.rows.map((r) => Number(r.id));
}

async function phonesTaken(client: pg.PoolClient, query: string, params: unknown[]): Promise<Set<string>> {
  const result = await client.query<{ phone: string }>(query, params);
  return new Set(result.rows.map((r) => r.phone));
}

/**
 * Inserts the batch's phones into the group (first row of the batch owning each phone) and keeps
 * the rows that got at least one phone in: one round trip instead of a lookup then an insert.
 * The group row lock taken by writeBatch makes this race-free between imports.
 */
async function claimGroupPhones(client: pg.PoolClient, groupId: string, rows: ValidBatchRow[]) {
  const ids = await allocateContactIds(client, rows.length);
  const phones: string[] = [];
  const owners: number[] = [];
  const ownerOf = new Map<string, number>();
  rows.forEach((row, i) => {
    for (const phone of row.contact.phones) {
      if (ownerOf.has(phone)) continue;
      ownerOf.set(phone, ids[i]);
      phones.push(phone);
      owners.push(ids[i]);
    }
  });
  const inserted = await client.query<{ contact_id: string }>(
    `INSERT INTO group_phones (group_id, phone, contact_id)
     SELECT $1, p, c FROM unnest($2::text[], $3::bigint[]) AS t(p, c) ON CONFLICT DO NOTHING RETURNING contact_id`,
    [groupId, phones, owners],
  );
  const winners = new Set(inserted.rows.map((r) => Number(r.contact_id)));
  const kept: (ValidBatchRow & { id: number })[] = [];
  const duplicates: RejectedBatchRow[] = [];
  rows.forEach((row, i) => {
    if (winners.has(ids[i])) kept.push({ ...row, id: ids[i] });
    else duplicates.push({ line: row.line, raw: row.raw, reasons: [duplicate(row.contact.phones)] });
  });
  return { kept, duplicates };
}

async function claimCompanyPhones(client: pg.PoolClient, tenantId: string, rows: ValidBatchRow[]) {
  const phones = [...new Set(rows.flatMap((r) => r.contact.phones))];
  const taken = await phonesTaken(
    client,
    `SELECT DISTINCT p AS phone FROM company_contacts, unnest(phones) AS p
      WHERE tenant_id = $1 AND phones && $2::text[] AND p = ANY($2::text[])`,
    [tenantId, phones],
  );
  return claimPhones(rows, taken, { exclusive: true });
}

/** Marks the import finished (or failed) and stamps its times. */
export async function finishImportRow(db: Kysely<Database>, importId: string, status: 'completed' | 'failed' | 'cancelled', error?: string) {
  await db
    .updateTable('imports')
    .set({ status, error: error ?? null, finished_at: sql`now()` })
    .where('id', '=', importId)
    .where('status', 'in', ['pending', 'running'])
    .execute();
}
