import { describe, expect, it } from 'vitest';
import { firstByteaOf } from '../../src/db/bytea-copy';

const header = (extension = Buffer.alloc(0)) => {
  const fixed = Buffer.alloc(19);
  fixed.write('PGCOPY\n\xff\r\n\0', 0, 'latin1');
  fixed.writeInt32BE(extension.length, 15);
  return Buffer.concat([fixed, extension]);
};
const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const END = int16(-1);

/** The value read from the stream cut into pieces at every possible place. */
function everyCut(stream: Buffer): (Buffer | undefined)[] {
  const results: (Buffer | undefined)[] = [];
  for (let cut = 0; cut <= stream.length; cut++) {
    const pieces = firstByteaOf([stream.subarray(0, cut), stream.subarray(cut)]);
    results.push(pieces && Buffer.concat(pieces));
  }
  return results;
}

describe('binary COPY of one bytea value', () => {
  it('gives the stored bytes as they are, whatever they hold and however the stream arrived', () => {
    const data = Buffer.from([0xef, 0xbb, 0xbf, 0x00, 0xff, 0x0a, 0x0d, 0x5c, 0xe3]);
    const stream = Buffer.concat([header(), int16(1), int32(data.length), data, END]);
    expect(firstByteaOf([stream])).toEqual([data]);
    for (const value of everyCut(stream)) expect(value).toEqual(data);
  });

  it('hands the value over as views of the pieces, without joining them', () => {
    const data = Buffer.from('nome;telefone1\nJoão;5548998288774\n');
    const stream = Buffer.concat([header(), int16(1), int32(data.length), data, END]);
    const pieces = [stream.subarray(0, 30), stream.subarray(30, 40), stream.subarray(40)];
    const value = firstByteaOf(pieces)!;
    expect(value.map((p) => p.length)).toEqual([5, 10, data.length - 15]);
    expect(value[1].buffer).toBe(stream.buffer);
    expect(Buffer.concat(value)).toEqual(data);
  });

  it('skips a header extension', () => {
    const stream = Buffer.concat([header(Buffer.from('ext')), int16(1), int32(2), Buffer.from('ok'), END]);
    expect(everyCut(stream).map((v) => v?.toString())).toEqual(Array(stream.length + 1).fill('ok'));
  });

  it('no row or a NULL value is undefined; an empty value is empty', () => {
    expect(everyCut(Buffer.concat([header(), END]))).toEqual(Array(22).fill(undefined));
    expect(firstByteaOf([Buffer.concat([header(), int16(1), int32(-1), END])])).toBeUndefined();
    expect(firstByteaOf([Buffer.concat([header(), int16(1), int32(0), END])])).toEqual([]);
  });

  it('refuses what is not a binary COPY of one column', () => {
    expect(() => firstByteaOf([Buffer.from('5548998288774\n'.repeat(3))])).toThrow(/binary COPY/);
    expect(() => firstByteaOf([Buffer.concat([header(), int16(2), int32(1), Buffer.from('a'), int32(1), Buffer.from('b'), END])])).toThrow(/one bytea column/);
  });
});
