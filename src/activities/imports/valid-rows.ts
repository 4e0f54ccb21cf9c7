import { BinaryCopyEncoder } from '../../db/binary-copy-encoder';
import { utf8Write } from '../../db/utf8';
import type { ImportedContact } from '../../domain/contact-csv/row';
import { NumberList } from './number-list';
import { phoneKey, phoneKeyOfBytes, phoneOfKey } from './phone-set';
import type { PlainRow, PlainRowScanner } from './plain-row';

/** Writes one contact as its table's binary COPY row (without the row's end). */
export type ContactRowWriter = (out: BinaryCopyEncoder, line: number, contact: ImportedContact) => void;
/** The same for a plain row, from its bytes. */
export type PlainRowWriter = (out: BinaryCopyEncoder, line: number, row: PlainRow, scanner: PlainRowScanner) => void;

/**
 * The valid rows of a batch, each already encoded as its binary COPY row, with its phones as keys (see
 * phoneKey). A batch waits in memory while the one before it is written: kept as objects, its
 * thousands of contacts would outlive the young generation and the garbage collector would copy
 * them, twice, into the old one. Which rows are stored is decided at write time, when their
 * phones are claimed.
 */
export class ValidRows {
  private readonly out: BinaryCopyEncoder;
  /**
   * The rows' texts (for a DUPLICATE rejection) as UTF-8, one after the other: a few read back, the
   * rest never, and as strings they would all be promoted to the old generation.
   */
  private raws: Buffer;
  private rawsLength = 0;
  /** Per row: its line, where its text ends, where its COPY row ends. */
  private readonly lines: NumberList;
  private readonly rawEnds: NumberList;
  private readonly rowEnds: NumberList;
  /** The rows' phones in file order, and per row where its phones end. */
  private readonly keys: NumberList;
  private readonly phoneEnds: NumberList;

  /** `capacity`: the rows expected (more may come). */
  constructor(
    private readonly writeRow: ContactRowWriter,
    capacity = 1024,
    private readonly writePlainRow?: PlainRowWriter,
  ) {
    // Sized for typical rows (about 200 bytes as COPY, 100 as text) so that few batches regrow.
    this.out = new BinaryCopyEncoder(capacity * 256);
    this.raws = Buffer.allocUnsafe(capacity * 128);
    this.lines = new NumberList(capacity);
    this.rawEnds = new NumberList(capacity);
    this.rowEnds = new NumberList(capacity);
    this.keys = new NumberList(2 * capacity);
    this.phoneEnds = new NumberList(capacity);
  }

  get length(): number {
    return this.lines.length;
  }

  /** Empties the rows for another batch, keeping the memory (once the COPY bytes are sent). */
  clear(): void {
    this.out.reset();
    this.rawsLength = 0;
    for (const list of [this.lines, this.rawEnds, this.rowEnds, this.keys, this.phoneEnds]) list.clear();
  }

  add(line: number, raw: string, contact: ImportedContact): void {
    this.writeRow(this.out, line, contact);
    this.out.endRow();
    this.rowEnds.push(this.out.length);
    for (const phone of contact.phones) this.keys.push(phoneKey(phone));
    this.phoneEnds.push(this.keys.length);
    this.lines.push(line);
    this.keepRaw(raw);
  }

  /** add, for a plain row (see PlainRowScanner): nothing of it becomes a string. */
  addPlain(line: number, row: PlainRow, scanner: PlainRowScanner): void {
    if (!this.writePlainRow) throw new Error('these rows take no plain rows');
    this.writePlainRow(this.out, line, row, scanner);
    this.out.endRow();
    this.rowEnds.push(this.out.length);
    const { source, cells } = row;
    const phonesAt = scanner.phonesAt(row.at);
    for (let k = phonesAt + 1; k < phonesAt + 1 + 2 * cells[phonesAt]; k += 2) this.keys.push(phoneKeyOfBytes(source, cells[k], cells[k + 1]));
    this.phoneEnds.push(this.keys.length);
    this.lines.push(line);
    this.room(row.end - row.start);
    this.rawsLength += source.copy(this.raws, this.rawsLength, row.start, row.end);
    this.rawEnds.push(this.rawsLength);
  }

  line(row: number): number {
    return this.lines.at(row);
  }

  raw(row: number): string {
    return this.raws.toString('utf8', row === 0 ? 0 : this.rawEnds.at(row - 1), this.rawEnds.at(row));
  }

  /** The row's phones as keys are `key(k)` for k in [phonesFrom(row), phonesTo(row)). */
  phonesFrom(row: number): number {
    return row === 0 ? 0 : this.phoneEnds.at(row - 1);
  }

  phonesTo(row: number): number {
    return this.phoneEnds.at(row);
  }

  key(k: number): number {
    return this.keys.at(k);
  }

  phones(row: number): string[] {
    const phones: string[] = [];
    for (let k = this.phonesFrom(row); k < this.phonesTo(row); k++) phones.push(phoneOfKey(this.keys.at(k)));
    return phones;
  }

  /** Room for `bytes` more bytes of row texts. */
  private room(bytes: number): void {
    if (this.rawsLength + bytes > this.raws.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.raws.length, this.rawsLength + bytes));
      this.raws.copy(grown, 0, 0, this.rawsLength);
      this.raws = grown;
    }
  }

  private keepRaw(raw: string): void {
    this.room(3 * raw.length);
    this.rawsLength += utf8Write(this.raws, raw, this.rawsLength);
    this.rawEnds.push(this.rawsLength);
  }

  /**
   * The COPY rows (binary) of the given rows (ascending) as one piece: moved together in place over the
   * rows left out (no new Buffer), which are gone afterwards.
   */
  copyBytes(rows: readonly number[]): Buffer {
    const all = this.out.written();
    let length = 0;
    for (let i = 0; i < rows.length; ) {
      const first = rows[i];
      let last = first;
      while (i + 1 < rows.length && rows[i + 1] === last + 1) last = rows[++i];
      i++;
      const start = first === 0 ? 0 : this.rowEnds.at(first - 1);
      const end = this.rowEnds.at(last);
      if (start !== length) all.copyWithin(length, start, end);
      length += end - start;
    }
    return all.subarray(0, length);
  }
}
