/** The bounds-checked reader and the zero-filled, back-patching writer. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteReader, ByteWriter, DECODE_ERROR, DecodeError, ENCODE_ERROR, EncodeError } from './index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const failsWith = (code: string, offset?: number) => (e: unknown) => e instanceof DecodeError && e instanceof RangeError && e.code === code && (offset === undefined || e.offset === offset);

describe('ByteReader', () => {
  test('reads each width in both byte orders and tracks offset and remaining', () => {
    const reader = new ByteReader(Uint8Array.of(0x01, 0x02, 0x03, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d));
    assert.equal(reader.u8(), 0x01);
    assert.equal(reader.u16le(), 0x0302);
    assert.equal(reader.u16be(), 0x0203);
    assert.equal(reader.u32le(), 0x07060504);
    assert.equal(reader.u32be(), 0x08090a0b);
    assert.equal(reader.offset, 13);
    assert.equal(reader.remaining, 2);
  });

  test('every read past the end throws DecodeError TRUNCATED at the offset it started from, and moves nothing', () => {
    const reads: Array<[string, (r: ByteReader) => unknown, number]> = [
      ['u8', (r) => r.u8(), 1],
      ['u16le', (r) => r.u16le(), 2],
      ['u16be', (r) => r.u16be(), 2],
      ['u32le', (r) => r.u32le(), 4],
      ['u32be', (r) => r.u32be(), 4],
      ['bytes(3)', (r) => r.bytes(3), 3],
    ];
    for (const [name, read, size] of reads) {
      const reader = new ByteReader(new Uint8Array(size + 1), 2);
      assert.throws(() => read(reader), failsWith(DECODE_ERROR.truncated, 2), name);
      assert.equal(reader.offset, 2, `${name} did not move the cursor`);
    }
  });

  test('bytes(n) is a view into the input, not a copy, and honours a view’s byteOffset', () => {
    const outer = Uint8Array.of(9, 9, 1, 2, 3, 4, 9);
    const input = outer.subarray(2, 6);
    const reader = new ByteReader(input);
    assert.equal(reader.u16be(), 0x0102);
    const view = reader.bytes(2);
    assert.equal(view.buffer, outer.buffer);
    assert.equal(hex(view), '0304');
    assert.throws(() => reader.u8(), failsWith(DECODE_ERROR.truncated), 'the byte after the view is not readable');
  });

  test('cstring needs its NUL within the bounds and the limit', () => {
    const text = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
    const reader = new ByteReader(text('abc\0def\0'));
    assert.equal(hex(reader.cstring(3)), hex(text('abc')));
    assert.equal(reader.offset, 4, 'the NUL is consumed');
    assert.equal(hex(new ByteReader(text('\0')).cstring(0)), '');
    assert.throws(() => new ByteReader(text('abcd\0')).cstring(3), failsWith(DECODE_ERROR.tooLong, 0));
    assert.throws(() => new ByteReader(text('ab')).cstring(3), failsWith(DECODE_ERROR.truncated, 0));
    assert.throws(() => new ByteReader(text('abc')).cstring(3), failsWith(DECODE_ERROR.truncated, 0));
  });

  test('expect names the field and the value', () => {
    const reader = new ByteReader(Uint8Array.of(0x05));
    assert.throws(() => reader.expect(0x04, reader.u8(), 'a buffer format'), (e: unknown) => e instanceof DecodeError && e.code === DECODE_ERROR.badValue && /buffer format is 0x5, expected 0x4/.test(e.message));
  });

  test('a start offset outside the input is refused', () => {
    assert.throws(() => new ByteReader(new Uint8Array(2), 3), failsWith(DECODE_ERROR.truncated));
    assert.throws(() => new ByteReader(new Uint8Array(2), -1), failsWith(DECODE_ERROR.truncated));
    assert.throws(() => new ByteReader(new Uint8Array(2), 0.5), failsWith(DECODE_ERROR.truncated));
    assert.equal(new ByteReader(new Uint8Array(2), 2).remaining, 0);
  });
});

describe('ByteWriter', () => {
  test('writes each width in both byte orders', () => {
    const bytes = new ByteWriter().u8(1).u16le(0x0302).u16be(0x0405).u32le(0x09080706).u32be(0x0a0b0c0d).bytes(Uint8Array.of(0xee)).toBytes();
    assert.equal(hex(bytes), '010203040506070809' + '0a0b0c0d' + 'ee');
  });

  test('fields with the top bit set stay unsigned, written and read back', () => {
    const bytes = new ByteWriter().u32le(0xfedcba98).u32be(0x80000001).u16le(0xffff).u16be(0x8001).toBytes();
    assert.equal(hex(bytes), '98badcfe' + '80000001' + 'ffff' + '8001');
    const reader = new ByteReader(bytes);
    assert.deepEqual([reader.u32le(), reader.u32be(), reader.u16le(), reader.u16be()], [0xfedcba98, 0x80000001, 0xffff, 0x8001]);
  });

  test('returns exactly the bytes written at every size around its first allocation (64 bytes)', () => {
    for (const size of [0, 1, 63, 64, 65, 128, 129]) {
      const writer = new ByteWriter();
      for (let i = 0; i < size; i++) writer.u8(i & 0xff);
      const out = writer.toBytes();
      assert.equal(out.length, size);
      assert.ok(out.every((b, i) => b === (i & 0xff)), `${size} bytes`);
    }
  });

  test('grows past its first allocation and returns exactly the bytes written', () => {
    const writer = new ByteWriter();
    const big = new Uint8Array(1000).fill(0x5a);
    writer.u8(1).bytes(big).u8(2);
    const out = writer.toBytes();
    assert.equal(out.length, 1002);
    assert.equal(out[0], 1);
    assert.equal(out[1001], 2);
    assert.ok(out.subarray(1, 1001).every((b) => b === 0x5a));
  });

  test('reserve writes zeros and patch fills them in later (length fields)', () => {
    const writer = new ByteWriter().u8(0xaa);
    const flagsAt = writer.reserve(1);
    const lengthAt = writer.reserve(2);
    const countAt = writer.reserve(2);
    assert.equal(hex(writer.toBytes()), 'aa' + '00' + '0000' + '0000');
    writer.bytes(Uint8Array.of(1, 2, 3));
    writer.patchU8(flagsAt, 1);
    writer.patchU16be(lengthAt, 0x0102);
    writer.patchU16le(countAt, 3);
    assert.equal(hex(writer.toBytes()), 'aa' + '01' + '0102' + '0300' + '010203');
  });

  test('out-of-range values and patches are EncodeErrors', () => {
    const writer = new ByteWriter().u16le(0);
    const bad = (e: unknown) => e instanceof EncodeError && e instanceof TypeError && e.code === ENCODE_ERROR.badValue;
    assert.throws(() => writer.u8(256), bad);
    assert.throws(() => writer.u8(-1), bad);
    assert.throws(() => writer.u16le(0x10000), bad);
    assert.throws(() => writer.u16be(1.5), bad);
    assert.throws(() => writer.u32le(2 ** 32), bad);
    assert.throws(() => writer.u32be(Number.NaN), bad);
    assert.throws(() => writer.patchU16le(1, 0), EncodeError, 'a patch past what was written');
    assert.throws(() => writer.patchU8(-1, 0), EncodeError);
    assert.throws(() => writer.reserve(-1), EncodeError);
    assert.equal(writer.length, 2, 'failed writes wrote nothing');
  });
});
