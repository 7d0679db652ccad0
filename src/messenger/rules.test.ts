/** The alias rules and NetMessageBufferSend's buffer validation, as examples and as properties. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeMessageBuffer, encodeMessageBuffer } from './buffer.js';
import { NetApiError } from './errors.js';
import { aliasProblem, computerNameFromHostname, normalizeAlias, oemUpperCase } from './names.js';

const invalidParameter = (e: unknown) => e instanceof NetApiError && e.status === 87;

test('normalizeAlias keeps NetBIOS message names upper-case and refuses what a NetBIOS name cannot hold', () => {
  assert.equal(normalizeAlias('alice'), 'ALICE');
  assert.equal(normalizeAlias('josé'), 'JOSÉ');
  assert.equal(normalizeAlias('ABCDEFGHIJKLMNO'), 'ABCDEFGHIJKLMNO');
  assert.equal(normalizeAlias('straße-straße-x'), 'STRAßE-STRAßE-X', 'not STRASSE: 15 characters, 15 bytes');
  const refused: Array<[string, string]> = [
    ['', 'empty'],
    ['ABCDEFGHIJKLMNOP', 'too-long'],
    ['straße-straße-xy', 'too-long'], // ß stays ß, as Samba upper-cases it: 16 characters
    ['a:b', 'forbidden-character'],
    ['a*', 'forbidden-character'],
    ['tab\there', 'forbidden-character'],
    [' bob', 'surrounding-space'],
    ['.hidden', 'leading-period'],
    ['price€', 'not-in-code-page'],
    ['名前', 'not-in-code-page'],
  ];
  for (const [name, problem] of refused) {
    assert.equal(aliasProblem(name), problem, name);
    assert.throws(() => normalizeAlias(name), invalidParameter, name);
  }
  assert.throws(() => normalizeAlias(42), invalidParameter);
});

test('normalizeAlias gives a canonical 1-15 character upper-case name, or ERROR_INVALID_PARAMETER, for any string', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 24, unit: 'binary' }), (name) => {
      let canonical: string;
      try {
        canonical = normalizeAlias(name);
      } catch (error) {
        assert.ok(invalidParameter(error), String(error));
        return;
      }
      assert.equal(canonical, oemUpperCase(canonical), "upper case as the code page's mapping makes it");
      assert.ok(canonical.length >= 1 && canonical.length <= 15);
      assert.equal(normalizeAlias(canonical), canonical, 'idempotent');
    }),
    { numRuns: 2000, interruptAfterTimeLimit: 4000 },
  );
});

test('computerNameFromHostname always yields a valid alias', () => {
  assert.equal(computerNameFromHostname('my-host.example.com'), 'MY-HOST');
  assert.equal(computerNameFromHostname('a-very-long-host-name-indeed'), 'A-VERY-LONG-HOS');
  fc.assert(fc.property(fc.string({ maxLength: 40 }), (host) => aliasProblem(computerNameFromHostname(host)) === null), { numRuns: 1000 });
});

test('decodeMessageBuffer takes buflen bytes of UTF-16LE and refuses inconsistent lengths with 87', () => {
  assert.equal(decodeMessageBuffer('hello', 10, 100), 'hello');
  assert.equal(decodeMessageBuffer('hello', 4, 100), 'he', 'a shorter buflen takes only those bytes, as C does');
  assert.equal(decodeMessageBuffer(encodeMessageBuffer('grüße'), 10, 100), 'grüße');
  assert.equal(decodeMessageBuffer('', 0, 100), '');
  for (const [buf, buflen] of [['abc', 3], ['abc', 8], ['abc', -2], ['abc', 2.5], ['abc', '6'], [42, 2], ['\ud800', 2]] as const) {
    assert.throws(() => decodeMessageBuffer(buf, buflen, 100), invalidParameter, `${String(buf)} ${String(buflen)}`);
  }
  assert.throws(() => decodeMessageBuffer('x'.repeat(60), 120, 100), invalidParameter, 'over the limit');
});

test('any well-formed text survives encodeMessageBuffer → decodeMessageBuffer; any bytes give text or 87', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
      assert.equal(decodeMessageBuffer(encodeMessageBuffer(text), text.length * 2, 1 << 20), text);
      assert.equal(decodeMessageBuffer(text, text.length * 2, 1 << 20), text);
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -4, max: 80 }), (bytes, buflen) => {
      try {
        const text = decodeMessageBuffer(bytes, buflen, 1 << 20);
        assert.equal(text.length * 2, buflen);
      } catch (error) {
        assert.ok(invalidParameter(error), String(error));
      }
    }),
    { numRuns: 2000 },
  );
});
