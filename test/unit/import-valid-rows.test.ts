import { describe, expect, it } from 'vitest';
import { claimPhones } from '../../src/activities/imports/batch';
import { phoneKey, phoneOfKey } from '../../src/activities/imports/phone-set';
import { RejectedRows } from '../../src/activities/imports/rejected-rows';
import { ValidRows } from '../../src/activities/imports/valid-rows';
import type { ImportedContact } from '../../src/domain/contact-csv/row';

const contact = (name: string, ...phones: string[]): ImportedContact => ({ name, phones, custom: {} });

/** Rows written as (line, name), enough to see which rows' bytes come out. */
function rowsOf(...contacts: ImportedContact[]): ValidRows {
  const rows = new ValidRows((out, line, c) => out.int4(line).text(c.name));
  contacts.forEach((c, i) => rows.add(i + 2, `${c.name};${c.phones.join(';')}`, c));
  return rows;
}

/** The binary COPY rows (line, name) expected: two fields, an int4 and a text. */
function expected(...rows: [number, string][]): Buffer {
  return Buffer.concat(
    rows.map(([line, name]) => {
      const head = Buffer.alloc(14);
      head.writeInt16BE(2, 0);
      head.writeInt32BE(4, 2);
      head.writeInt32BE(line, 6);
      head.writeInt32BE(Buffer.byteLength(name), 10);
      return Buffer.concat([head, Buffer.from(name)]);
    }),
  );
}

describe('valid rows of a batch', () => {
  it('gives back each row: line, text and phones, leading zeros included', () => {
    const rows = rowsOf(contact('Ana', '5548998288774', '554734322422'), contact('Zé', '0048998288774'), contact('Bia'));
    expect(rows.length).toBe(3);
    expect([rows.line(1), rows.raw(1)]).toEqual([3, 'Zé;0048998288774']);
    expect(rows.phones(0)).toEqual(['5548998288774', '554734322422']);
    expect(rows.phones(1)).toEqual(['0048998288774']);
    expect(rows.phones(2)).toEqual([]);
  });

  it('gives the COPY bytes of the rows asked for in one piece, the others left out', () => {
    const batch = () => rowsOf(...['a', 'b', 'c', 'd', 'e'].map((n) => contact(n, '5548998288774')));
    expect(batch().copyBytes([0, 1, 3, 4])).toEqual(expected([2, 'a'], [3, 'b'], [5, 'd'], [6, 'e']));
    expect(batch().copyBytes([2])).toEqual(expected([4, 'c']));
    expect(batch().copyBytes([1, 4])).toEqual(expected([3, 'b'], [6, 'e']));
    expect(batch().copyBytes([]).length).toBe(0);
  });

  it('keeps every row whole when they outgrow the first buffer', () => {
    const names = Array.from({ length: 3000 }, (_, i) => `Conceição ${i} ${'x'.repeat(i % 300)}`);
    const rows = rowsOf(...names.map((n) => contact(n, '5548998288774')));
    const all = rows.copyBytes(names.map((_, i) => i));
    expect(all).toEqual(expected(...names.map((n, i): [number, string] => [i + 2, n])));
  });
});

describe('batches used again', () => {
  it('valid rows cleared for another batch hold only the new rows', () => {
    const rows = rowsOf(...Array.from({ length: 40 }, (_, i) => contact(`Conceição ${i}`, `55489982887${String(i).padStart(2, '0')}`)));
    rows.clear();
    expect(rows.length).toBe(0);
    rows.add(7, 'Zé;0048998288774', contact('Zé', '0048998288774'));
    expect([rows.length, rows.line(0), rows.raw(0), rows.phones(0)]).toEqual([1, 7, 'Zé;0048998288774', ['0048998288774']]);
    expect(rows.copyBytes([0])).toEqual(expected([7, 'Zé']));
  });

  it('rejected rows cleared for another batch hold only the new rows', () => {
    const rejected = new RejectedRows((out, line, raw) => out.number(line).text(raw));
    rejected.add(2, 'a\tb', []);
    rejected.clear();
    expect(rejected.copyBytes().length).toBe(0);
    rejected.add(3, 'c', []);
    expect([rejected.length, rejected.line(0)]).toEqual([1, 3]);
    expect(rejected.copyBytes().toString()).toBe('3\tc\n');
  });
});

describe('phone keys', () => {
  it('turn back into the same phone, leading zeros and all', () => {
    for (const phone of ['5548998288774', '554734322422', '0048998288774', '0', '00000000000000', '99999999999999']) {
      expect(phoneOfKey(phoneKey(phone))).toBe(phone);
    }
    expect(phoneKey('0048998288774')).not.toBe(phoneKey('48998288774'));
  });
});

describe('claiming phones in file order', () => {
  const batch = rowsOf(
    contact('Ana', '5548998288774'),
    contact('Ana de novo', '5548998288774'),
    contact('Bia', '5548998288774', '554734322422'),
    contact('Caio', '5511987654321'),
  );

  it('keeps a row that brings one new phone; one with none new is a DUPLICATE naming its phones', () => {
    const { kept, duplicates } = claimPhones(batch, new Set(['5511987654321']));
    expect(kept).toEqual([0, 2]);
    expect(duplicates.map((d) => [d.line, d.raw, d.reasons[0]])).toEqual([
      [3, 'Ana de novo;5548998288774', expect.objectContaining({ code: 'DUPLICATE', phones: ['5548998288774'] })],
      [5, 'Caio;5511987654321', expect.objectContaining({ code: 'DUPLICATE', phones: ['5511987654321'] })],
    ]);
  });

  it('exclusive (company contacts): any phone taken makes the row a DUPLICATE naming those phones', () => {
    const { kept, duplicates } = claimPhones(batch, new Set(), { exclusive: true });
    expect(kept).toEqual([0, 3]);
    expect(duplicates.map((d) => [d.line, d.reasons[0]])).toEqual([
      [3, expect.objectContaining({ code: 'DUPLICATE', phones: ['5548998288774'] })],
      [4, expect.objectContaining({ code: 'DUPLICATE', phones: ['5548998288774'] })],
    ]);
  });
});
