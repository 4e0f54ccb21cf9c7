/**
 * The phones already in a contact group, held by the import that writes to it: the duplicate
 * check of every row is a lookup here instead of a round trip to an index in PostgreSQL.
 *
 * Compact, because a group may hold millions: a Brazilian phone (55 + 10 or 11 digits) is a
 * number below 2^37; its top 5 bits pick one of 32 open-addressing tables of 32-bit words that
 * hold the rest, each grown on its own (so growing never holds two copies of the whole set):
 * 5.3–10.7 bytes per phone, as full as a table gets before it doubles (a table of doubles took
 * 16–32, a Set of strings several times that). Any other phone (never seen in practice:
 * groups hold normalised Brazilian phones) goes to a plain Set.
 */
export class PhoneSet {
  private readonly tables: Int32Array[] = [];
  /** Per table: the phones in it, and whether the word 0 (which marks an empty slot) is one. */
  private readonly counts = new Int32Array(PARTS);
  private readonly zeros = new Uint8Array(PARTS);
  private readonly others = new Set<number>();
  size = 0;

  constructor() {
    for (let t = 0; t < PARTS; t++) this.tables.push(new Int32Array(MIN_SLOTS));
  }

  has(phone: string): boolean {
    const key = phoneKey(phone);
    if (key === 0) return false;
    const c = compact(key);
    if (c < 0) return this.others.has(key);
    const t = (c * TABLE_OF) | 0;
    const word = (c - t * 4294967296) | 0;
    if (word === 0) return this.zeros[t] === 1;
    const table = this.tables[t];
    const mask = table.length - 1;
    for (let i = hash(word) & mask; ; i = (i + 1) & mask) {
      const slot = table[i];
      if (slot === word) return true;
      if (slot === 0) return false;
    }
  }

  /** Adds the phone; false when it was already there. */
  add(phone: string): boolean {
    const key = phoneKey(phone);
    if (key === 0) throw new Error(`not a normalised phone: ${phone}`);
    return this.addKey(key);
  }

  /** add, for a phone already made a key (see phoneKey). */
  addKey(key: number): boolean {
    const c = compact(key);
    if (c < 0) {
      if (this.others.has(key)) return false;
      this.others.add(key);
      this.size++;
      return true;
    }
    const t = (c * TABLE_OF) | 0;
    const word = (c - t * 4294967296) | 0;
    if (word === 0) {
      if (this.zeros[t] === 1) return false;
      this.zeros[t] = 1;
      this.size++;
      return true;
    }
    // At most 3/4 full: linear probing stays short.
    if (4 * (this.counts[t] + 1) > 3 * this.tables[t].length) this.grow(t);
    if (!insert(this.tables[t], word)) return false;
    this.counts[t]++;
    this.size++;
    return true;
  }

  private grow(t: number): void {
    const old = this.tables[t];
    const table = new Int32Array(old.length * 2);
    for (const word of old) if (word !== 0) insert(table, word);
    this.tables[t] = table;
  }
}

const PARTS = 32;
const MIN_SLOTS = 256;

/** Puts `word` (not 0) into the table; false when it was there. */
function insert(table: Int32Array, word: number): boolean {
  const mask = table.length - 1;
  for (let i = hash(word) & mask; ; i = (i + 1) & mask) {
    const slot = table[i];
    if (slot === word) return false;
    if (slot === 0) {
      table[i] = word;
      return true;
    }
  }
}

/**
 * A Brazilian phone's key below 2^37: 12 digits (55 + 10) as their last 10, 13 digits (55 + 11)
 * as 10^10 + their last 11; -1 for any other phone. Ranges of the key, no division (see phoneKey).
 */
function compact(key: number): number {
  if (key >= 13e14 + 55e11) return key < 13e14 + 56e11 ? key - (13e14 + 55e11) + 1e10 : -1;
  return key >= 12e14 + 55e10 && key < 12e14 + 56e10 ? key - (12e14 + 55e10) : -1;
}

/** 2^-32: a compact key times it is its table (exact: a power of two). */
const TABLE_OF = 1 / 4294967296;

/**
 * Digits only, up to 14 of them; anything else is not a key (0). The length is part of the key so
 * that a leading zero still tells two phones apart.
 */
export function phoneKey(phone: string): number {
  if (phone.length === 0 || phone.length > 14) return 0;
  let key = 0;
  for (let i = 0; i < phone.length; i++) {
    const digit = phone.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return 0;
    key = key * 10 + digit;
  }
  return key + phone.length * 1e14;
}

/** phoneKey of a phone given as its digits' bytes `b[start, end)` (digits only: the caller checked). */
export function phoneKeyOfBytes(b: Uint8Array, start: number, end: number): number {
  let key = 0;
  for (let i = start; i < end; i++) key = key * 10 + b[i] - 48;
  return key + (end - start) * 1e14;
}

/** The phone a key was made from. */
export function phoneOfKey(key: number): string {
  const length = Math.floor(key / 1e14);
  return String(key - length * 1e14).padStart(length, '0');
}

/** A 32-bit word's slot, well spread (Murmur3's finaliser). */
function hash(word: number): number {
  let h = Math.imul(word ^ (word >>> 16), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
