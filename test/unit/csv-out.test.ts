import { describe, expect, it } from 'vitest';
import { csvLine, safeCell } from '../../src/domain/csv-out';

describe('CSV cells for spreadsheets', () => {
  it.each(['=HYPERLINK("http://x","y")', '+5511', '-1+2', '@SUM(A1)', '\tcmd'])('neutralises formula-like %j', (value) => {
    expect(safeCell(value).replace(/^"/, '')).toMatch(/^'/);
  });

  it('quotes ; quotes and newlines', () => {
    expect(csvLine(['a;b', 'say "oi"', 'l1\nl2', null, 3])).toBe('"a;b";"say ""oi""";"l1\nl2";;3\r\n');
  });

  it('keeps ordinary text, accents included', () => {
    expect(safeCell('João da Conceição')).toBe('João da Conceição');
  });
});
