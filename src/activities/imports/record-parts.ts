const EMPTY = Buffer.alloc(0);

/**
 * The bytes of the record being read, as ranges of the input chunks. A record inside one chunk
 * (almost all of them, quoted line breaks included) stays a range of that chunk: no Buffer per
 * record. Only a record split between chunks is copied into one Buffer.
 */
export class RecordParts {
  /** Earlier parts of a record split between chunks. */
  private earlier: Buffer[] = [];
  /** The latest part, as a range of its chunk (after `collapse`, the whole record). */
  source: Buffer = EMPTY;
  start = 0;
  end = 0;
  /** Bytes in all parts. */
  bytes = 0;

  add(chunk: Buffer, start: number, end: number): void {
    this.bytes += end - start;
    if (chunk === this.source && start === this.end) {
      this.end = end;
      return;
    }
    if (this.end > this.start) this.earlier.push(this.source.subarray(this.start, this.end));
    this.source = chunk;
    this.start = start;
    this.end = end;
  }

  /** Makes `source[start, end)` the whole record (copying only a record split between chunks). */
  collapse(): void {
    if (this.earlier.length === 0) return;
    this.source = Buffer.concat([...this.earlier, this.source.subarray(this.start, this.end)], this.bytes);
    this.earlier = [];
    this.start = 0;
    this.end = this.source.length;
  }

  clear(): void {
    if (this.earlier.length > 0) this.earlier = [];
    this.source = EMPTY;
    this.start = 0;
    this.end = 0;
    this.bytes = 0;
  }
}
