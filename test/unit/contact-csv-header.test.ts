import { describe, expect, it } from 'vitest';
import { mapHeader, normalizeHeaderKey, TEMPLATE_HEADER, templateCsv, type HeaderMap } from '../../src/domain/contact-csv';

const header = (cells: string[]): HeaderMap => {
  const mapped = mapHeader(cells);
  if (!mapped.ok) throw new Error(mapped.problem.detail);
  return mapped.header;
};
const targets = (cells: string[]) => header(cells).columns.map((c) => c.target);

describe('header mapping', () => {
  it('maps the template columns', () => {
    const map = header([...TEMPLATE_HEADER]);
    expect(map.width).toBe(13);
    expect(map.nameColumn.index).toBe(0);
    expect(map.phoneColumns.map((c) => c.label)).toEqual(TEMPLATE_HEADER.slice(1, 11));
    expect(map.emailColumn?.index).toBe(11);
    expect(map.documentColumn?.index).toBe(12);
    expect(map.customColumns).toEqual([]);
  });

  it('ignores case, accents and surrounding spaces', () => {
    expect(targets([' Nome ', 'TELEFONE1', 'Téléfone2', 'E-MAIL', 'Documento'])).toEqual([
      { field: 'name' },
      { field: 'phone', slot: 0 },
      { field: 'phone', slot: 1 },
      { field: 'email' },
      { field: 'document' },
    ]);
  });

  it('reads the names Brazilian spreadsheets use: "Nome completo", "CPF", "CNPJ", "CPF/CNPJ"', () => {
    expect(targets(['Nome Completo', 'Telefone 1', 'CPF'])).toEqual([{ field: 'name' }, { field: 'phone', slot: 0 }, { field: 'document' }]);
    expect(targets(['nome', 'telefone', 'CPF/CNPJ'])[2]).toEqual({ field: 'document' });
    expect(targets(['nome', 'telefone', 'cnpj'])[2]).toEqual({ field: 'document' });
  });

  it('accepts English aliases, and telefone/phone alone as phone 1', () => {
    expect(targets(['Name', 'phone', 'Phone2', 'phone10', 'email', 'document'])).toEqual([
      { field: 'name' },
      { field: 'phone', slot: 0 },
      { field: 'phone', slot: 1 },
      { field: 'phone', slot: 9 },
      { field: 'email' },
      { field: 'document' },
    ]);
    expect(targets(['nome', 'Telefone'])[1]).toEqual({ field: 'phone', slot: 0 });
  });

  it('reads "Telefone 1", "telefone_1" and "Telefone-1" as telefone1 (separators inside a name do not matter)', () => {
    expect(targets(['nome', 'Telefone 1', 'telefone_2', 'Telefone-3'])).toEqual([
      { field: 'name' },
      { field: 'phone', slot: 0 },
      { field: 'phone', slot: 1 },
      { field: 'phone', slot: 2 },
    ]);
  });

  it('keeps every other column as a custom field with its label and a normalized key', () => {
    const map = header(['nome', 'telefone1', ' Primeiro Nome ', 'Cidade/UF', 'telefone11']);
    expect(map.customColumns.map((c) => [c.label, c.key])).toEqual([
      ['Primeiro Nome', 'primeiro_nome'],
      ['Cidade/UF', 'cidade_uf'],
      ['telefone11', 'telefone11'],
    ]);
  });

  it('orders phones by slot (telefone1 first) whatever the column order', () => {
    expect(header(['telefone2', 'nome', 'telefone1']).phoneColumns.map((c) => c.label)).toEqual(['telefone1', 'telefone2']);
  });

  it('ignores columns with an empty header cell', () => {
    const map = header(['nome', 'telefone1', '', ' ']);
    expect(map.width).toBe(4);
    expect(map.columns.slice(2).map((c) => c.target)).toEqual([{ field: 'ignored' }, { field: 'ignored' }]);
    expect(map.customColumns).toEqual([]);
  });

  it.each([
    [['nome', 'telefone1', 'Nome']],
    [['nome', 'name', 'telefone1']],
    [['nome', 'telefone', 'telefone1']],
    [['nome', 'telefone1', 'Cidade', 'cidade ']],
    [['nome', 'telefone1', 'Primeiro Nome', 'primeiro_nome']],
  ])('refuses duplicate columns %j', (cells) => {
    const mapped = mapHeader(cells);
    expect(mapped.ok).toBe(false);
    if (!mapped.ok) {
      expect(mapped.problem.code).toBe('HEADER_DUPLICATE_COLUMN');
      expect(mapped.problem.columns?.length).toBe(2);
    }
  });

  it('refuses a header without nome or without any phone column', () => {
    expect(mapHeader(['telefone1', 'email'])).toMatchObject({ ok: false, problem: { code: 'NAME_COLUMN_MISSING' } });
    expect(mapHeader(['nome', 'email'])).toMatchObject({ ok: false, problem: { code: 'PHONE_COLUMN_MISSING' } });
  });

  it('normalizes keys', () => {
    expect(normalizeHeaderKey('  Conceição do Pará ')).toBe('conceicao_do_para');
    expect(normalizeHeaderKey('E-mail')).toBe('e_mail');
  });
});

describe('templateCsv', () => {
  it('is ; separated, UTF-8 with BOM, CRLF, with the header and one example row', () => {
    const csv = templateCsv();
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines[0]).toBe('nome;telefone1;telefone2;telefone3;telefone4;telefone5;telefone6;telefone7;telefone8;telefone9;telefone10;email;documento');
    const example = lines[1].split(';');
    expect(example).toHaveLength(13);
    expect(example.slice(1, 3)).toEqual(['554734322422', '5548998288774']);
  });
});
