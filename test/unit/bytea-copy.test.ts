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

describe('binary COPY of one bytea value', () => {
  it('gives the stored bytes as they are, whatever they hold', () => {
    const data = Buffer.from([0xef, 0xbb, 0xbf, 0x00, 0xff, 0x0a, 0x0d, 0x5c, 0xe3]);
    const stream = Buffer.concat([header(), int16(1), int32(data.length), data, END]);
    expect(firstByteaOf(stream)).toEqual(data);
  });

  it('skips a header extension', () => {
    const stream = Buffer.concat([header(Buffer.from('ext')), int16(1), int32(2), Buffer.from('ok'), END]);
    expect(firstByteaOf(stream)?.toString()).toBe('ok');
  });

  it('no row or a NULL value is undefined; an empty value is empty', () => {
    expect(firstByteaOf(Buffer.concat([header(), END]))).toBeUndefined();
    expect(firstByteaOf(Buffer.concat([header(), int16(1), int32(-1), END]))).toBeUndefined();
    expect(firstByteaOf(Buffer.concat([header(), int16(1), int32(0), END]))).toEqual(Buffer.alloc(0));
  });

  it('refuses what is not a binary COPY of one column', () => {
    expect(() => firstByteaOf(Buffer.from('5548998288774\n'.repeat(3)))).toThrow(/binary COPY/);
    expect(() => firstByteaOf(Buffer.concat([header(), int16(2), int32(1), Buffer.from('a'), int32(1), Buffer.from('b'), END]))).toThrow(/one bytea column/);
  });
});
