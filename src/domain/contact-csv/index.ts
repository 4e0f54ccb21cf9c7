/**
 * The contact CSV import: file checks, encoding, header, row rules and the streaming parser.
 * This entry uses Node streams; workflow code imports `./rules` (the pure part) instead.
 */
export * from './rules';
export { checkFileStart, type FileStartOptions } from './file-check';
export { chunkDecoder, createDecoder, decodeRecord, detectEncoding, SNIFF_BYTES, type ChunkDecoder, type TextEncoding } from './encoding';
export {
  DEFAULT_MAX_LINE,
  parseContactCsv,
  parseContactCsvBatches,
  type ParseEvent,
  type ParseOptions,
} from './parser';
