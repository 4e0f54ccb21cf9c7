/**
 * The phones already in a contact group, held by the import that writes to it: the duplicate
 * check of every row is a lookup here instead of a round trip to an index in PostgreSQL.
 *
 * Phones are stored as numbers (a normalised Brazilian phone has 12 or 13 digits, well inside
 * 2^53) in an open-addressing table of doubles: two million phones take 32 MB, a Set of strings
 * would take several times that and feed the garbage collector.
 */
export class PhoneSet {
  private slots: Float64Array;
  private mask: number;
  size = 0;

  constructor(expected = 1024) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  has(phone: string): boolean {
    const key = phoneKey(phone);
    if (key === 0) return false;
    for (let i = hash(key) & this.mask; ; i = (i + 1) & this.mask) {
      const slot = this.slots[i];
      if (slot === key) return true;
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
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    return this.insert(key);
  }

  private insert(key: number): boolean {
    for (let i = hash(key) & this.mask; ; i = (i + 1) & this.mask) {
      const slot = this.slots[i];
      if (slot === key) return false;
      if (slot === 0) {
        this.slots[i] = key;
        this.size += 1;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    this.mask = this.slots.length - 1;
    this.size = 0;
    for (const key of old) if (key !== 0) this.insert(key);
  }
}

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

/** The phone a key was made from. */
export function phoneOfKey(key: number): string {
  const length = Math.floor(key / 1e14);
  return String(key - length * 1e14).padStart(length, '0');
}

function hash(key: number): number {
  const low = key >>> 0;
  const high = (key / 4294967296) >>> 0;
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
