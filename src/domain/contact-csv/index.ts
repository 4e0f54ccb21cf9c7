/**
 * The contact CSV rules: file checks, encoding, header and row rules. The streaming reader that
 * applies them lives with the import activity (src/activities/imports/rows.ts), which needs byte
 * offsets to resume. This entry uses Node streams; workflow code imports `./rules` instead.
 */
export * from './rules';
export { checkFileStart, type FileStartOptions } from './file-check';
export { chunkDecoder, createDecoder, decodeRecord, detectEncoding, SNIFF_BYTES, type ChunkDecoder, type TextEncoding } from './encoding';
