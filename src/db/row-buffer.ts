/**
 * The Buffer a COPY encoder writes its rows into: grown when a value needs more room, and kept
 * by `reset` for the next rows once these are sent.
 */
export abstract class RowBuffer {
  protected block: Buffer;
  protected pos = 0;

  constructor(bytes: number) {
    this.block = Buffer.allocUnsafe(bytes);
  }

  /** Bytes written so far (the offset where the next row starts). */
  get length(): number {
    return this.pos;
  }

  /** All that was written. */
  written(): Buffer {
    return this.block.subarray(0, this.pos);
  }

  /** Starts again from nothing, keeping the buffer (once what was written is sent). */
  reset(): void {
    this.pos = 0;
  }

  /** A field encoded once for the encoder (a value repeated on every row, such as the import's id). */
  encoded(field: Buffer): this {
    this.field(field.length);
    this.pos += field.copy(this.block, this.pos);
    return this;
  }

  /** Room for a field of up to `bytes` bytes, after whatever comes before it in the row. */
  protected abstract field(bytes: number): void;

  /** Room for `bytes` more bytes: a larger Buffer (twice as large at least) when they do not fit. */
  protected grow(bytes: number): void {
    if (this.pos + bytes <= this.block.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.block.length, this.pos + bytes));
    this.block.copy(grown, 0, 0, this.pos);
    this.block = grown;
  }
}
