import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { checkFileStart, SNIFF_BYTES } from '../../src/domain/contact-csv';

const code = (content: string | Buffer, complete = true) => checkFileStart(typeof content === 'string' ? Buffer.from(content) : content, { complete })?.code;

describe('checkFileStart', () => {
  it('accepts a good file (UTF-8, BOM, Windows-1252, CRLF, LF)', () => {
    expect(code('nome;telefone1\nJoão;5548998288774\n')).toBeUndefined();
    expect(code('\uFEFFnome;telefone1\r\nJoão;5548998288774\r\n')).toBeUndefined();
    expect(code(iconv.encode('Nome;Telefone1\r\nJoão;5548998288774\r\n', 'windows-1252'))).toBeUndefined();
  });

  it('FILE_EMPTY', () => {
    expect(code('')).toBe('FILE_EMPTY');
    expect(code('\uFEFF')).toBe('FILE_EMPTY');
  });

  it('HEADER_MISSING: only blank lines', () => {
    expect(code('\n\r\n   \n')).toBe('HEADER_MISSING');
    expect(code(';;;\n;;\n')).toBe('HEADER_MISSING');
  });

  it('HEADER_TOO_LONG: no line break in the first bytes', () => {
    expect(code('x'.repeat(SNIFF_BYTES + 10), false)).toBe('HEADER_TOO_LONG');
  });

  it.each([
    ['nome,telefone1,email\nJoão,5548998288774,a@b.c\n', 'vírgula'],
    ['"nome","telefone1"\n"João","5548998288774"\n', 'vírgula'],
    ['Nome\tTelefone1\nJoão\t5548998288774\n', 'tabulação'],
  ])('WRONG_SEPARATOR: %j says use ;', (content, sep) => {
    const problem = checkFileStart(Buffer.from(content), { complete: true });
    expect(problem?.code).toBe('WRONG_SEPARATOR');
    expect(problem?.detail).toContain(sep);
    expect(problem?.detail).toContain('use ";"');
  });

  it('a header with commas inside ; columns is not a separator problem', () => {
    expect(code('nome;telefone1;"Cidade, UF"\nJoão;5548998288774;x\n')).toBeUndefined();
  });

  it('NAME_COLUMN_MISSING, PHONE_COLUMN_MISSING, HEADER_DUPLICATE_COLUMN', () => {
    expect(code('cliente;telefone1\nJoão;5548998288774\n')).toBe('NAME_COLUMN_MISSING');
    expect(code('nome;email\nJoão;a@b.c\n')).toBe('PHONE_COLUMN_MISSING');
    expect(code('nome;telefone1;Nome\nJoão;5548998288774;x\n')).toBe('HEADER_DUPLICATE_COLUMN');
  });

  it('NO_ROWS only when the bytes are the whole file', () => {
    expect(code('nome;telefone1\n\n')).toBe('NO_ROWS');
    expect(code('nome;telefone1\n', false)).toBeUndefined();
  });

  it.each([
    ['xlsx', [0x50, 0x4b, 0x03, 0x04, 0x14, 0x00], /Excel/],
    ['xls', [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1], /Excel/],
    ['pdf', [...Buffer.from('%PDF-1.7\n')], /PDF/],
    ['png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a], /PNG/],
    ['NUL bytes', [...Buffer.from('nome;telefone1\n'), 0, 1, 2], /nulos/],
    ['control bytes', [...Buffer.from('nome;tel'), 1, 2, 3, 4, 5, 6, 7, 8, 11, 14, 15], /controle/],
  ])('FILE_BINARY: %s', (_what, bytes, detail) => {
    const problem = checkFileStart(Buffer.from(bytes), { complete: true });
    expect(problem?.code).toBe('FILE_BINARY');
    expect(problem?.detail).toMatch(detail);
  });

  it('every problem has a Portuguese detail', () => {
    for (const content of ['', '\n', 'nome,telefone1\n', 'x;y\n', 'nome;email\n', 'nome;nome\n', 'nome;telefone1\n']) {
      expect(checkFileStart(Buffer.from(content), { complete: true })?.detail).toMatch(/\w{4}/);
    }
  });
});
