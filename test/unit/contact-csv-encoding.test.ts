import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { chunkDecoder, createDecoder, decodeRecord, detectEncoding } from '../../src/domain/contact-csv';

const cp1252 = (text: string) => iconv.encode(text, 'windows-1252');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Feeds the bytes one at a time: every sequence gets cut somewhere. */
function decodeByteByByte(bytes: Buffer, encoding: Parameters<typeof chunkDecoder>[0]): string {
  const decoder = chunkDecoder(encoding);
  let text = '';
  for (const b of bytes) text += decoder.write(Buffer.from([b]));
  return text + decoder.end();
}

describe('detectEncoding', () => {
  it('UTF-8 with or without BOM, plain ASCII included', () => {
    expect(detectEncoding(Buffer.concat([BOM, Buffer.from('nome;x\n')]))).toBe('utf8');
    expect(detectEncoding(Buffer.from('nome;João Conceição\n'))).toBe('utf8');
    expect(detectEncoding(Buffer.from('nome;telefone1\n'))).toBe('utf8');
  });

  it('Windows-1252 when the bytes are not valid UTF-8', () => {
    expect(detectEncoding(cp1252('nome;João da Conceição\n'))).toBe('windows-1252');
  });

  it('UTF-8 cut in the middle of a character at the end of the sample is still UTF-8', () => {
    const bytes = Buffer.from('nome;João');
    expect(detectEncoding(bytes.subarray(0, bytes.length - 2))).toBe('utf8');
  });

  it('UTF-16 by its BOM', () => {
    expect(detectEncoding(Buffer.from([0xff, 0xfe, 0x6e, 0x00]))).toBe('utf16le');
    expect(detectEncoding(Buffer.from([0xfe, 0xff, 0x00, 0x6e]))).toBe('utf16be');
  });
});

describe('decoding', () => {
  it('Windows-1252: João and Conceição come out right', () => {
    expect(decodeByteByByte(cp1252('João;Conceição;AÇÃO'), 'windows-1252')).toBe('João;Conceição;AÇÃO');
  });

  it('UTF-8: strips the BOM and joins characters cut between chunks', () => {
    expect(decodeByteByByte(Buffer.concat([BOM, Buffer.from('João;Conceição;😀')]), 'utf8')).toBe('João;Conceição;😀');
  });

  it('UTF-8 that turns out to hold Windows-1252 bytes later (ASCII start, or pasted files) reads both', () => {
    const mixed = Buffer.concat([Buffer.from('Ana;Conceição\n'), cp1252('João;Conceição\n')]);
    expect(decodeByteByByte(mixed, 'utf8')).toBe('Ana;Conceição\nJoão;Conceição\n');
    expect(chunkDecoder('utf8').write(mixed)).toBe('Ana;Conceição\nJoão;Conceição\n');
  });

  it('UTF-16 with BOM', () => {
    expect(chunkDecoder('utf16le').write(Buffer.from('\uFEFFJoão;Conceição', 'utf16le'))).toBe('João;Conceição');
  });

  it('createDecoder is a stream of text', async () => {
    const parts: string[] = [];
    for await (const part of Readable.from([cp1252('Jo'), cp1252('ão\n')]).pipe(createDecoder('windows-1252'))) parts.push(part);
    expect(parts.join('')).toBe('João\n');
    const utf: string[] = [];
    for await (const part of Readable.from([Buffer.concat([BOM, Buffer.from('Conceição')])]).pipe(createDecoder('utf8'))) utf.push(part);
    expect(utf.join('')).toBe('Conceição');
  });
});

describe('decodeRecord', () => {
  it('reads UTF-8 and Windows-1252 records right, whatever the file was detected as', () => {
    expect(decodeRecord(Buffer.from('João;Conceição'))).toBe('João;Conceição');
    expect(decodeRecord(cp1252('João;Conceição'))).toBe('João;Conceição');
    expect(decodeRecord(Buffer.concat([Buffer.from('João;'), cp1252('Conceição')]))).toBe('João;Conceição');
    expect(decodeRecord(Buffer.from('nome;5548998288774'))).toBe('nome;5548998288774');
  });

  it('keeps a real U+FFFD and turns NUL, which PostgreSQL text refuses, into U+FFFD', () => {
    expect(decodeRecord(Buffer.from('a\uFFFDb'))).toBe('a\uFFFDb');
    expect(decodeRecord(Buffer.from([0x41, 0x00, 0x42, 0x00]))).toBe('A\uFFFDB\uFFFD');
    expect(decodeRecord(Buffer.from([0x00, 0xe7, 0x00]))).toBe('\uFFFDç\uFFFD');
  });

  it('decodes a record inside a larger buffer as it decodes the record alone', () => {
    const records = [
      Buffer.from('João;Conceição'),
      cp1252('Conceição;Ação'),
      Buffer.concat([Buffer.from('João;'), cp1252('Ção')]),
      Buffer.from('a\uFFFDb'),
      Buffer.from([0x41, 0x00, 0xe7]),
    ];
    // Neighbours that are not UTF-8 on both sides: nothing of them may leak into the record.
    const around = Buffer.from([0xc3, 0x0a]);
    const file = Buffer.concat(records.flatMap((r) => [r, around]));
    let start = 0;
    for (const record of records) {
      expect(decodeRecord(file, start, start + record.length)).toBe(decodeRecord(record));
      start += record.length + around.length;
    }
  });
});
