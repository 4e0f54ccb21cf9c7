import { duplicate, type RejectReason } from '../../domain/contact-csv/reject-reason';
import type { RejectedRows } from './rejected-rows';
import type { ValidRows } from './valid-rows';

/** A row found to be a DUPLICATE when the batch is written. */
export interface RejectedBatchRow {
  line: number;
  raw: string;
  reasons: RejectReason[];
}

/** One parsed batch of an import, in file order. */
export interface Batch {
  valid: ValidRows;
  rejected: RejectedRows;
  /**
   * The committed checkpoint line the batch continues from: it is written only if the import's
   * checkpoint is still there (see writeBatch).
   */
  fromLine: number;
  /** Rows read so far, the physical line and byte offset just after the batch's last record. */
  rowsRead: number;
  checkpointLine: number;
  checkpointOffset: number;
}

/**
 * The import's checkpoint moved since this attempt read it: another attempt of the same import
 * (one that timed out but still ran, say) wrote these lines. Retryable: the retry resumes from
 * the checkpoint as it is now.
 */
export class CheckpointMovedError extends Error {
  constructor(importId: string, line: number) {
    super(`Import ${importId} is no longer at line ${line}: another attempt wrote past it.`);
  }
}

/**
 * The import was cancelled before this batch could commit: the batch is rolled back and the
 * import ends with the counts of the batches committed before the cancel.
 */
export class ImportCancelledError extends Error {
  constructor(importId: string) {
    super(`Import ${importId} was cancelled.`);
  }
}

export interface BatchOutcome {
  imported: number;
  rejected: number;
  /** The group's phones_revision after the batch (group imports). */
  revision?: number;
}

/**
 * Decides, in file order, which rows bring at least one phone that is new to the target (the
 * rows kept, by index). `taken` are the phones already there before the batch. A row whose phones
 * are all taken (by the target or by an earlier row) is a DUPLICATE.
 *
 * With `exclusive` (company contacts, where a phone belongs to one contact of the tenant) a row
 * with any phone already taken is the DUPLICATE: it is the same person, and keeping it would put
 * one phone on two contacts (and their opt-outs).
 */
export function claimPhones(
  rows: ValidRows,
  taken: ReadonlySet<string>,
  options: { exclusive?: boolean } = {},
): { kept: number[]; duplicates: RejectedBatchRow[] } {
  const claimed = new Set<string>();
  const kept: number[] = [];
  const duplicates: RejectedBatchRow[] = [];
  const isTaken = (phone: string) => taken.has(phone) || claimed.has(phone);
  for (let row = 0; row < rows.length; row++) {
    const phones = rows.phones(row);
    if (options.exclusive) {
      const inUse = phones.filter(isTaken);
      if (inUse.length === 0) {
        for (const phone of phones) claimed.add(phone);
        kept.push(row);
      } else duplicates.push({ line: rows.line(row), raw: rows.raw(row), reasons: [duplicate(inUse, 'company_contacts')] });
      continue;
    }
    let claimedOne = false;
    for (const phone of phones) {
      if (isTaken(phone)) continue;
      claimed.add(phone);
      claimedOne = true;
    }
    if (claimedOne) kept.push(row);
    else duplicates.push({ line: rows.line(row), raw: rows.raw(row), reasons: [duplicate(phones)] });
  }
  return { kept, duplicates };
}
