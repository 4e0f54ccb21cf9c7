/** The pure part of the contact CSV import (no Node I/O): safe to import from Temporal workflows. */
export { fileProblem, type FileProblem, type FileProblemCode } from './file-problem';
export {
  MAX_PHONES,
  TEMPLATE_HEADER,
  knownTarget,
  mapHeader,
  normalizeHeaderKey,
  templateCsv,
  type ColumnTarget,
  type HeaderColumn,
  type HeaderMap,
  type HeaderResult,
} from './header';
export * from './reject-reason';
export { FIELD_LIMITS, validateRow, type ImportedContact, type PhonePolicy, type RowResult } from './row';
export { RAW_PREVIEW_CHARS, RecordSplitter, type SplitRecord } from './splitter';
