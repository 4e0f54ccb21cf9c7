import { describe, expect, it } from 'vitest';
import { mapHeader, validateRow, FIELD_LIMITS, type HeaderMap, type RejectReason, type RowResult } from '../../src/domain/contact-csv';

const map = (cells: string[]): HeaderMap => {
  const mapped = mapHeader(cells);
  if (!mapped.ok) throw new Error(mapped.problem.detail);
  return mapped.header;
};
const header = map(['nome', 'telefone1', 'telefone2', 'telefone3', 'email', 'documento', 'Primeiro Nome', 'Link']);
const row = (cells: string[], phonePolicy: 'reject_row' | 'drop_invalid' = 'reject_row') => validateRow(cells, header, { phonePolicy });
const codes = (result: RowResult) => (result.ok ? [] : result.reasons.map((r) => r.code));
const reasons = (result: RowResult): RejectReason[] => (result.ok ? [] : result.reasons);

describe('validateRow', () => {
  it('imports a complete row, trimmed, with normalized phones', () => {
    expect(row([' Maria da Conceição ', '+55 (48) 99828-8774', '554734322422', '', ' maria@x.com ', '529.982.247-25', 'Maria', 'x'])).toEqual({
      ok: true,
      contact: {
        name: 'Maria da Conceição',
        phones: ['5548998288774', '554734322422'],
        email: 'maria@x.com',
        document: '529.982.247-25',
        custom: { 'Primeiro Nome': 'Maria', Link: 'x' },
      },
    });
  });

  it('reads phones written without the DDI as Brazilian numbers, one of each', () => {
    const result = row(['Rui', '(11) 98765-4321', '011 98765-4321', '(47) 3432-2422', '', '', '', '']);
    expect(result).toMatchObject({ ok: true, contact: { phones: ['5511987654321', '554734322422'] } });
  });

  it('leaves out empty email and document, keeps empty custom fields', () => {
    const result = row(['João', '5548998288774', '', '', '', '', '', '']);
    expect(result).toEqual({ ok: true, contact: { name: 'João', phones: ['5548998288774'], custom: { 'Primeiro Nome': '', Link: '' } } });
  });

  it('drops repeated phones within the row, keeping column order', () => {
    const result = row(['João', '554734322422', '5548998288774', '55 47 3432-2422', '', '', '', '']);
    expect(result.ok && result.contact.phones).toEqual(['554734322422', '5548998288774']);
  });

  it('keeps formula-like cells as data (exports neutralize them)', () => {
    const result = row(['=HYPERLINK("http://x","y")', '5548998288774', '', '', '', '', '@SUM(A1)', '=1+1']);
    expect(result.ok && result.contact.name).toBe('=HYPERLINK("http://x","y")');
    expect(result.ok && result.contact.custom).toEqual({ 'Primeiro Nome': '@SUM(A1)', Link: '=1+1' });
  });

  it('NAME_MISSING: a blank name', () => {
    expect(codes(row(['  ', '5548998288774', '', '', '', '', '', '']))).toEqual(['NAME_MISSING']);
  });

  it('NO_PHONE: no phone filled', () => {
    expect(codes(row(['João', '', ' ', '', '', '', '', '']))).toEqual(['NO_PHONE']);
  });

  it('PHONE_INVALID: with the column, the value and why', () => {
    expect(reasons(row(['João', '5548998288774', '5520998288774', '', '', '', '', '']))).toEqual([
      { code: 'PHONE_INVALID', column: 'telefone2', value: '5520998288774', why: 'DDD', message: 'Coluna "telefone2": O DDD 20 não existe no Brasil.' },
    ]);
  });

  it('lists every reason of a row', () => {
    const result = row(['', '4898288774', 'abc', '554714322422', '', '', '', '']);
    expect(reasons(result).map((r) => (r.code === 'PHONE_INVALID' ? `${r.column}:${r.why}` : r.code))).toEqual([
      'NAME_MISSING',
      'telefone1:NINTH_DIGIT',
      'telefone2:NON_DIGITS',
      'telefone3:LANDLINE_PREFIX',
    ]);
  });

  it('COLUMN_COUNT: too few or too many cells, still checking what is there', () => {
    expect(reasons(row(['João', '5548998288774']))).toEqual([expect.objectContaining({ code: 'COLUMN_COUNT', expected: 8, got: 2 })]);
    expect(codes(row(['João', 'Silva', '5548998288774', '', '', '', '', '', '']))).toEqual(['COLUMN_COUNT', 'PHONE_INVALID']);
  });

  it('FIELD_TOO_LONG: absurd name, email, document or custom cell', () => {
    const long = (n: number) => 'x'.repeat(n + 1);
    const result = row([
      long(FIELD_LIMITS.name),
      '5548998288774',
      '',
      '',
      long(FIELD_LIMITS.email),
      long(FIELD_LIMITS.document),
      long(FIELD_LIMITS.custom),
      '',
    ]);
    expect(reasons(result).map((r) => (r.code === 'FIELD_TOO_LONG' ? r.column : r.code))).toEqual(['nome', 'email', 'documento', 'Primeiro Nome']);
  });

  describe('phonePolicy', () => {
    const mixed = ['João', '5548998288774', '5548898288774', '', '', '', '', ''];

    it('reject_row (default): one invalid phone rejects the row', () => {
      expect(codes(row(mixed))).toEqual(['PHONE_INVALID']);
    });

    it('drop_invalid: keeps the row with its valid phones and says which were dropped', () => {
      const result = row(mixed, 'drop_invalid');
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.contact.phones).toEqual(['5548998288774']);
        expect(result.droppedPhones).toEqual([expect.objectContaining({ code: 'PHONE_INVALID', column: 'telefone2', why: 'NINTH_DIGIT' })]);
      }
    });

    it('drop_invalid: still needs one valid phone', () => {
      expect(codes(row(['João', '123', '5520998288774', '', '', '', '', ''], 'drop_invalid'))).toEqual(['PHONE_INVALID', 'PHONE_INVALID']);
      expect(codes(row(['João', '', '', '', '', '', '', ''], 'drop_invalid'))).toEqual(['NO_PHONE']);
    });
  });

  it('a column named __proto__ stays a plain custom field', () => {
    const odd = map(['nome', 'telefone1', '__proto__']);
    const result = validateRow(['João', '5548998288774', 'x'], odd, { phonePolicy: 'reject_row' });
    expect(result.ok && Object.keys(result.contact.custom)).toEqual(['__proto__']);
    expect(result.ok && Object.getPrototypeOf(result.contact.custom)).toBe(Object.prototype);
  });
});
