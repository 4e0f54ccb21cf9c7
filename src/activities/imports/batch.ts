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
}

/**
 * Decides, in file order, which rows bring at least one phone that is new to the target.
 * `taken` are the phones already there before the batch. A row whose phones are all taken (by
 * the target or by an earlier row) is a DUPLICATE.
 */
export function claimPhones(
  rows: ValidBatchRow[],
  taken: ReadonlySet<string>,
): { kept: ValidBatchRow[]; duplicates: RejectedBatchRow[]; firstOwner: Map<string, number> } {
  const firstOwner = new Map<string, number>();
  const kept: ValidBatchRow[] = [];
  const duplicates: RejectedBatchRow[] = [];
  rows.forEach((row) => {
    let claimed = false;
    for (const phone of row.contact.phones) {
      if (taken.has(phone) || firstOwner.has(phone)) continue;
      firstOwner.set(phone, kept.length);
      claimed = true;
    }
    if (claimed) kept.push(row);
    else
      duplicates.push({
        line: row.line,
        raw: row.raw,
        reasons: [duplicate(row.contact.phones)],
      });
  });
  return { kept, duplicates, firstOwner };
}
