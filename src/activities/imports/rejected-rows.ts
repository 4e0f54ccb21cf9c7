import { CopyEncoder } from '../../db/copy-encoder';
import type { RejectReason } from '../../domain/contact-csv/reject-reason';
import { NumberList } from './number-list';

/** Writes one rejection as its COPY row (without the row's end). */
export type RejectionRowWriter = (out: CopyEncoder, line: number, raw: string, reasons: RejectReason[]) => void;

/**
 * The rejected rows of a batch, each already encoded as its COPY row: like ValidRows, so that
 * they wait for their write outside the JavaScript heap.
 */
export class RejectedRows {
  private readonly out = new CopyEncoder(undefined, 64 * 1024);
  private readonly lines = new NumberList(256);

  constructor(private readonly writeRow: RejectionRowWriter) {}

  get length(): number {
    return this.lines.length;
  }

  /** Empties the rows for another batch, keeping the memory (once the COPY bytes are sent). */
  clear(): void {
    this.out.reset();
    this.lines.clear();
  }

  add(line: number, raw: string, reasons: RejectReason[]): void {
    this.writeRow(this.out, line, raw, reasons);
    this.out.endRow();
    this.lines.push(line);
  }

  line(row: number): number {
    return this.lines.at(row);
  }

  /** The COPY rows of all the rejections, in the order they were added. */
  copyBytes(): Buffer {
    return this.out.written();
  }
}
