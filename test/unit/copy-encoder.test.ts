import { describe, expect, it } from 'vitest';
import { CopyEncoder, encodedText } from '../../src/db/copy-encoder';

/** Everything the encoder writes, as one Buffer; `blockBytes` small to cross block boundaries. */
function encode(write: (out: CopyEncoder) => void, blockBytes = 64 * 1024): Buffer {
  const blocks: Buffer[] = [];
  const out = new CopyEncoder((block) => blocks.push(block), blockBytes);
  write(out);
  out.finish();
  return Buffer.concat(blocks);
}

const text = (write: (out: CopyEncoder) => void, blockBytes?: number) => encode(write, blockBytes).toString('utf8');

/** The string-based encoding the import used before (COPY text format), as the reference. */
const escapeText = (t: string) => t.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
const arrayLiteral = (values: string[]) => escapeText(`{${values.map((v) => (/^\d+$/.test(v) ? v : `"${v.replace(/(["\\])/g, '\\$1')}"`)).join(',')}}`);

describe('COPY text-format encoder', () => {
  it('separates fields with tabs and rows with line feeds; NULL is \\N', () => {
    expect(text((out) => out.text('a').optionalText(undefined).optionalText(null).number(42).endRow().text('b').endRow())).toBe('a\t\\N\t\\N\t42\nb\n');
  });

  it('escapes backslashes, tabs, line feeds and carriage returns in text', () => {
    expect(text((out) => out.text('C:\\dir\tcol\r\nnext').endRow())).toBe('C:\\\\dir\\tcol\\r\\nnext\n');
  });

  it('writes accents, emoji and other characters as UTF-8; a lone surrogate as U+FFFD', () => {
    const value = 'João Conceição ™ 😀 \u0001 \u007f';
    expect(encode((out) => out.text(value))).toEqual(Buffer.from(value));
    expect(encode((out) => out.text('a\ud800b'))).toEqual(Buffer.from('a\ufffdb'));
  });

  it('writes integers of any size and sign, other numbers as String does', () => {
    expect(
      text((out) =>
        out
          .number(0)
          .number(7)
          .number(1_000_000)
          .number(-15)
          .number(2 ** 53 - 1)
          .number(1.5),
      ),
    ).toBe('0\t7\t1000000\t-15\t9007199254740991\t1.5');
  });

  it('text[]: phones bare (leading zeros kept), anything else quoted and escaped', () => {
    const values = ['5548998288774', '0048', '', 'a"b', 'c\\d', 'tab\there', 'João;x', 'NULL'];
    expect(text((out) => out.textArray(values))).toBe(arrayLiteral(values));
    expect(text((out) => out.textArray([]))).toBe('{}');
  });

  it('jsonb: byte for byte what JSON.stringify writes, escaped for COPY', () => {
    const objects: object[] = [
      { cidade: 'São Paulo', plano: 'ouro' },
      { 'say "oi"': 'back\\slash', vazio: '' },
      { '2024': 'integer keys come first', a: 'x' },
      { linhas: 'a\nb\tc\r', nul: '\u0000' },
      { lone: '\udc00' },
      { replacement: 'a\ufffdb', emoji: '😀', sep: '\u2028', del: '\u007f' },
      {},
      { nested: { n: 1 }, list: [1, 'a'] },
      [{ code: 'X' }],
    ];
    const proto = {};
    Object.defineProperty(proto, '__proto__', { value: 'plain field', enumerable: true, writable: true, configurable: true });
    objects.push(proto);
    for (const value of objects) expect(text((out) => out.json(value))).toBe(escapeText(JSON.stringify(value)));
    // The same encoder again (keys already encoded), mid-row and across small blocks.
    const blocks: Buffer[] = [];
    const out = new CopyEncoder((block) => blocks.push(block), 16);
    for (const value of objects) out.number(1).json(value).endRow();
    out.finish();
    expect(Buffer.concat(blocks).toString()).toBe(objects.map((v) => `1\t${escapeText(JSON.stringify(v))}\n`).join(''));
  });

  it('rows larger than a block, and rows across blocks, come out whole', () => {
    const long = 'é'.repeat(5000);
    const rows = Array.from({ length: 50 }, (_, i) => [`row ${i}\t`, long.slice(0, i * 97)]);
    const expected = rows.map(([a, b]) => `${escapeText(a)}\t${b}\n`).join('');
    expect(text((out) => rows.forEach(([a, b]) => out.text(a).text(b).endRow()), 64)).toBe(expected);
  });

  it('a value encoded once writes on every row as text() would write it', () => {
    const importId = encodedText('6f1c…\tid');
    expect(text((out) => out.encoded(importId).number(1).endRow().number(2).encoded(importId).endRow(), 8)).toBe(
      text((out) => out.text('6f1c…\tid').number(1).endRow().number(2).text('6f1c…\tid').endRow()),
    );
  });

  it('without an emit, keeps growing one buffer: every row in order', () => {
    const out = new CopyEncoder(undefined, 8);
    for (let i = 0; i < 100; i++) out.number(i).text('Conceição').endRow();
    expect(out.length).toBe(out.written().length);
    expect(out.written().toString()).toBe(Array.from({ length: 100 }, (_, i) => `${i}\tConceição\n`).join(''));
  });

  it('never writes into a block once emitted (the socket may still be sending it)', () => {
    const emitted: Buffer[] = [];
    const snapshots: Buffer[] = [];
    const out = new CopyEncoder((block) => {
      emitted.push(block);
      snapshots.push(Buffer.from(block));
    }, 16);
    for (let i = 0; i < 20; i++) out.text(`value ${i}`).endRow();
    out.finish();
    expect(emitted.length).toBeGreaterThan(5);
    expect(Buffer.concat(emitted)).toEqual(Buffer.concat(snapshots));
  });
});
