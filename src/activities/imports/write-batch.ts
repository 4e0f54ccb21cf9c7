import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { COMPANY_PHONES_LOCK_SQL } from '../../db/company-contacts';
import { uuidField, type BinaryCopyEncoder } from '../../db/binary-copy-encoder';
import { copyBinaryRows, copyBytes } from '../../db/copy';
import { encodedText } from '../../db/copy-encoder';
import type { Database } from '../../db/schema';
import { textKey } from '../../domain/text-key';
import { duplicate } from '../../domain/contact-csv/reject-reason';
import type { ImportedContact } from '../../domain/contact-csv/row';
import type { PhoneSet } from './phone-set';
import { CheckpointMovedError, claimPhones, ImportCancelledError, type Batch, type BatchOutcome, type RejectedBatchRow } from './batch';
import type { RejectionRowWriter } from './rejected-rows';
import type { ContactRowWriter, PlainRowWriter, ValidRows } from './valid-rows';

export interface ImportTarget {
  importId: string;
  tenantId: string;
  /** Set for a contact group import; unset for company contacts. */
  groupId: string | null;
  /** The phones already in the group (a group import holds them while it writes). */
  phones?: PhoneSet;
}

/**
 * The target table's binary COPY row for a valid contact: encoded as the row is parsed (see
 * ValidRows). Binary, so that PostgreSQL parses no uuid, array or escaped text.
 */
export function contactRowWriter(target: ImportTarget): ContactRowWriter {
  const importId = uuidField(target.importId);
  if (target.groupId) {
    const groupId = uuidField(target.groupId);
    return (out, line, contact) => contactFields(out.encoded(groupId).text(contact.name), contact).encoded(importId).int4(line);
  }
  const tenantId = uuidField(target.tenantId);
  return (out, line, contact) =>
    contactFields(out.encoded(tenantId).text(contact.name).text(textKey(contact.name)), contact)
      .encoded(importId)
      .int4(line);
}

/** contactRowWriter for a plain row (group imports): its cells' bytes go into the COPY row as they are. */
export function plainRowWriter(target: ImportTarget): PlainRowWriter {
  if (!target.groupId) throw new Error('plain rows are written for group imports');
  const groupId = uuidField(target.groupId);
  const importId = uuidField(target.importId);
  return (out, line, row, scanner) => {
    const { source, cells, at } = row;
    const phonesAt = scanner.phonesAt(at);
    const email = at + 2 * scanner.emailIndex;
    const document = at + 2 * scanner.documentIndex;
    out
      .encoded(groupId)
      .textBytes(source, cells[at + 2 * scanner.nameIndex], cells[at + 2 * scanner.nameIndex + 1])
      .textArrayBytes(source, cells, phonesAt + 1, cells[phonesAt]);
    if (scanner.emailIndex < 0) out.null();
    else out.optionalTextBytes(source, cells[email], cells[email + 1]);
    if (scanner.documentIndex < 0) out.null();
    else out.optionalTextBytes(source, cells[document], cells[document + 1]);
    out.jsonbPlainRecord(scanner.customKeys, source, cells, at, scanner.customIndexes).encoded(importId).int4(line);
  };
}

/** The COPY row of a rejection. */
export function rejectionRowWriter(target: ImportTarget): RejectionRowWriter {
  const importId = encodedText(target.importId);
  return (out, line, raw, reasons) => out.encoded(importId).number(line).text(raw).text(JSON.stringify(reasons));
}

const GROUP_CONTACT_COLUMNS = ['group_id', 'name', 'phones', 'email', 'document', 'custom', 'import_id', 'line_no'];
const COMPANY_CONTACT_COLUMNS = ['tenant_id', 'name', 'name_key', 'phones', 'email', 'document', 'custom', 'import_id', 'line_no'];

/** phones, email, document, custom: the columns both contact tables share. */
const contactFields = (out: BinaryCopyEncoder, contact: ImportedContact) =>
  out.textArray(contact.phones).optionalText(contact.email).optionalText(contact.document).jsonb(contact.custom);

/**
 * Writes one batch in one transaction: contacts, their phones, rejections, and the import's
 * counters and checkpoint. A crash before COMMIT leaves nothing of the batch, and the resumed import
 * starts after the last committed checkpoint: no row lost, none written twice.
 *
 * The checkpoint moves only from where the batch started (`fromLine`), under the import row's lock:
 * of two attempts writing the same lines, the second finds it moved and rolls back
 * (CheckpointMovedError). It also commits only while the import is not cancelled
 * (ImportCancelledError). That keeps one contact per (import, line) without a unique index on
 * them, which cost about 12% of PostgreSQL's CPU in an import.
 *
 * Round trips are few (each one leaves the backend idle while the worker parses): the start of the
 * transaction with its lock is one, each COPY one, and the counters, the checkpoint and COMMIT one.
 * The commit does not wait for its WAL flush (synchronous_commit off): a batch is all or nothing
 * either way, so a server crash can only take back the last batches committed, whole, with their
 * checkpoint, and the import resumes before them, as after a crash of the worker.
 */
export async function writeBatch(client: pg.PoolClient, target: ImportTarget, batch: Batch): Promise<BatchOutcome> {
  const importId = sqlUuid(target.importId);
  // A group's phones are claimed in the importer's own set (the import holds the group's import
  // lock: nothing else claims them), so before the transaction, keeping it short.
  const claims = target.groupId ? claimGroupPhones(requiredPhones(target), batch.valid) : undefined;
  await client.query(`BEGIN; SET LOCAL synchronous_commit TO off`);
  try {
    let kept: number[];
    let duplicates: RejectedBatchRow[];
    let revision: number | undefined;
    let counters: string;
    if (target.groupId && claims) {
      const groupId = sqlUuid(target.groupId);
      // The group's row lock orders this batch with edits made through the API.
      const group = await client.query<{ phones_revision: string }>(`SELECT phones_revision FROM contact_groups WHERE id = ${groupId} FOR UPDATE`);
      ({ kept, duplicates } = claims);
      await copyBinaryRows(client, 'contacts', GROUP_CONTACT_COLUMNS, batch.valid.copyBytes(kept));
      revision = Number(group.rows[0].phones_revision) + 1;
      counters = `UPDATE contact_groups SET contact_count = contact_count + ${kept.length}, phones_revision = ${revision} WHERE id = ${groupId};`;
    } else {
      // Likewise one writer of the tenant's company-contact phones (imports and the API alike).
      await client.query(COMPANY_PHONES_LOCK_SQL, [target.tenantId]);
      ({ kept, duplicates } = await claimCompanyPhones(client, target.tenantId, batch.valid));
      await copyBinaryRows(client, 'company_contacts', COMPANY_CONTACT_COLUMNS, batch.valid.copyBytes(kept));
      counters = '';
    }

    // The batch's own rejections, then its duplicates.
    const rejected = batch.rejected;
    for (const row of duplicates) rejected.add(row.line, row.raw, row.reasons);
    await copyBytes(client, 'import_rejections', ['import_id', 'line_no', 'raw', 'reasons'], [rejected.copyBytes()]);
    const moved = sqlInteger(batch.fromLine);
    try {
      await client.query(
        `${counters}
         DO $$ BEGIN
           UPDATE imports SET rows_read = ${sqlInteger(batch.rowsRead)}, rows_imported = rows_imported + ${kept.length},
             rows_rejected = rows_rejected + ${rejected.length}, checkpoint_line = ${sqlInteger(batch.checkpointLine)},
             checkpoint_offset = ${sqlInteger(batch.checkpointOffset)}
            WHERE id = ${importId} AND checkpoint_line = ${moved} AND cancel_requested_at IS NULL;
           IF NOT FOUND THEN RAISE EXCEPTION 'checkpoint moved' USING ERRCODE = '${CHECKPOINT_MOVED}'; END IF;
         END $$;
         COMMIT`,
      );
    } catch (error) {
      if ((error as { code?: string }).code !== CHECKPOINT_MOVED) throw error;
      await client.query('ROLLBACK');
      // A cancel committed first (it takes the import row's lock too): nothing of this batch stays.
      const cancelled = await client.query(`SELECT 1 FROM imports WHERE id = ${importId} AND cancel_requested_at IS NOT NULL`);
      throw cancelled.rowCount ? new ImportCancelledError(target.importId) : new CheckpointMovedError(target.importId, batch.fromLine);
    }
    return { imported: kept.length, rejected: rejected.length, revision };
  } catch (error) {
    if (!(error instanceof ImportCancelledError || error instanceof CheckpointMovedError)) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The SQLSTATE a batch raises when the import's checkpoint is no longer where the batch started. */
const CHECKPOINT_MOVED = 'OM001';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A uuid as an SQL literal: checked, as the batch's statements go as one text (no parameters). */
function sqlUuid(id: string): string {
  if (!UUID.test(id)) throw new Error(`not a uuid: ${id}`);
  return `'${id}'`;
}

function sqlInteger(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
}

function requiredPhones(target: ImportTarget): PhoneSet {
  if (!target.phones) throw new Error('a group import writes with the set of the group phones');
  return target.phones;
}

async function phonesTaken(client: pg.PoolClient, query: string, params: unknown[]): Promise<Set<string>> {
  const result = await client.query<{ phone: string }>(query, params);
  return new Set(result.rows.map((r) => r.phone));
}

/**
 * Claims the batch's phones in the group's phone set, in file order: a row is kept when it brings
 * at least one phone new to the group, else it is a DUPLICATE. The set is updated as it goes; if
 * the batch then fails to commit, the caller drops the set and loads it again.
 */
function claimGroupPhones(phones: PhoneSet, rows: ValidRows) {
  const kept: number[] = [];
  const duplicates: RejectedBatchRow[] = [];
  for (let row = 0; row < rows.length; row++) {
    let claimed = false;
    for (let k = rows.phonesFrom(row); k < rows.phonesTo(row); k++) if (phones.addKey(rows.key(k))) claimed = true;
    if (claimed) kept.push(row);
    else duplicates.push({ line: rows.line(row), raw: rows.raw(row), reasons: [duplicate(rows.phones(row))] });
  }
  return { kept, duplicates };
}

async function claimCompanyPhones(client: pg.PoolClient, tenantId: string, rows: ValidRows) {
  const phones = new Set<string>();
  for (let row = 0; row < rows.length; row++) for (const phone of rows.phones(row)) phones.add(phone);
  const taken = await phonesTaken(
    client,
    `SELECT DISTINCT p AS phone FROM company_contacts, unnest(phones) AS p
      WHERE tenant_id = $1 AND phones && $2::text[] AND p = ANY($2::text[])`,
    [tenantId, [...phones]],
  );
  return claimPhones(rows, taken, { exclusive: true });
}

/**
 * Marks the import finished (or failed), stamps its times, and drops the file's bytes: nothing
 * reads them once the import is over (its rejected rows keep their own lines), and a contact list
 * is personal data not to be kept without a reason. The upload's name and size stay for history.
 */
export async function finishImportRow(
  db: Kysely<Database>,
  importId: string,
  status: 'completed' | 'failed' | 'cancelled',
  error?: string,
): Promise<'completed' | 'failed' | 'cancelled'> {
  return db.transaction().execute(async (trx) => {
    // A cancel accepted while the last batch committed still ends the import cancelled.
    const finished = await trx
      .updateTable('imports')
      .set({
        status: status === 'completed' ? sql<'completed' | 'cancelled'>`CASE WHEN cancel_requested_at IS NULL THEN 'completed' ELSE 'cancelled' END` : status,
        error: error ?? null,
        finished_at: sql`now()`,
      })
      .where('id', '=', importId)
      .where('status', 'in', ['pending', 'running'])
      .returning(['upload_id', 'status', 'group_id', 'creates_group'])
      .executeTakeFirst();
    if (finished?.upload_id) {
      const upload = await trx.selectFrom('uploads').select('state').where('id', '=', finished.upload_id).executeTakeFirst();
      await trx.deleteFrom('upload_chunks').where('upload_id', '=', finished.upload_id).execute();
      // A group created with an upload that was cut off: the client was refused, so the group goes
      // (its rows were taken back by the import; its import history goes with it).
      if (upload?.state === 'abandoned' && finished.creates_group && finished.group_id) {
        await trx.deleteFrom('contacts').where('group_id', '=', finished.group_id).execute();
        await trx.deleteFrom('contact_groups').where('id', '=', finished.group_id).execute();
      }
    }
    if (finished) return finished.status as 'completed' | 'failed' | 'cancelled';
    const row = await trx.selectFrom('imports').select('status').where('id', '=', importId).executeTakeFirstOrThrow();
    return row.status as 'completed' | 'failed' | 'cancelled';
  });
}

/**
 * Takes back everything a group import wrote (its upload was cut off, so the file is not the one
 * the user meant): its contacts and its rejections, in one transaction with the group's count. The
 * import row keeps its history, with nothing counted. (Only group imports start on a file still
 * arriving, so only they can need this.)
 */
export async function rollBackGroupImport(client: pg.PoolClient, importId: string, groupId: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT 1 FROM contact_groups WHERE id = $1 FOR UPDATE', [groupId]);
    const removed = await client.query('DELETE FROM contacts WHERE group_id = $1 AND import_id = $2', [groupId, importId]);
    await client.query('UPDATE contact_groups SET contact_count = contact_count - $2, phones_revision = phones_revision + 1 WHERE id = $1', [
      groupId,
      removed.rowCount ?? 0,
    ]);
    await client.query('DELETE FROM import_rejections WHERE import_id = $1', [importId]);
    await client.query('UPDATE imports SET rows_read = 0, rows_imported = 0, rows_rejected = 0 WHERE id = $1', [importId]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
