import { describe, expect, it } from 'vitest';
import { csvRow, formatCell, formatTenthsOfSecond } from '../../src/domain/reports/cells';

describe('report cells', () => {
  it('writes whole milliseconds as seconds rounded half away from zero on the exact value', () => {
    expect(formatCell(1150, 'seconds', 'pt-BR')).toBe('1,2');
    expect(formatCell(1150, 'seconds', 'iso')).toBe('1.2');
    expect(formatCell(1050, 'seconds', 'iso')).toBe('1.1');
    expect(formatCell(1149, 'seconds', 'iso')).toBe('1.1');
    expect(formatCell(0, 'seconds', 'pt-BR')).toBe('0,0');
    expect(formatCell(1_234_567, 'seconds', 'pt-BR')).toBe('1.234,6');
    expect(formatCell('999949', 'seconds', 'pt-BR')).toBe('999,9');
    expect(formatTenthsOfSecond(-1150, 'iso')).toBe('-1.2');
    expect(formatTenthsOfSecond(-40, 'iso')).toBe('0.0');
    expect(formatTenthsOfSecond(-1_234_550, 'pt-BR')).toBe('-1.234,6');
  });

  it('keeps fractional milliseconds (averages) on the decimal path', () => {
    expect(formatCell(1234.56, 'seconds', 'pt-BR')).toBe('1,2');
    expect(formatCell(1_234_560.4, 'seconds', 'iso')).toBe('1234.6');
  });

  it('writes a CSV line with formula-safe, quoted text and typed cells', () => {
    expect(csvRow(['=1+1', 'a;b', 1234, new Date('2026-12-02T17:05:00.123Z'), null], ['text', 'text', 'integer', 'datetime', 'seconds'], 'pt-BR')).toBe(
      '\'=1+1;"a;b";1.234;02/12/2026 14:05:00;\r\n',
    );
  });
});
