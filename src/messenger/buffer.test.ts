/** NetMessageBufferSend's buf/buflen validation (buffer.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeMessageBuffer, encodeMessageBuffer } from './buffer.js';
import { NetApiError } from './errors.js';

const BIG = 1 << 20;

const invalidParameter = (words?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof NetApiError, `expected a NetApiError, got ${String(e)}`);
  assert.equal(e.status, 87);
  if (words) assert.match(e.message, words);
  return true;
};

test('decodeMessageBuffer reads a string buf: buflen counts UTF-16 bytes', () => {
  assert.equal(decodeMessageBuffer('hello', 10, 100), 'hello');
  assert.equal(decodeMessageBuffer('grüße 😀', 16, 100), 'grüße 😀', 'the emoji is two code units, four bytes');
});

test('decodeMessageBuffer reads a Uint8Array buf of UTF-16LE bytes, honouring its byteOffset', () => {
  assert.equal(decodeMessageBuffer(encodeMessageBuffer('grüße'), 10, 100), 'grüße');
  assert.deepEqual([...encodeMessageBuffer('Aé')], [0x41, 0x00, 0xe9, 0x00]);
  const backing = new Uint8Array([0xff, 0x41, 0x00, 0x42, 0x00, 0xff]);
  assert.equal(decodeMessageBuffer(backing.subarray(1, 5), 4, 100), 'AB', 'an odd byteOffset into a larger buffer');
  assert.equal(decodeMessageBuffer(Buffer.from('hi', 'utf16le'), 4, 100), 'hi', 'a Node Buffer is a Uint8Array');
});

test('decodeMessageBuffer with a buflen shorter than the buffer takes only those bytes, as C does', () => {
  assert.equal(decodeMessageBuffer('hello', 4, 100), 'he');
  assert.equal(decodeMessageBuffer(encodeMessageBuffer('hello'), 6, 100), 'hel');
  assert.equal(decodeMessageBuffer('hello', 0, 100), '', 'buflen 0 on a non-empty buffer');
});

test('decodeMessageBuffer with buflen 0 gives the empty text', () => {
  assert.equal(decodeMessageBuffer('', 0, 100), '');
  assert.equal(decodeMessageBuffer(new Uint8Array(0), 0, 100), '');
  assert.equal(decodeMessageBuffer('', 0, 0), '', 'even with a zero byte limit');
});

test('decodeMessageBuffer refuses an odd buflen with 87: UTF-16 has two bytes per unit', () => {
  assert.throws(() => decodeMessageBuffer('abc', 3, 100), invalidParameter(/^The parameter is incorrect\. buflen 3 is odd/));
  assert.throws(() => decodeMessageBuffer(encodeMessageBuffer('abc'), 5, 100), invalidParameter(/buflen 5 is odd/));
});

test('decodeMessageBuffer refuses a negative, fractional or non-number buflen with 87', () => {
  for (const buflen of [-2, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '6', null, undefined, 6n]) {
    assert.throws(() => decodeMessageBuffer('abc', buflen, 100), invalidParameter(/buflen must be a byte count/), String(buflen));
  }
});

test('decodeMessageBuffer refuses a buflen past the end of the buffer with 87', () => {
  assert.throws(() => decodeMessageBuffer('abc', 8, 100), invalidParameter(/buflen 8 is longer than the 6-byte buffer/));
  assert.throws(() => decodeMessageBuffer(new Uint8Array(4), 6, 100), invalidParameter(/buflen 6 is longer than the 4-byte buffer/));
});

test('decodeMessageBuffer refuses a buflen over maxBytes with 87, and accepts exactly maxBytes', () => {
  assert.equal(decodeMessageBuffer('x'.repeat(50), 100, 100), 'x'.repeat(50));
  assert.throws(() => decodeMessageBuffer('x'.repeat(60), 102, 100), invalidParameter(/buflen 102 is over the 100-byte message limit/));
  assert.throws(() => decodeMessageBuffer(encodeMessageBuffer('x'.repeat(60)), 120, 100), invalidParameter(/over the 100-byte message limit/));
});

test('decodeMessageBuffer refuses a lone surrogate with 87, also half a pair cut by buflen', () => {
  const surrogate = /not well-formed UTF-16 \(a surrogate is unpaired\)/;
  assert.throws(() => decodeMessageBuffer('\ud800', 2, 100), invalidParameter(surrogate), 'lone high');
  assert.throws(() => decodeMessageBuffer('a\udc00', 4, 100), invalidParameter(surrogate), 'lone low');
  assert.throws(() => decodeMessageBuffer(new Uint8Array([0x00, 0xd8, 0x41, 0x00]), 4, 100), invalidParameter(surrogate), 'bytes of a lone high');
  assert.throws(() => decodeMessageBuffer('😀', 2, 100), invalidParameter(surrogate), 'buflen keeps only the high half of a pair');
});

test('decodeMessageBuffer refuses a buf that is neither a string nor a Uint8Array with 87', () => {
  for (const buf of [42, null, undefined, [0x41, 0x00], new ArrayBuffer(2), { length: 2 }]) {
    assert.throws(() => decodeMessageBuffer(buf, 2, 100), invalidParameter(/buf must be a string or a Uint8Array/), String(buf));
  }
});

test('decodeMessageBuffer gives back any well-formed text from its bytes and from the string itself', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200, unit: 'binary' }), fc.string({ maxLength: 50, unit: 'grapheme' }), (a, b) => {
      const t = a + b;
      fc.pre(t.isWellFormed());
      assert.equal(decodeMessageBuffer(encodeMessageBuffer(t), 2 * t.length, BIG), t);
      assert.equal(decodeMessageBuffer(t, 2 * t.length, BIG), t);
    }),
    { numRuns: 1000 },
  );
});

test('decodeMessageBuffer on any code units returns them exactly when well-formed, else throws 87', () => {
  const units = fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), { maxLength: 40 });
  fc.assert(
    fc.property(units, (codes) => {
      const t = String.fromCharCode(...codes);
      for (const buf of [t, encodeMessageBuffer(t)]) {
        if (t.isWellFormed()) assert.equal(decodeMessageBuffer(buf, 2 * t.length, BIG), t);
        else assert.throws(() => decodeMessageBuffer(buf, 2 * t.length, BIG), invalidParameter(/surrogate/));
      }
    }),
    { numRuns: 1000 },
  );
});

test('decodeMessageBuffer on any bytes and any buflen gives buflen/2 code units or 87, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -4, max: 80 }), fc.integer({ min: 0, max: 80 }), (bytes, buflen, maxBytes) => {
      let text: string;
      try {
        text = decodeMessageBuffer(bytes, buflen, maxBytes);
      } catch (error) {
        assert.ok(error instanceof NetApiError && error.status === 87, String(error));
        return;
      }
      assert.equal(text.length * 2, buflen);
      assert.ok(buflen <= maxBytes && buflen <= bytes.byteLength);
    }),
    { numRuns: 1000 },
  );
});
