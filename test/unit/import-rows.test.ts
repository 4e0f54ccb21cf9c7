import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { parseImportRows, type ImportEvent as ParseEvent, type ImportParseOptions as ParseOptions } from '../../src/activities/imports/rows';
import type { RowResult } from '../../src/domain/contact-csv/row';

type Row = Extract<ParseEvent, { kind: 'row' }>;

function* chunked(bytes: Buffer, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function parse(content: string | Buffer, opts: Partial<ParseOptions> = {}, chunkSize = 64 * 1024): Promise<ParseEvent[]> {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const events: ParseEvent[] = [];
  async function* source() {
    yield* chunked(bytes, chunkSize);
  }
  for await (const batch of parseImportRows(source(), { phonePolicy: 'reject_row', ...opts })) events.push(...batch);
  return events;
}

const rowsOf = (events: ParseEvent[]) => events.filter((e): e is Row => e.kind === 'row');
const codes = (result: RowResult) => (result.ok ? [] : result.reasons.map((r) => r.code));
/** line → imported name, or the reject codes. */
const summary = (events: ParseEvent[]) => rowsOf(events).map((r) => [r.line, r.result.ok ? r.result.contact.name : codes(r.result).join(',')]);

const HEADER = 'nome;telefone1;telefone2;cidade\n';

describe('parseImportRows', () => {
  it('yields the header first, then each row with its line and original text', async () => {
    const content = `${HEADER}João;5548998288774;554734322422;Florianópolis\n`;
    const events = await parse(content);
    expect(events[0]).toMatchObject({ kind: 'header', encoding: 'utf8', line: 1, header: { width: 4 } });
    expect(events[1]).toEqual({
      kind: 'row',
      line: 2,
      lastLine: 2,
      endOffset: Buffer.byteLength(content),
      raw: 'João;5548998288774;554734322422;Florianópolis',
      result: { ok: true, contact: { name: 'João', phones: ['5548998288774', '554734322422'], custom: { cidade: 'Florianópolis' } } },
    });
  });

  it('CRLF and LF give the same rows; the last line may lack a line break', async () => {
    const lf = `${HEADER}João;5548998288774;;x\nAna;554734322422;;y`;
    const crlf = lf.replace(/\n/g, '\r\n');
    expect(summary(await parse(crlf))).toEqual(summary(await parse(lf)));
    expect(rowsOf(await parse(crlf)).map((r) => r.raw)).toEqual(['João;5548998288774;;x', 'Ana;554734322422;;y']);
  });

  it('old Mac CR line endings work too', async () => {
    expect(summary(await parse('nome;telefone1\rJoão;5548998288774\r\rAna;554734322422\r'))).toEqual([
      [2, 'João'],
      [4, 'Ana'],
    ]);
  });

  it('skips blank lines (also lines of only ; and spaces) but counts them', async () => {
    const content = `\n${HEADER}\nJoão;5548998288774;;\r\n   \n;;;\n\nAna;554734322422;;\n\n`;
    const events = await parse(content);
    expect(events[0]).toMatchObject({ kind: 'header', line: 2 });
    expect(summary(events)).toEqual([
      [4, 'João'],
      [8, 'Ana'],
    ]);
  });

  it('quoted cells may hold ; line breaks and doubled quotes; lines after them stay right', async () => {
    const content = `${HEADER}"Silva; João";5548998288774;;"Rua A\r\nApto 2"\n"Maria ""Mary""";554734322422;;"a\nb\nc"\nAna;554734322422;;z\n`;
    const rows = rowsOf(await parse(content));
    expect(rows.map((r) => [r.line, r.result.ok && r.result.contact.name, r.result.ok && r.result.contact.custom.cidade])).toEqual([
      [2, 'Silva; João', 'Rua A\r\nApto 2'],
      [4, 'Maria "Mary"', 'a\nb\nc'],
      [7, 'Ana', 'z'],
    ]);
    expect(rows[0].raw).toBe('"Silva; João";5548998288774;;"Rua A\r\nApto 2"');
  });

  it('a quote inside an unquoted cell is kept as text', async () => {
    const rows = rowsOf(await parse(`${HEADER}Maria "Mary" Silva;5548998288774;;x\n`));
    expect(rows[0].result.ok && rows[0].result.contact.name).toBe('Maria "Mary" Silva');
  });

  it('reads Windows-1252 (Excel in Brazil): João and Conceição come out right', async () => {
    const bytes = iconv.encode(`Nome;Telefone1;Telefone2;Cidade\r\nJoão;5548998288774;;São José\r\nMaria da Conceição;554734322422;;Içara\r\n`, 'windows-1252');
    for (const size of [3, 1 << 16]) {
      const events = await parse(bytes, {}, size);
      expect(events[0]).toMatchObject({ kind: 'header', encoding: 'windows-1252' });
      expect(rowsOf(events).map((r) => r.result.ok && [r.result.contact.name, r.result.contact.custom.Cidade])).toEqual([
        ['João', 'São José'],
        ['Maria da Conceição', 'Içara'],
      ]);
    }
  });

  it('reads Windows-1252 accents that first appear after the first 64 KiB', async () => {
    const ascii = Array.from({ length: 2000 }, (_, i) => `Ana ${i};5548998288774;;x\n`).join('');
    const bytes = Buffer.concat([Buffer.from(HEADER + ascii), iconv.encode('João;5548998288774;;Conceição\n', 'windows-1252')]);
    const rows = rowsOf(await parse(bytes));
    expect(rows.at(-1)?.result).toMatchObject({ ok: true, contact: { name: 'João', custom: { cidade: 'Conceição' } } });
  });

  it('reads UTF-8 with a BOM', async () => {
    const events = await parse(`\uFEFF${HEADER}João;5548998288774;;Conceição\n`, {}, 1);
    expect(events[0]).toMatchObject({ kind: 'header', header: { nameColumn: { label: 'nome' } } });
    expect(summary(events)).toEqual([[2, 'João']]);
  });

  it('COLUMN_COUNT for a row with a different number of cells, and carries on', async () => {
    expect(summary(await parse(`${HEADER}João;5548998288774\nAna;554734322422;;x\n`))).toEqual([
      [2, 'COLUMN_COUNT'],
      [3, 'Ana'],
    ]);
  });

  it('MALFORMED_ROW for a quote opened and never closed: only that line is lost', async () => {
    const content = `${HEADER}João;"5548998288774;;x\nAna;554734322422;;y\nBia;554734322422;;z\n`;
    expect(summary(await parse(content))).toEqual([
      [2, 'MALFORMED_ROW'],
      [3, 'Ana'],
      [4, 'Bia'],
    ]);
    const last = await parse(`${HEADER}Ana;554734322422;;y\nJoão;"5548998288774;;x`);
    expect(summary(last)).toEqual([
      [2, 'Ana'],
      [3, 'MALFORMED_ROW'],
    ]);
  });

  it('MALFORMED_ROW for text after a closing quote', async () => {
    const rows = rowsOf(await parse(`${HEADER}"João"x;5548998288774;;\nAna;554734322422;;y\n`));
    expect(rows.map((r) => [r.line, codes(r.result)])).toEqual([
      [2, ['MALFORMED_ROW']],
      [3, []],
    ]);
    expect(rows[0].raw).toBe('"João"x;5548998288774;;');
  });

  it('an unclosed quote with a huge rest is cut at maxLineBytes, then parsing goes on', async () => {
    const filler = Array.from({ length: 300 }, (_, i) => `P${i};554734322422;;y`).join('\n');
    const rows = rowsOf(await parse(`${HEADER}João;"5548998288774;;x\n${filler}\n`, { maxLineBytes: 1024 }, 100));
    expect(rows[0]).toMatchObject({ line: 2, result: { ok: false, reasons: [{ code: 'MALFORMED_ROW' }] } });
    expect(rows).toHaveLength(301);
    expect(rows.slice(1).every((r) => r.result.ok)).toBe(true);
    expect(rows.at(-1)?.line).toBe(302);
  });

  it('LINE_TOO_LONG for a huge single line (default limit 64 KiB), raw kept short, next rows fine', async () => {
    const huge = `Maria;${'9'.repeat(200_000)};;x`;
    const events = await parse(`${HEADER}${huge}\nAna;554734322422;;y\n${huge}`, {}, 4096);
    const rows = rowsOf(events);
    expect(rows.map((r) => [r.line, codes(r.result).join()])).toEqual([
      [2, 'LINE_TOO_LONG'],
      [3, ''],
      [4, 'LINE_TOO_LONG'],
    ]);
    expect(rows[0].raw.length).toBeLessThanOrEqual(1001);
    expect(rows[0].raw.startsWith('Maria;999')).toBe(true);
  });

  it('a 20 MB line without any line break is skipped without holding it', async () => {
    async function* source() {
      yield Buffer.from(HEADER);
      const block = Buffer.alloc(1 << 16, 'x');
      for (let i = 0; i < 320; i++) yield block;
      yield Buffer.from('\nAna;554734322422;;y\n');
    }
    const events: ParseEvent[] = [];
    for await (const batch of parseImportRows(source(), { phonePolicy: 'reject_row' })) events.push(...batch);
    expect(summary(events)).toEqual([
      [2, 'LINE_TOO_LONG'],
      [3, 'Ana'],
    ]);
  });

  it('keeps formula-like cells as data', async () => {
    const rows = rowsOf(await parse(`${HEADER}"=HYPERLINK(""http://x"";""y"")";5548998288774;;@SUM(A1)\n`));
    expect(rows[0].result).toMatchObject({ ok: true, contact: { name: '=HYPERLINK("http://x";"y")', custom: { cidade: '@SUM(A1)' } } });
  });

  it('applies the phone policy', async () => {
    const content = `${HEADER}João;5548998288774;5548898288774;x\nAna;123;;y\n`;
    expect(summary(await parse(content))).toEqual([
      [2, 'PHONE_INVALID'],
      [3, 'PHONE_INVALID'],
    ]);
    const dropped = rowsOf(await parse(content, { phonePolicy: 'drop_invalid' }));
    expect(dropped[0].result).toMatchObject({ ok: true, contact: { phones: ['5548998288774'] }, droppedPhones: [{ why: 'NINTH_DIGIT' }] });
    expect(codes(dropped[1].result)).toEqual(['PHONE_INVALID']);
  });

  it('answers a file problem as one event and nothing else', async () => {
    expect(await parse('nome,telefone1\nJoão,5548998288774\n')).toEqual([
      { kind: 'file-problem', problem: expect.objectContaining({ code: 'WRONG_SEPARATOR' }) },
    ]);
    expect((await parse(Buffer.from([0x50, 0x4b, 3, 4, 0, 0])))[0]).toMatchObject({ problem: { code: 'FILE_BINARY' } });
    expect((await parse(''))[0]).toMatchObject({ problem: { code: 'FILE_EMPTY' } });
  });

  it('gives the same events whatever the chunk sizes', async () => {
    const content = iconv.encode(
      `\n${HEADER}"Silva; João";5548998288774;;"Rua A\r\nApto 2"\r\n` +
        `João;"554;;x\r\nAção;+55 (48) 99828-8774;;"a""b"\r\n;;;\r\nZé;1;;\r\n"x"y;;;\r\nÚltima;554734322422;;fim`,
      'windows-1252',
    );
    const whole = await parse(content);
    for (const size of [1, 2, 3, 5, 17, 64]) expect(await parse(content, {}, size)).toEqual(whole);
  });

  it('resumes from a committed row: the same following events, offsets included', async () => {
    const content = iconv.encode(`${HEADER}João;5548998288774;;x\r\n"Rua; A\r\nApto";554734322422;;y\r\n\r\nZé;1;;\r\nAna;554734322423;;z\r\n`, 'windows-1252');
    const whole = rowsOf(await parse(content, {}, 7));
    const header = (await parse(content))[0];
    if (header.kind !== 'header') throw new Error('no header');
    const committed = whole[1];
    async function* rest() {
      for (let i = committed.endOffset; i < content.length; i += 5) yield content.subarray(i, i + 5);
    }
    const resumed: ParseEvent[] = [];
    for await (const batch of parseImportRows(rest(), {
      phonePolicy: 'reject_row',
      encoding: 'windows-1252',
      newline: 'lf',
      resume: { offset: committed.endOffset, line: committed.lastLine + 1, header: header.cells },
    }))
      resumed.push(...batch);
    expect(resumed).toEqual(whole.slice(2));
    expect(whole[1]).toMatchObject({ line: 3, lastLine: 4 });
  });
});

describe('bad input never throws', () => {
  /** Small seeded PRNG (mulberry32), so a failure can be replayed. */
  function random(seed: number) {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function expectWellFormed(events: ParseEvent[]) {
    expect(events.length).toBeGreaterThan(0);
    if (events[0].kind === 'file-problem') {
      expect(events).toHaveLength(1);
      expect(events[0].problem.detail.length).toBeGreaterThan(0);
      return;
    }
    expect(events[0].kind).toBe('header');
    let line = events[0].kind === 'header' ? events[0].line : 0;
    for (const event of events.slice(1)) {
      expect(event.kind).toBe('row');
      if (event.kind !== 'row') continue;
      expect(event.line).toBeGreaterThan(line);
      line = event.line;
      if (!event.result.ok) expect(event.result.reasons.length).toBeGreaterThan(0);
    }
  }

  it('random bytes: a file problem or rows, never an exception', async () => {
    const next = random(20240601);
    for (let n = 0; n < 300; n++) {
      const length = Math.floor(next() * (n % 10 === 0 ? 5000 : 300));
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
      expectWellFormed(await parse(bytes, { maxLineBytes: 200 }, 1 + Math.floor(next() * 64)));
    }
  });

  it('random text after a valid header: rows, each accepted or rejected with reasons', async () => {
    const next = random(99);
    const alphabet = [...Buffer.from('\n\r;"";;\n55 9'), ...Array.from({ length: 224 }, (_, i) => 0x20 + i)];
    let rows = 0;
    for (let n = 0; n < 200; n++) {
      const body = Array.from({ length: Math.floor(next() * 2000) }, () => alphabet[Math.floor(next() * alphabet.length)]);
      const events = await parse(Buffer.concat([Buffer.from(HEADER), Buffer.from(body)]), { maxLineBytes: 100 }, 1 + Math.floor(next() * 300));
      expectWellFormed(events);
      rows += rowsOf(events).length;
    }
    expect(rows).toBeGreaterThan(1000);
  });

  it('a valid file mangled with quotes, separators, line breaks and odd bytes', async () => {
    const next = random(7);
    const base = Buffer.from(`${HEADER}${'João;5548998288774;554734322422;"a;b"\r\nAna;+55 (48) 99828-8774;;x\n'.repeat(20)}`);
    const noise = [0x22, 0x3b, 0x0a, 0x0d, 0x00, 0xe3, 0xc3, 0xff, 0x2c, 0x09];
    for (let n = 0; n < 300; n++) {
      const bytes = Buffer.from(base);
      for (let k = 0; k < 1 + (n % 12); k++) bytes[1 + Math.floor(next() * (bytes.length - 1))] = noise[Math.floor(next() * noise.length)];
      expectWellFormed(await parse(bytes, { maxLineBytes: 64 }, 1 + Math.floor(next() * 50)));
    }
  });
});
