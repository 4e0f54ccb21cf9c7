import { describe, expect, it } from 'vitest';
import {
  checkBrazilPhone,
  checkContactFilePhone,
  DDD_STATE,
  normalizePhone,
  stateOfPhone,
  validateBrazilPhone,
  withoutNinthDigit,
} from '../../src/domain/phone';

const IN_USE = [
  ...[11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38],
  ...[41, 42, 43, 44, 45, 46, 47, 48, 49, 51, 53, 54, 55, 61, 62, 63, 64, 65, 66, 67, 68, 69],
  ...[71, 73, 74, 75, 77, 79, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 92, 93, 94, 95, 96, 97, 98, 99],
].map(String);

const reasonOf = (raw: string) => {
  const check = validateBrazilPhone(raw);
  return check.ok ? 'ok' : check.reason;
};

describe('normalizePhone', () => {
  it('removes spaces, +, -, ., ( and )', () => {
    expect(normalizePhone('+55 (48) 99828-8774')).toBe('5548998288774');
    expect(normalizePhone('55.47.3432.2422')).toBe('554734322422');
    expect(normalizePhone('\u00a055 48 99828 8774\t')).toBe('5548998288774');
  });

  it('leaves other characters for the validator to report', () => {
    expect(normalizePhone('55 48 9982-877a')).toBe('55489982877a');
  });
});

describe('validateBrazilPhone', () => {
  it('accepts the manual examples', () => {
    expect(validateBrazilPhone('554734322422')).toEqual({ ok: true, phone: '554734322422', type: 'landline', ddd: '47' });
    expect(validateBrazilPhone('5548998288774')).toEqual({ ok: true, phone: '5548998288774', type: 'mobile', ddd: '48' });
  });

  it.each(['+55 (48) 99828-8774', '55 48 99828.8774', '(55)(48)998288774', ' 5548998288774 '])('accepts formatted mobile %j', (raw) => {
    expect(validateBrazilPhone(raw)).toMatchObject({ ok: true, phone: '5548998288774', type: 'mobile' });
  });

  it('accepts landlines starting with 2, 3, 4 and 5', () => {
    for (const first of '2345') expect(validateBrazilPhone(`5511${first}1234567`)).toMatchObject({ ok: true, type: 'landline' });
  });

  it('accepts every DDD in use, for mobiles and landlines', () => {
    for (const ddd of IN_USE) {
      expect(reasonOf(`55${ddd}998288774`)).toBe('ok');
      expect(reasonOf(`55${ddd}34322422`)).toBe('ok');
    }
  });

  it.each(['20', '23', '25', '26', '29', '30', '36', '39', '40', '50', '52', '56', '57', '58', '59', '60', '70', '72', '76', '78', '80', '90', '00', '10'])(
    'rejects DDD %s',
    (ddd) => {
      expect(reasonOf(`55${ddd}998288774`)).toBe('DDD');
      expect(reasonOf(`55${ddd}34322422`)).toBe('DDD');
    },
  );

  it.each([
    ['55 48 9982-877a', 'NON_DIGITS'],
    ['tel: 5548998288774', 'NON_DIGITS'],
    ['5548998288774 ramal 2', 'NON_DIGITS'],
    ['5,54899E+12', 'NON_DIGITS'],
    ['48998288774', 'DDI'], // a local number typed without 55
    ['4734322422', 'DDI'],
    ['048998288774', 'DDI'],
    ['1548998288774', 'DDI'],
    ['55489982887', 'LENGTH'],
    ['55489982887741', 'LENGTH'],
    ['123', 'LENGTH'],
    ['', 'LENGTH'],
    ['5548898288774', 'NINTH_DIGIT'], // 13 digits, 5th is not 9
    ['554898288774', 'NINTH_DIGIT'], // an old 8-digit mobile: 12 digits starting with 9
    ['554878288774', 'NINTH_DIGIT'],
    ['554714322422', 'LANDLINE_PREFIX'],
    ['554704322422', 'LANDLINE_PREFIX'],
  ])('%j → %s', (raw, reason) => {
    expect(reasonOf(raw)).toBe(reason);
  });

  it('explains each problem in Portuguese', () => {
    const check = validateBrazilPhone('5,54899E+12');
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.message).toMatch(/notação científica/);
    const ddd = validateBrazilPhone('5520998288774');
    if (!ddd.ok) expect(ddd.message).toBe('O DDD 20 não existe no Brasil.');
  });
});

describe('DDD_STATE and stateOfPhone', () => {
  it('covers exactly the DDDs in use', () => {
    expect(Object.keys(DDD_STATE).sort()).toEqual([...IN_USE].sort());
  });

  it.each([
    ['21', 'RJ'],
    ['22', 'RJ'],
    ['24', 'RJ'],
    ['27', 'ES'],
    ['28', 'ES'],
    ['85', 'CE'],
    ['88', 'CE'],
    ['67', 'MS'],
    ['11', 'SP'],
    ['19', 'SP'],
    ['61', 'DF'],
    ['47', 'SC'],
    ['55', 'RS'],
    ['99', 'MA'],
    ['92', 'AM'],
  ])('DDD %s is in %s', (ddd, uf) => {
    expect(DDD_STATE[ddd]).toBe(uf);
    expect(stateOfPhone(`55${ddd}998288774`)).toBe(uf);
  });

  it('has no state for an unknown DDD or a number without DDI', () => {
    expect(stateOfPhone('5520998288774')).toBeUndefined();
    expect(stateOfPhone('21998288774')).toBeUndefined();
  });
});

describe('withoutNinthDigit', () => {
  it('gives the 12-digit form WhatsApp may answer with', () => {
    expect(withoutNinthDigit('5548998288774')).toBe('554898288774');
  });

  it('leaves landlines and other numbers alone', () => {
    expect(withoutNinthDigit('554734322422')).toBe('554734322422');
    expect(withoutNinthDigit('554898288774')).toBe('554898288774');
  });
});

describe("checkBrazilPhone (the import's form of validateBrazilPhone)", () => {
  it('answers the normalised phone itself when valid, the same problem as validateBrazilPhone otherwise', () => {
    const inputs = [
      '5548998288774',
      '+55 (48) 99828-8774',
      '554734322422',
      '0048998288774',
      '055489982887',
      '5520998288774',
      '5548898288774',
      '554714322422',
      '55489982A8774',
      '5,54899E+12',
      '',
      ' ',
      '٥٥٤٨٩٩٨٢٨٨٧٧٤',
    ];
    for (const raw of inputs) {
      const check = validateBrazilPhone(raw);
      expect(checkBrazilPhone(raw)).toEqual(check.ok ? check.phone : check);
    }
    expect(checkBrazilPhone('+55 (48) 99828-8774')).toBe('5548998288774');
    // Leading zeros are digits like any other: no DDI, then the length.
    expect(checkBrazilPhone('0048998288774')).toMatchObject({ ok: false, reason: 'DDI' });
    expect(checkBrazilPhone('00554899828877')).toMatchObject({ ok: false, reason: 'LENGTH' });
    expect(checkBrazilPhone('٥٥٤٨٩٩٨٢٨٨٧٧٤')).toMatchObject({ ok: false, reason: 'NON_DIGITS' });
  });
});

describe('checkContactFilePhone', () => {
  it.each([
    ['(11) 98765-4321', '5511987654321'],
    ['11 98765-4321', '5511987654321'],
    ['(47) 3432-2422', '554734322422'],
    ['011 98765-4321', '5511987654321'],
    ['(011) 3432-2422', '551134322422'],
    ['0 21 11 98765-4321', '5511987654321'],
    ['+55 11 98765-4321', '5511987654321'],
    ['(55) 99876-5432', '5555998765432'],
    ['5548998288774', '5548998288774'],
  ])('reads %j as a Brazilian number: %s', (raw, phone) => {
    expect(checkContactFilePhone(raw)).toBe(phone);
  });

  it.each([
    ['(48) 9982-8877', 'NINTH_DIGIT'], // a mobile without its ninth digit, national or not
    ['(20) 98765-4321', 'DDD'],
    ['5520998288774', 'DDD'],
    ['1548998288774', 'DDI'],
    ['0048998288774', 'DDI'],
    ['999', 'LENGTH'],
    ['11 9876-abcd', 'NON_DIGITS'],
  ])('still refuses %j (%s)', (raw, reason) => {
    expect(checkContactFilePhone(raw)).toMatchObject({ ok: false, reason });
  });
});
