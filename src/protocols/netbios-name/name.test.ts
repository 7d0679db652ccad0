/**
 * NetBIOS names (RFC 1001 §14, RFC 1002 §4.1): encodings written out by hand or taken from the
 * RFC and from smbclient's session request, and the hostile-name catalogue.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecodeError, EncodeError } from '../bytes/index.js';
import { MAX_ENCODED_NAME, SUFFIX, decodeNetbiosName, encodeNetbiosName, formatNetbiosName, toWireName, type NetbiosName } from './index.js';

const ascii = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const decodeError = (code: string) => (e: unknown) => e instanceof DecodeError && e.code === code;
/** A label: its length byte, then its bytes. */
const label = (text: string) => (text.length.toString(16).padStart(2, '0')) + ascii(text);

const ROWS: Array<{ name: string; value: NetbiosName; hex: string; source: string }> = [
  {
    name: 'FRED<20> with scope NETBIOS.COM',
    value: { name: 'FRED', suffix: 0x20, scope: 'NETBIOS.COM' },
    hex: label('EGFCEFEECACACACACACACACACACACACA') + label('NETBIOS') + label('COM') + '00',
    source: 'RFC 1001 §14.1 example (FRED padded with spaces) with the scope of RFC 1001 §14.2',
  },
  {
    name: 'SOMENAME<03>',
    value: { name: 'SOMENAME', suffix: SUFFIX.messenger, scope: '' },
    hex: label('FDEPENEFEOEBENEF' + 'CA'.repeat(7) + 'AD') + '00',
    source: 'called name of smbclient 4.17.12 -M SOMENAME, peers/captures/smbclient-to-fake-server.txt §1',
  },
  {
    name: "CAF\\x90<03>: OEM bytes over 0x7F (CP850 'É') kept as one latin1 character each",
    value: { name: 'CAF\x90', suffix: 0x03, scope: '' },
    hex: label('EDEBEGJA' + 'CA'.repeat(11) + 'AD') + '00',
    source: 'hand-encoded: 0x90 → J A',
  },
  {
    name: 'ABCDEFGHIJKLMNO<1B>: all 15 characters, no padding',
    value: { name: 'ABCDEFGHIJKLMNO', suffix: SUFFIX.domainMasterBrowser, scope: '' },
    hex: label('EBECEDEEEFEGEHEIEJEKELEMENEOEPBL') + '00',
    source: 'hand-encoded',
  },
];

describe('names: encode to the given bytes, decode back, also at an offset', () => {
  for (const row of ROWS) {
    test(`${row.name} (${row.source})`, () => {
      assert.equal(hex(encodeNetbiosName(row.value)), row.hex);
      assert.deepEqual(decodeNetbiosName(bytes(row.hex)), { value: row.value, next: row.hex.length / 2 });
      const buffer = bytes(`ffee${row.hex}ddcc`);
      assert.deepEqual(decodeNetbiosName(buffer, 2), { value: row.value, next: 2 + row.hex.length / 2 });
    });
  }

  test('every truncation is a DecodeError', () => {
    for (const row of ROWS) {
      const full = bytes(row.hex);
      for (let cut = 0; cut < full.length; cut++) assert.throws(() => decodeNetbiosName(full.subarray(0, cut)), decodeError('NETSEND_DECODE_TRUNCATED'), `${row.name} cut at ${cut}`);
    }
  });

  test('trailing spaces are padding: they are stripped on decode', () => {
    assert.equal(decodeNetbiosName(encodeNetbiosName({ name: 'BOB  ', suffix: 0, scope: '' })).value.name, 'BOB');
  });

  test('formatNetbiosName prints as tshark and nmblookup do', () => {
    assert.equal(formatNetbiosName({ name: 'ALICE', suffix: 3, scope: '' }), 'ALICE<03>');
    assert.equal(formatNetbiosName({ name: 'FRED', suffix: 0x20, scope: 'NETBIOS.COM' }), 'FRED<20>.NETBIOS.COM');
  });
});

describe('hostile names are DecodeErrors with a stable code', () => {
  const fred = 'EGFCEFEECACACACACACACACACACACACA';
  const cases: Array<[string, string, string]> = [
    ['no labels at all', '00', 'NETSEND_DECODE_BAD_VALUE'],
    ['a first label of 31 letters', label(fred.slice(1)) + '00', 'NETSEND_DECODE_BAD_VALUE'],
    ['a first label of 33 letters', label(`${fred}A`) + '00', 'NETSEND_DECODE_BAD_VALUE'],
    ['a letter after P', label(`Q${fred.slice(1)}`) + '00', 'NETSEND_DECODE_BAD_VALUE'],
    ['a letter before A', label(`@${fred.slice(1)}`) + '00', 'NETSEND_DECODE_BAD_VALUE'],
    ['a lower-case letter', label(`${fred.slice(0, 31)}a`) + '00', 'NETSEND_DECODE_BAD_VALUE'],
    ['label length 0x40 (reserved top bits 01)', label(fred) + '40' + '00', 'NETSEND_DECODE_BAD_VALUE'],
    ['label length 0x80 (reserved top bits 10)', '80' + '00', 'NETSEND_DECODE_BAD_VALUE'],
    ['a compression pointer, which the session service does not allow', label(fred) + 'c000', 'NETSEND_DECODE_BAD_VALUE'],
    ['a scope label holding a dot', label(fred) + label('a.b') + '00', 'NETSEND_DECODE_BAD_VALUE'],
    ['more than 255 bytes in all', label(fred) + label('x'.repeat(63)).repeat(4) + '00', 'NETSEND_DECODE_TOO_LONG'],
    ['no terminating 0 byte', label(fred), 'NETSEND_DECODE_TRUNCATED'],
  ];
  for (const [name, input, code] of cases) {
    test(name, () => assert.throws(() => decodeNetbiosName(bytes(input)), decodeError(code)));
  }

  test('an offset outside the input', () => {
    assert.throws(() => decodeNetbiosName(bytes('00'), 2), decodeError('NETSEND_DECODE_TRUNCATED'));
    assert.throws(() => decodeNetbiosName(bytes('00'), -1), decodeError('NETSEND_DECODE_TRUNCATED'));
  });

  test('a name of exactly 255 bytes decodes', () => {
    // 34 for the first label and its end byte; 221 more as 3 labels of 63 and one of 29 (+4 length bytes)
    const encoded = label('EGFCEFEECACACACACACACACACACACACA') + label('x'.repeat(63)).repeat(3) + label('x'.repeat(28)) + '00';
    assert.equal(encoded.length / 2, MAX_ENCODED_NAME);
    assert.equal(decodeNetbiosName(bytes(encoded)).next, MAX_ENCODED_NAME);
  });

  test('with compression allowed (the name service form), a pointer back is followed and next is after it', () => {
    const first = label('EGFCEFEECACACACACACACACACACACACA') + '00';
    const buffer = bytes(first + 'c000');
    assert.deepEqual(decodeNetbiosName(buffer, first.length / 2, { compression: true }), { value: { name: 'FRED', suffix: 0x20, scope: '' }, next: buffer.length });
  });
});

describe('the encoder refuses names the wire cannot carry', () => {
  const cases: Array<[string, NetbiosName]> = [
    ['an empty name', { name: '', suffix: 0, scope: '' }],
    ['16 characters', { name: 'ABCDEFGHIJKLMNOP', suffix: 0, scope: '' }],
    ['a character over one byte', { name: 'CAF€', suffix: 0, scope: '' }],
    ['a suffix over 255', { name: 'A', suffix: 256, scope: '' }],
    ['an empty scope label', { name: 'A', suffix: 0, scope: 'a..b' }],
    ['a scope label of 64 bytes', { name: 'A', suffix: 0, scope: 'x'.repeat(64) }],
    ['more than 255 bytes in all', { name: 'A', suffix: 0, scope: Array(4).fill('x'.repeat(63)).join('.') }],
  ];
  for (const [name, value] of cases) test(name, () => assert.throws(() => encodeNetbiosName(value), EncodeError));
});

describe('toWireName', () => {
  test('upper-cases ASCII letters and leaves OEM bytes over 0x7F alone', () => {
    assert.equal(toWireName('alice'), 'ALICE');
    assert.equal(toWireName('pc-07_x'), 'PC-07_X');
    assert.equal(toWireName('caf\x82'), 'CAF\x82');
  });

  test('refuses an empty name, more than 15 characters, and characters over one byte', () => {
    assert.throws(() => toWireName(''), EncodeError);
    assert.throws(() => toWireName('a'.repeat(16)), EncodeError);
    assert.throws(() => toWireName('bücher€'), EncodeError);
  });
});
