import type { ImportedContact } from '../../domain/contact-csv/row';
import { duplicate, type RejectReason } from '../../domain/contact-csv/reject-reason';

/** One parsed batch of an import, in file order. */
export interface BatchRow {
  line: number;
  raw: string;
}

export interface ValidBatchRow extends BatchRow {
  contact: ImportedContact;
}

export interface RejectedBatchRow extends BatchRow {
  reasons: RejectReason[];
}

export interface Batch {
  valid: ValidBatchRow[];
  rejected: RejectedBatchRow[];
  /** Rows read so far, the physical line and byte offset just after the batch's last record. */
  rowsRead: number;
  checkpointLine: number;
  checkpointOffset: number;
}

export interface BatchOutcome {
  imported: number;
  rejected: number;
  /** The group's phones_revision after the batch (group imports). */
  revision?: number;
}

/**
 * Decides, in file order, which rows bring at least one phone that is new to the target.
 * `taken` are the phones already there before the batch. A row whose phones are all taken (by
 * the target or by an earlier row) is a DUPLICATE.
 *
 * With `exclusive` (company contacts, where a phone belongs to one contact of the tenant) a row
 * with any phone already taken is the DUPLICATE: it is the same person, and keeping it would put
 * one phone on two contacts (and their opt-outs).
 */
export function claimPhones(
  rows: ValidBatchRow[],
  taken: ReadonlySet<string>,
  options: { exclusive?: boolean } = {},
): { kept: ValidBatchRow[]; duplicates: RejectedBatchRow[]; firstOwner: Map<string, number> } {
  const firstOwner = new Map<string, number>();
  const kept: ValidBatchRow[] = [];
  const duplicates: RejectedBatchRow[] = [];
  const isTaken = (phone: string) => taken.has(phone) || firstOwner.has(phone);
  rows.forEach((row) => {
    const phones = row.contact.phones;
    if (options.exclusive) {
      const inUse = phones.filter(isTaken);
      if (inUse.length === 0) {
        for (const phone of phones) firstOwner.set(phone, kept.length);
        kept.push(row);
      } else duplicates.push({ line: row.line, raw: row.raw, reasons: [duplicate(inUse, 'company_contacts')] });
      return;
    }
    let claimed = false;
    for (const phone of phones) {
      if (isTaken(phone)) continue;
      firstOwner.set(phone, kept.length);
      claimed = true;
    }
    if (claimed) kept.push(row);
    else duplicates.push({ line: row.line, raw: row.raw, reasons: [duplicate(phones)] });
  });
  return { kept, duplicates, firstOwner };
}
