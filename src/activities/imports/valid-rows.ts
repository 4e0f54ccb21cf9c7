import { CopyEncoder } from '../../db/copy-encoder';
import type { ImportedContact } from '../../domain/contact-csv/row';
import { phoneKey, phoneOfKey } from './phone-set';

/** Writes one contact as its table's COPY row (without the row's end). */
export type ContactRowWriter = (out: CopyEncoder, line: number, contact: ImportedContact) => void;

/**
 * The valid rows of a batch, each already encoded as its COPY row, with its phones as keys (see
 * phoneKey). A batch waits in memory while the one before it is written: kept as objects, its
 * thousands of contacts would outlive the young generation and the garbage collector would copy
 * them, twice, into the old one. Which rows are stored is decided at write time, when their
 * phones are claimed.
 */
export class ValidRows {
  private readonly out = new CopyEncoder(undefined, 256 * 1024);
  /** Per row: its line, its text (for a DUPLICATE rejection), where its COPY row ends. */
  private readonly lines: number[] = [];
  private readonly raws: string[] = [];
  private readonly rowEnds: number[] = [];
  /** The rows' phones in file order, and per row where its phones end. */
  private readonly keys: number[] = [];
  private readonly phoneEnds: number[] = [];

  constructor(private readonly writeRow: ContactRowWriter) {}

  get length(): number {
    return this.lines.length;
  }

  add(line: number, raw: string, contact: ImportedContact): void {
    this.writeRow(this.out, line, contact);
    this.out.endRow();
    this.rowEnds.push(this.out.length);
    for (const phone of contact.phones) this.keys.push(phoneKey(phone));
    this.phoneEnds.push(this.keys.length);
    this.lines.push(line);
    this.raws.push(raw);
  }

  line(row: number): number {
    return this.lines[row];
  }

  raw(row: number): string {
    return this.raws[row];
  }

  /** The row's phones as keys are `key(k)` for k in [phonesFrom(row), phonesTo(row)). */
  phonesFrom(row: number): number {
    return row === 0 ? 0 : this.phoneEnds[row - 1];
  }

  phonesTo(row: number): number {
    return this.phoneEnds[row];
  }

  key(k: number): number {
    return this.keys[k];
  }

  phones(row: number): string[] {
    const phones: string[] = [];
    for (let k = this.phonesFrom(row); k < this.phonesTo(row); k++) phones.push(phoneOfKey(this.keys[k]));
    return phones;
  }

  /** The COPY bytes of the given rows (ascending), consecutive rows as one piece. */
  copyBytes(rows: readonly number[]): Buffer[] {
    const all = this.out.written();
    const pieces: Buffer[] = [];
    for (let i = 0; i < rows.length; ) {
      const first = rows[i];
      let last = first;
      while (i + 1 < rows.length && rows[i + 1] === last + 1) last = rows[++i];
      i++;
      pieces.push(all.subarray(first === 0 ? 0 : this.rowEnds[first - 1], this.rowEnds[last]));
    }
    return pieces;
  }
}
