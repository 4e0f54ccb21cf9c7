import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { readRecords, splitFields, type RawRecord } from '../../src/activities/imports/records';

async function collect(bytes: Buffer, chunkSize: number, options: Parameters<typeof readRecords>[1] = {}): Promise<RawRecord[]> {
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  }
  const out: RawRecord[] = [];
  for await (const batch of readRecords(chunks(), options)) out.push(...batch);
  return out;
}

const file = Buffer.from('\uFEFFnome;telefone1\r\nJoão;5548998288774\r\n\r\n"Souza; ""Filho""\nSegunda linha";5511987654321\nsem fim', 'utf8');

describe('record reader', () => {
  it.each([1, 3, 7, 64, 1 << 20])('splits records with line numbers and end offsets (chunks of %i bytes)', async (size) => {
    const records = await collect(file, size);
    expect(records.map((r) => [r.line, r.bytes.toString('utf8'), r.lineCount])).toEqual([
      [1, 'nome;telefone1', 1],
      [2, 'João;5548998288774', 1],
      [4, '"Souza; ""Filho""\nSegunda linha";5511987654321', 2],
      [6, 'sem fim', 1],
    ]);
    expect(records[records.length - 1].endOffset).toBe(file.length);
  });

  it('resumes at a committed end offset and gives the same following records', async () => {
    const all = await collect(file, 5);
    const resumePoint = all[1];
    const rest = await collect(file.subarray(resumePoint.endOffset), 4, {
      startOffset: resumePoint.endOffset,
      startLine: resumePoint.line + resumePoint.lineCount,
    });
    expect(rest.map((r) => [r.line, r.endOffset])).toEqual(all.slice(2).map((r) => [r.line, r.endOffset]));
  });

  it('keeps Windows-1252 bytes intact for decoding', async () => {
    const records = await collect(iconv.encode('nome\nConceição\n', 'win1252'), 2);
    expect(iconv.decode(records[1].bytes, 'win1252')).toBe('Conceição');
  });

  it('cuts a runaway quote or giant line and resynchronises at the next newline', async () => {
    const bytes = Buffer.from(`nome\n"${'x'.repeat(5000)}\nnormal\n`);
    const records = await collect(bytes, 100, { maxRecordBytes: 1000 });
    expect(records.map((r) => [r.line, Boolean(r.tooLong)])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    expect(records[2].bytes.toString()).toBe('normal');
  });
});

describe('record reader across chunk boundaries', () => {
  const crlf = Buffer.from('nome;telefone1\r\n"Conceição; ""Ção""\r\nApto 2";5548998288774\r\nJoão;554734322422\r\nZé;1\r\n');
  const summary = (records: RawRecord[]) => records.map((r) => [r.line, r.lineCount, r.endOffset, r.bytes.toString('utf8')]);

  it('gives the same records wherever the file is cut in two (CRLF and UTF-8 sequences split too)', async () => {
    const whole = summary(await collect(crlf, crlf.length));
    expect(whole.map((r) => r[3])).toEqual(['nome;telefone1', '"Conceição; ""Ção""\r\nApto 2";5548998288774', 'João;554734322422', 'Zé;1']);
    for (let cut = 1; cut < crlf.length; cut++) {
      async function* twoChunks() {
        yield crlf.subarray(0, cut);
        yield crlf.subarray(cut);
      }
      const out: RawRecord[] = [];
      for await (const batch of readRecords(twoChunks())) out.push(...batch);
      expect(summary(out)).toEqual(whole);
    }
  });

  it('a record inside one chunk, quoted line breaks and all, is a view of that chunk, not a copy', async () => {
    const chunk = Buffer.from('nome\n"a\nb";c\n');
    async function* one() {
      yield chunk;
    }
    const out: RawRecord[] = [];
    for await (const batch of readRecords(one())) out.push(...batch);
    expect(out[1].bytes.toString()).toBe('"a\nb";c');
    expect(out[1].source).toBe(out[0].source);
    expect([out[1].start, out[1].end]).toEqual([5, 12]);
  });

  it('hands records over a few hundred at a time, in order', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `linha ${i}`);
    const batches: RawRecord[][] = [];
    async function* one() {
      yield Buffer.from(lines.join('\n'));
    }
    for await (const batch of readRecords(one())) batches.push(batch);
    expect(batches.length).toBeGreaterThan(1);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(256);
    expect(batches.flat().map((r) => r.bytes.toString())).toEqual(lines);
  });
});

describe('field splitter', () => {
  it('splits on ; honouring quotes and doubled quotes', () => {
    expect(splitFields('a;"b;c";"say ""oi""";;')).toEqual({ fields: ['a', 'b;c', 'say "oi"', '', ''], malformed: false });
  });

  it('splits a line without quotes on every ;, empty cells included', () => {
    expect(splitFields('João;;5548998288774;')).toEqual({ fields: ['João', '', '5548998288774', ''], malformed: false });
    expect(splitFields('')).toEqual({ fields: [''], malformed: false });
  });

  it('flags an unclosed quote or text after a closing quote, keeping the text', () => {
    expect(splitFields('a;"open')).toEqual({ fields: ['a', 'open'], malformed: true });
    expect(splitFields('"x"y;z')).toEqual({ fields: ['xy', 'z'], malformed: true });
  });
});
