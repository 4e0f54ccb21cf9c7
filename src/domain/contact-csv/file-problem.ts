/**
 * Problems with a contact file as a whole: answered at once, before any import starts and
 * without creating anything. Codes are stable (clients switch on them); `detail` is plain pt-BR
 * for the supervisor who uploaded the file.
 */
export type FileProblemCode =
  | 'FILE_EMPTY'
  | 'FILE_BINARY'
  | 'HEADER_MISSING'
  | 'HEADER_TOO_LONG'
  | 'WRONG_SEPARATOR'
  | 'NAME_COLUMN_MISSING'
  | 'PHONE_COLUMN_MISSING'
  | 'HEADER_DUPLICATE_COLUMN'
  | 'NO_ROWS';

export interface FileProblem {
  code: FileProblemCode;
  detail: string;
  /** The header cells concerned, when there are some (duplicates, the cells split by `,`). */
  columns?: string[];
}

export const fileProblem = (code: FileProblemCode, detail: string, columns?: string[]): FileProblem =>
  columns === undefined ? { code, detail } : { code, detail, columns };
