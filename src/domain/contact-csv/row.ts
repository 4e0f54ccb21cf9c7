/**
 * The rules for one data row of a contact file (contract: issue 3, "Import rules"). Pure code.
 */
import { checkContactFilePhone } from '../phone';
import type { HeaderColumn, HeaderMap } from './header';
import { columnCount, fieldTooLong, nameMissing, noPhone, phoneInvalid, type RejectReason } from './reject-reason';

/**
 * `reject_row` (the manual's "se o contato estiver com fones incorretos, ele não será importado"):
 * any filled phone that is invalid rejects the row. `drop_invalid` keeps the row with its valid
 * phones, as long as one is left.
 */
export type PhonePolicy = 'reject_row' | 'drop_invalid';

export interface ImportedContact {
  name: string;
  /** Normalized, without repeats, telefone1 first. */
  phones: string[];
  email?: string;
  document?: string;
  /** Custom columns by their header text (trimmed), empty cells included. */
  custom: Record<string, string>;
}

export type RowResult = { ok: true; contact: ImportedContact; droppedPhones?: RejectReason[] } | { ok: false; reasons: RejectReason[] };

/** Limits against absurd cells (a pasted document, a runaway quote), not against real data. */
export const FIELD_LIMITS = { name: 200, email: 254, document: 50, custom: 1000 } as const;

const cellOf = (record: readonly string[], column: HeaderColumn | undefined): string => (column === undefined ? '' : (record[column.index] ?? '').trim());

function checkLength(reasons: RejectReason[], column: HeaderColumn | undefined, value: string, max: number) {
  if (column !== undefined && value.length > max) reasons.push(fieldTooLong(column.label, max, value.length));
}

/**
 * Validates one record against the header. With a wrong number of cells the row is rejected with
 * COLUMN_COUNT and the cells are still checked by position, since a shifted phone says where
 * the stray `;` is.
 */
export function validateRow(record: readonly string[], header: HeaderMap, opts: { phonePolicy: PhonePolicy }): RowResult {
  const reasons: RejectReason[] = [];
  if (record.length !== header.width) reasons.push(columnCount(header.width, record.length));

  const name = cellOf(record, header.nameColumn);
  if (name === '') reasons.push(nameMissing());
  checkLength(reasons, header.nameColumn, name, FIELD_LIMITS.name);

  const phones: string[] = [];
  let invalid: RejectReason[] | undefined;
  let filled = 0;
  for (const column of header.phoneColumns) {
    const value = cellOf(record, column);
    if (value === '') continue;
    filled++;
    const check = checkContactFilePhone(value);
    if (typeof check !== 'string') (invalid ??= []).push(phoneInvalid(column.label, value, check.reason, check.message));
    else if (!phones.includes(check)) phones.push(check);
  }
  if (filled === 0) reasons.push(noPhone());
  else if (invalid && (opts.phonePolicy === 'reject_row' || phones.length === 0)) reasons.push(...invalid);

  const email = cellOf(record, header.emailColumn);
  checkLength(reasons, header.emailColumn, email, FIELD_LIMITS.email);
  const document = cellOf(record, header.documentColumn);
  checkLength(reasons, header.documentColumn, document, FIELD_LIMITS.document);

  const custom: Record<string, string> = {};
  for (const column of header.customColumns) {
    const value = cellOf(record, column);
    checkLength(reasons, column, value, FIELD_LIMITS.custom);
    // A column named "__proto__" must stay a plain field (defineProperty is much slower: only for it).
    if (column.label === '__proto__') Object.defineProperty(custom, column.label, { value, enumerable: true, writable: true, configurable: true });
    else custom[column.label] = value;
  }

  if (reasons.length > 0) return { ok: false, reasons };
  const contact: ImportedContact = { name, phones, custom };
  if (email !== '') contact.email = email;
  if (document !== '') contact.document = document;
  return invalid ? { ok: true, contact, droppedPhones: invalid } : { ok: true, contact };
}
