import { describe, expect, it } from 'vitest';
import { GroupPhoneCache } from '../../src/activities/imports/group-phones';
import { PhoneSet } from '../../src/activities/imports/phone-set';

describe('PhoneSet', () => {
  it('answers membership exactly across growth', () => {
    const set = new PhoneSet();
    const phones = Array.from({ length: 50_000 }, (_, i) => String(5511900000000 + i * 7919));
    for (const phone of phones) expect(set.add(phone)).toBe(true);
    expect(set.size).toBe(phones.length);
    for (const phone of phones) expect(set.has(phone)).toBe(true);
    expect(set.add(phones[123])).toBe(false);
    expect(set.has('5511900000001')).toBe(false);
    expect(set.size).toBe(phones.length);
  });

  it('holds Brazilian phones of both lengths and any other digits apart, 0 of a table included', () => {
    const set = new PhoneSet();
    const phones = ['550000000000', '5500000000000', '554734322422', '5548998288774', '4834322422', '12345678901234', '1', '5600000000000'];
    for (const phone of phones) expect(set.add(phone)).toBe(true);
    for (const phone of phones) expect([set.has(phone), set.add(phone)]).toEqual([true, false]);
    expect(set.size).toBe(phones.length);
    for (const phone of ['554734322423', '5548998288775', '48343224220', '0550000000000']) expect(set.has(phone)).toBe(false);
  });

  it('stays exact over millions of phones in few tables', () => {
    const set = new PhoneSet();
    let added = 0;
    for (let i = 0; i < 2_000_000; i++) if (set.addKey(13e14 + 5511900000000 + i * 37)) added++;
    expect(added).toBe(2_000_000);
    let again = 0;
    for (let i = 0; i < 2_000_000; i++) if (set.addKey(13e14 + 5511900000000 + i * 37)) again++;
    expect(again).toBe(0);
    expect([set.has(String(5511900000000 + 37 * 1_999_999)), set.has(String(5511900000000 + 1))]).toEqual([true, false]);
    expect(set.size).toBe(2_000_000);
  });

  it('tells a leading zero apart and refuses what is not a phone', () => {
    const set = new PhoneSet();
    set.add('5548998288774');
    expect(set.has('05548998288774')).toBe(false);
    expect(set.add('05548998288774')).toBe(true);
    expect(set.has('5548-99828')).toBe(false);
    expect(() => set.add('abc')).toThrow(/not a normalised phone/);
    expect(() => set.add('123456789012345')).toThrow(/not a normalised phone/);
  });
});

describe('GroupPhoneCache', () => {
  it('gives the set back only at the revision it was stored with, and keeps a few imports', () => {
    const cache = new GroupPhoneCache(2);
    const a = new PhoneSet();
    cache.set('import-a', 7, a);
    expect(cache.get('import-a', 7)).toBe(a);
    expect(cache.get('import-a', 8)).toBeUndefined();
    cache.set('import-b', 1, new PhoneSet());
    cache.set('import-c', 1, new PhoneSet());
    expect(cache.get('import-a', 7)).toBeUndefined();
    cache.forget('import-c');
    expect(cache.get('import-c', 1)).toBeUndefined();
    expect(cache.get('import-b', 1)).toBeDefined();
  });
});
