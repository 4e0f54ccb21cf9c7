/**
 * Most rows of a contact file are plain: no quotes, no control characters, valid UTF-8, every
 * phone already 55 + DDD + number, nothing near a length limit. Such a row is valid, and what
 * validateRow would make of it is known from its bytes alone: its cells go into the COPY row as
 * they are, with no string, no object and no re-encoding per row (the text path cost about half of
 * the worker's CPU in an import). Any other row takes the text path (see rows.ts), which decides
 * exactly as before; this scanner only says "plain" when the answer cannot differ.
 */
import type { HeaderMap } from '../../domain/contact-csv/header';
import { FIELD_LIMITS } from '../../domain/contact-csv/row';
import { isValidBrazilPhoneBytes } from '../../domain/phone';

const SEMI = 0x3b;
const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const TEXT = 0;
const SEPARATOR = 1;
const NOT_PLAIN = 2;
const MULTIBYTE = 3;
/** What each byte is to the scan: `"`, `\\` and control characters make a row not plain (the text path decides it). */
const BYTE_KIND = new Uint8Array(256);
for (let b = 0; b < 256; b++) BYTE_KIND[b] = b === SEMI ? SEPARATOR : b < SPACE || b === QUOTE || b === BACKSLASH ? NOT_PLAIN : b >= 0x80 ? MULTIBYTE : TEXT;

const continuation = (b: number) => (b & 0xc0) === 0x80;

/** Length of the well-formed UTF-8 sequence at `i` (before `end`), or 0: as isUtf8 judges (no overlong form, surrogate or code point past U+10FFFF). */
function utf8SequenceAt(b: Buffer, i: number, end: number): number {
  const lead = b[i];
  if (lead >= 0xc2 && lead <= 0xdf) return i + 1 < end && continuation(b[i + 1]) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    if (i + 2 >= end || !continuation(b[i + 1]) || !continuation(b[i + 2])) return 0;
    if ((lead === 0xe0 && b[i + 1] < 0xa0) || (lead === 0xed && b[i + 1] > 0x9f)) return 0;
    return 3;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (i + 3 >= end || !continuation(b[i + 1]) || !continuation(b[i + 2]) || !continuation(b[i + 3])) return 0;
    if ((lead === 0xf0 && b[i + 1] < 0x90) || (lead === 0xf4 && b[i + 1] > 0x8f)) return 0;
    return 4;
  }
  return 0;
}

/** UTF-8 lead bytes of the characters other than ASCII spaces that String#trim removes (U+00A0, U+1680, U+2000–U+205F, U+3000, U+FEFF). */
const isTrimmableLead = (b: number) => b === 0xc2 || b === 0xe1 || b === 0xe2 || b === 0xe3 || b === 0xef;

/** A plain row: the record's bytes, and where its cells (trimmed) and its phones (their cells, without repeats, telefone1 first) are in `cells`. */
export interface PlainRow {
  source: Buffer;
  start: number;
  end: number;
  cells: Int32Array;
  /**
   * Where the row's entries start in `cells`: per cell its start and end, then the count of its
   * phones and per phone its start and end (see phonesAt).
   */
  at: number;
}

export class PlainRowScanner {
  /** Int32 entries per row in `cells`. */
  readonly stride: number;
  private readonly width: number;
  readonly nameIndex: number;
  /** The email and document cells (-1 without such a column). */
  readonly emailIndex: number;
  readonly documentIndex: number;
  /** The custom columns' cells, and each one's `"key":` as JSON writes it. */
  readonly customIndexes: number[];
  readonly customKeys: Buffer[];
  private readonly phoneIndexes: number[];
  /** The most bytes of each cell that is sure to be within its limit in UTF-16 units (Infinity: no limit). */
  private readonly maxBytes: Float64Array;

  constructor(
    readonly header: HeaderMap,
    /** Longest record taken as plain: its text is kept whole as the row's raw text (see RAW_PREVIEW_CHARS). */
    private readonly maxRecordBytes: number,
  ) {
    this.width = header.width;
    this.nameIndex = header.nameColumn.index;
    this.phoneIndexes = header.phoneColumns.map((c) => c.index);
    this.emailIndex = header.emailColumn?.index ?? -1;
    this.documentIndex = header.documentColumn?.index ?? -1;
    this.customIndexes = header.customColumns.map((c) => c.index);
    this.customKeys = header.customColumns.map((c) => Buffer.from(`${JSON.stringify(c.label)}:`));
    this.stride = 2 * this.width + 1 + 2 * this.phoneIndexes.length;
    this.maxBytes = new Float64Array(this.width).fill(Number.POSITIVE_INFINITY);
    this.maxBytes[this.nameIndex] = FIELD_LIMITS.name;
    if (header.emailColumn) this.maxBytes[header.emailColumn.index] = FIELD_LIMITS.email;
    if (header.documentColumn) this.maxBytes[header.documentColumn.index] = FIELD_LIMITS.document;
    for (const column of header.customColumns) this.maxBytes[column.index] = FIELD_LIMITS.custom;
  }

  /** Where a row's phone count is in `cells`: its phones' ranges follow it. */
  phonesAt(at: number): number {
    return at + 2 * this.width;
  }

  /** Whether `source[start, end)` is a plain row; if so its cells are written at `cells[at …]`. */
  scan(source: Buffer, start: number, end: number, cells: Int32Array, at: number): boolean {
    if (end - start > this.maxRecordBytes) return false;
    let cell = 0;
    let cellStart = start;
    for (let i = start; i < end; i++) {
      const kind = BYTE_KIND[source[i]];
      if (kind === TEXT) continue;
      if (kind === SEPARATOR) {
        if (cell === this.width - 1 || !this.cell(source, cellStart, i, cell, cells, at)) return false;
        cell++;
        cellStart = i + 1;
      } else if (kind === NOT_PLAIN) return false;
      else {
        const length = utf8SequenceAt(source, i, end);
        if (length === 0) return false;
        i += length - 1;
      }
    }
    if (cell !== this.width - 1 || !this.cell(source, cellStart, end, cell, cells, at)) return false;
    return this.phones(source, cells, at);
  }

  /** Trims the cell (ASCII spaces; a cell that may start or end with another space is not plain) and checks its length. */
  private cell(source: Buffer, from: number, to: number, index: number, cells: Int32Array, at: number): boolean {
    while (from < to && source[from] === SPACE) from++;
    while (to > from && source[to - 1] === SPACE) to--;
    if (from < to) {
      if (isTrimmableLead(source[from])) return false;
      let last = to - 1;
      while (last > from && last > to - 4 && (source[last] & 0xc0) === 0x80) last--;
      if (isTrimmableLead(source[last])) return false;
    }
    if (to - from > this.maxBytes[index]) return false;
    if (index === this.nameIndex && to === from) return false;
    cells[at + 2 * index] = from;
    cells[at + 2 * index + 1] = to;
    return true;
  }

  /** Every filled phone cell valid as it is (at least one); repeats left out. */
  private phones(source: Buffer, cells: Int32Array, at: number): boolean {
    const countAt = this.phonesAt(at);
    let count = 0;
    for (const index of this.phoneIndexes) {
      const from = cells[at + 2 * index];
      const to = cells[at + 2 * index + 1];
      if (from === to) continue;
      if (!isValidBrazilPhoneBytes(source, from, to)) return false;
      let repeat = false;
      for (let k = countAt + 1; k < countAt + 1 + 2 * count && !repeat; k += 2) repeat = sameBytes(source, cells[k], cells[k + 1], from, to);
      if (!repeat) {
        cells[countAt + 1 + 2 * count] = from;
        cells[countAt + 2 + 2 * count] = to;
        count++;
      }
    }
    cells[countAt] = count;
    return count > 0;
  }
}

/** `b[from, to)` and `b[otherFrom, otherTo)` hold the same bytes (a JS loop: a dozen bytes, cheaper than Buffer#compare's call). */
function sameBytes(b: Buffer, otherFrom: number, otherTo: number, from: number, to: number): boolean {
  if (otherTo - otherFrom !== to - from) return false;
  for (let i = 0; i < to - from; i++) if (b[otherFrom + i] !== b[from + i]) return false;
  return true;
}
