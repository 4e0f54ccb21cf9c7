import { randomUUID } from 'node:crypto';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { RejectedRows } from '../../src/activities/imports/rejected-rows';
import { parseImportRows } from '../../src/activities/imports/rows';
import { ValidRows } from '../../src/activities/imports/valid-rows';
import { contactRowWriter, plainRowWriter, rejectionRowWriter, type ImportTarget } from '../../src/activities/imports/write-batch';

const target: ImportTarget = { importId: randomUUID(), tenantId: randomUUID(), groupId: randomUUID() };

/** A file read with and without plain rows: the valid rows' COPY bytes, texts and phones, and the rejections. */
async function read(bytes: Buffer, plainRows: boolean) {
  const valid = new ValidRows(contactRowWriter(target), 64, plainRowWriter(target));
  const rejected = new RejectedRows(rejectionRowWriter(target));
  let plain = 0;
  async function* source() {
    for (let i = 0; i < bytes.length; i += 4096) yield bytes.subarray(i, i + 4096);
  }
  for await (const events of parseImportRows(source(), { phonePolicy: 'drop_invalid', plainRows })) {
    for (const event of events) {
      if (event.kind === 'plain-row') {
        plain++;
        valid.addPlain(event.line, event, event.scanner);
      } else if (event.kind === 'row') {
        if (event.result.ok) valid.add(event.line, event.raw, event.result.contact);
        else rejected.add(event.line, event.raw, event.result.reasons);
      }
    }
  }
  const rows = Array.from({ length: valid.length }, (_, i) => i);
  return {
    plain,
    copy: Buffer.from(valid.copyBytes(rows)),
    rows: rows.map((i) => [valid.line(i), valid.raw(i), valid.phones(i)]),
    rejected: Buffer.from(rejected.copyBytes()),
  };
}

const HEADER = 'nome;telefone1;telefone2;email;documento;cidade;;__proto__;"Observação"';

/** Rows of every kind the plain scanner must either take exactly as the text path does, or leave to it. */
const ROWS = [
  'Ana;5548998288774;554734322422;ana@x.com;123;São Paulo;;a;b',
  ' Zé da Conceição ;5548998288774;5548998288774;;;Niterói;x;;',
  'Bia;;554734322422;;;;;;',
  'Nbsp\u00a0;5548998288774;;;;;;;',
  '\u00a0Nbsp2;5548998288774;;;;;;;',
  'Tab\tinside;5548998288774;;;;;;;',
  'Back\\slash;5548998288774;;;;;;;',
  '"Quoted; name";5548998288774;;;;;;;',
  'Formatted;+55 (48) 99828-8774;;;;;;;',
  'Invalid one;5520998288774;554734322422;;;;;;',
  'No phone;;;;;;;;',
  ';5548998288774;;;;;;;',
  'Too few;5548998288774',
  'Too many;5548998288774;;;;;;;;;',
  `${'Á'.repeat(150)};5548998288774;;;;;;;`,
  `${'x'.repeat(201)};5548998288774;;;;;;;`,
  `Long custom;5548998288774;;;;${'ç'.repeat(600)};;;`,
  `Long line;5548998288774;;;;${'y'.repeat(990)};;;`,
  'Emoji 😀;5548998288774;;;;Maceió 🌴;;;',
  'Ideographic space\u3000;5548998288774;;;;;;;',
  'BOM inside\ufeff;5548998288774;;;;;;;',
  'Line sep\u2028;5548998288774;;;;;;;',
  'Landline bad prefix;554714322422;;;;;;;',
  'Unknown DDD;5520334322422;;;;;;;',
  '   ;5548998288774;;;;;;;',
  ';;;;;;;;',
];

describe('plain rows', () => {
  it('give the same COPY rows, texts, phones and rejections as the text path', async () => {
    const file = Buffer.from(
      `${[HEADER, ...Array.from({ length: 300 }, (_, i) => `Pad ${i};55489982${String(i).padStart(5, '0')};;;;;;;`), ...ROWS].join('\n')}\n`,
    );
    const [text, plain] = await Promise.all([read(file, false), read(file, true)]);
    expect(plain.plain).toBeGreaterThan(150);
    expect(text.plain).toBe(0);
    expect(plain.rows).toEqual(text.rows);
    expect(plain.copy.equals(text.copy)).toBe(true);
    expect(plain.rejected.equals(text.rejected)).toBe(true);
  });

  it('leave Windows-1252 rows and CRLF files to the text path with the same result', async () => {
    const lines = [
      HEADER,
      ...Array.from({ length: 300 }, (_, i) => `Pad ${i};55489982${String(i).padStart(5, '0')};;;;;;;`),
      'João;5548998288774;;;;Florianópolis;;;',
    ];
    const file = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n`), iconv.encode('Conceição;5548998288775;;;;Goiânia;;;\r\n', 'windows-1252')]);
    const [text, plain] = await Promise.all([read(file, false), read(file, true)]);
    expect(plain.rows).toEqual(text.rows);
    expect(plain.copy.equals(text.copy)).toBe(true);
    expect(text.rows.at(-1)?.[1]).toBe('Conceição;5548998288775;;;;Goiânia;;;');
  });

  it('take only well-formed UTF-8: surrogates, overlong forms and cut sequences go to the text path', async () => {
    const bad = [[0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xc3], [0xe2, 0x82]];
    const lines = [
      Buffer.from(`${HEADER}\n`),
      ...Array.from({ length: 300 }, (_, i) => Buffer.from(`Pad ${i};55489982${String(i).padStart(5, '0')};;;;;;;\n`)),
    ];
    for (const bytes of bad) lines.push(Buffer.concat([Buffer.from('Bad '), Buffer.from(bytes), Buffer.from(';5548998288774;;;;;;;\n')]));
    lines.push(Buffer.from('Good 😀 ç;5548998288774;;;;;;;\n'));
    const file = Buffer.concat(lines);
    const [text, plain] = await Promise.all([read(file, false), read(file, true)]);
    expect(plain.rows).toEqual(text.rows);
    expect(plain.copy.equals(text.copy)).toBe(true);
  });

  it('agree with the text path on valid rows mangled at random', async () => {
    let seed = 17;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = [' ', ';', '"', '\t', '\u00a0', 'ã', '9', '55', '\\', '\u3000', '😀', 'x'.repeat(120), '+', '(48)'].map((p) => Buffer.from(p));
    const lines = [Buffer.from(`${HEADER}\n`)];
    for (let i = 0; i < 3000; i++) {
      const line = Buffer.from(
        `Nome ${i};55489982${String(i % 100000).padStart(5, '0')};5547343${String(i % 100000).padStart(5, '0')};e${i}@x.com;${i};Cidade;z;p;o`,
      );
      const at = random(line.length);
      const cut = random(3);
      lines.push(Buffer.concat([line.subarray(0, at), pieces[random(pieces.length)], line.subarray(at + cut), Buffer.from('\n')]));
    }
    const file = Buffer.concat(lines);
    const [text, plain] = await Promise.all([read(file, false), read(file, true)]);
    expect(plain.plain).toBeGreaterThan(500);
    expect(plain.rows).toEqual(text.rows);
    expect(plain.copy.equals(text.copy)).toBe(true);
    expect(plain.rejected.equals(text.rejected)).toBe(true);
  });
});
