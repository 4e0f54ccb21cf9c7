/**
 * A growing list of numbers kept outside the JavaScript heap (a Float64Array): a batch's per-row
 * numbers live until the batch is written, and as plain arrays the garbage collector would copy
 * them from generation to generation.
 */
export class NumberList {
  private values: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.values = new Float64Array(Math.max(capacity, 16));
  }

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  clear(): void {
    this.length = 0;
  }

  at(index: number): number {
    return this.values[index];
  }
}
