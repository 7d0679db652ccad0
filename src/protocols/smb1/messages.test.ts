/**
 * SMB1 message commands against bytes written out by hand from [MS-CIFS] §2.2.3.1 and §2.2.4.*
 * (a small builder below, independent of ByteWriter), hostile inputs, and the OEM helpers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecodeError, EncodeError } from '../bytes/index.js';
import {
  DOS_ERROR,
  MAX_DIALECTS,
  MAX_NAME_FIELD,
  SMB_COMMAND,
  decodeOem,
  decodeSmbMessage,
  decodeSmbRequest,
  decodeSmbResponse,
  encodeOem,
  encodeSmbMessage,
  encodeSmbRequest,
  encodeSmbResponse,
  fromCrlf,
  toCrlf,
  type SmbRequest,
  type SmbRequestBody,
} from './index.js';

/** The 32-byte header as [MS-CIFS] §2.2.3.1 lays it out, then WordCount, words, ByteCount, bytes. */
function smb(fields: { command: number; status?: string; flags?: number; pid?: number; tid?: number; uid?: number; mid?: number }, words: number[], data: string): string {
  const header = Buffer.alloc(32);
  header.write('ff534d42', 0, 'hex');
  header[4] = fields.command;
  header.write(fields.status ?? '00000000', 5, 'hex');
  header[9] = fields.flags ?? 0;
  header.writeUInt16LE(((fields.pid ?? 0) >>> 16) & 0xffff, 12);
  header.writeUInt16LE(fields.tid ?? 0, 24);
  header.writeUInt16LE((fields.pid ?? 0) & 0xffff, 26);
  header.writeUInt16LE(fields.uid ?? 0, 28);
  header.writeUInt16LE(fields.mid ?? 0, 30);
  const parameters = Buffer.alloc(1 + 2 * words.length);
  parameters[0] = words.length;
  words.forEach((word, i) => parameters.writeUInt16LE(word, 1 + 2 * i));
  const dataBytes = Buffer.from(data, 'hex');
  const count = Buffer.alloc(2);
  count.writeUInt16LE(dataBytes.length);
  return Buffer.concat([header, parameters, count, dataBytes]).toString('hex');
}
const ascii = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const oem = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const decodeError = (code: string) => (e: unknown) => e instanceof DecodeError && e.code === code;

const ids = { mid: 0x0102, pid: 0x00053f12 };

const REQUESTS: Array<{ name: string; body: SmbRequestBody; hex: string }> = [
  {
    name: 'SEND_MESSAGE (0xD0): 04 originator 00 04 destination 00 01 len text',
    body: { command: SMB_COMMAND.sendMessage, originator: oem('alice'), destination: oem('BOB'), text: oem('hi\r\n') },
    hex: smb({ command: 0xd0, ...ids }, [], `04${ascii('alice')}00` + `04${ascii('BOB')}00` + '01' + '0400' + ascii('hi\r\n')),
  },
  {
    name: 'SEND_START_MB_MESSAGE (0xD5): originator and destination, no words',
    body: { command: SMB_COMMAND.sendStartMbMessage, originator: oem('alice'), destination: oem('BOB') },
    hex: smb({ command: 0xd5, ...ids }, [], `04${ascii('alice')}00` + `04${ascii('BOB')}00`),
  },
  {
    name: 'SEND_TEXT_MB_MESSAGE (0xD7): the group id word, then one data block',
    body: { command: SMB_COMMAND.sendTextMbMessage, groupId: 0xbeef, text: oem('caf\x82') },
    hex: smb({ command: 0xd7, ...ids }, [0xbeef], '01' + '0400' + '63616682'),
  },
  {
    name: 'SEND_END_MB_MESSAGE (0xD6): the group id word, no bytes',
    body: { command: SMB_COMMAND.sendEndMbMessage, groupId: 7 },
    hex: smb({ command: 0xd6, ...ids }, [7], ''),
  },
  {
    name: 'NEGOTIATE (0x72): 02-prefixed NUL-terminated dialects',
    body: { command: SMB_COMMAND.negotiate, dialects: ['PC NETWORK PROGRAM 1.0', 'NT LM 0.12'] },
    hex: smb({ command: 0x72, ...ids }, [], `02${ascii('PC NETWORK PROGRAM 1.0')}00` + `02${ascii('NT LM 0.12')}00`),
  },
  {
    name: 'SEND_MESSAGE with empty names and text',
    body: { command: SMB_COMMAND.sendMessage, originator: oem(''), destination: oem(''), text: oem('') },
    hex: smb({ command: 0xd0, ...ids }, [], '0400' + '0400' + '010000'),
  },
];

describe('requests: encode to the hand-built bytes, decode back, also from inside a larger buffer', () => {
  for (const row of REQUESTS) {
    test(row.name, () => {
      assert.equal(hex(encodeSmbRequest(row.body, ids)), row.hex);
      const { header, ...body } = decodeSmbRequest(bytes(row.hex)) as SmbRequestBody & { header: { mid: number; pidLow: number; pidHigh: number } };
      assert.deepEqual(body, row.body);
      assert.equal(header.mid, ids.mid);
      assert.equal((header.pidHigh << 16) | header.pidLow, ids.pid);
      const outer = bytes(`abcdef${row.hex}abcdef`);
      const { header: atOffsetHeader, ...atOffset } = decodeSmbRequest(outer.subarray(3, outer.length - 3)) as SmbRequestBody & { header: unknown };
      assert.deepEqual(atOffset, row.body);
      assert.deepEqual(atOffsetHeader, header);
    });
  }
});

describe('responses echo the request header with the reply flag', () => {
  const request = decodeSmbRequest(encodeSmbRequest({ command: SMB_COMMAND.sendStartMbMessage, originator: oem('a'), destination: oem('B') }, ids));
  const echoed = { command: 0xd5, flags: 0x80, ...ids };

  test('success, wc 0 (as smbd answers every message command)', () => {
    assert.equal(hex(encodeSmbResponse(request, { kind: 'ok' })), smb(echoed, [], ''));
  });

  test('SEND_START_MB_MESSAGE with the group id word', () => {
    const reply = encodeSmbResponse(request, { kind: 'groupId', groupId: 0x1234 });
    assert.equal(hex(reply), smb(echoed, [0x1234], ''));
    assert.equal(decodeSmbResponse(reply, 0xd5).groupId, 0x1234);
  });

  test('a wc 0 SEND_START_MB_MESSAGE reply gives no group id', () => {
    assert.equal(decodeSmbResponse(bytes(smb(echoed, [], '')), 0xd5).groupId, undefined);
  });

  for (const [name, error] of Object.entries(DOS_ERROR)) {
    test(`DOS error ${name}: class, reserved 0, code little-endian; wc 0 bc 0`, () => {
      const status = Buffer.from([error.errorClass, 0, error.code & 0xff, error.code >> 8]).toString('hex');
      const reply = encodeSmbResponse(request, { kind: 'error', error });
      assert.equal(hex(reply), smb({ ...echoed, status }, [], ''));
      assert.deepEqual(decodeSmbResponse(reply, 0xd5).status, { kind: 'dos', ...error });
    });
  }

  test('NEGOTIATE with no dialect we speak: wc 1, DialectIndex 0xFFFF', () => {
    const negotiate = decodeSmbRequest(encodeSmbRequest({ command: SMB_COMMAND.negotiate, dialects: ['LANMAN1.0'] }, ids));
    const reply = encodeSmbResponse(negotiate, { kind: 'negotiate', dialectIndex: 0xffff });
    assert.equal(hex(reply), smb({ ...echoed, command: 0x72 }, [0xffff], ''));
  });

  test('NEGOTIATE NT LM 0.12: wc 17, share level, no challenge, the given system time', () => {
    const negotiate = decodeSmbRequest(encodeSmbRequest({ command: SMB_COMMAND.negotiate, dialects: ['NT LM 0.12'] }, ids));
    const systemTime = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    const filetime = BigInt(systemTime.getTime()) * 10_000n + 116_444_736_000_000_000n;
    // [MS-CIFS] §2.2.4.52.2: 34 parameter bytes
    const words = Buffer.alloc(34);
    words.writeUInt16LE(2, 0); // DialectIndex
    words[2] = 0; // SecurityMode
    words.writeUInt16LE(1, 3); // MaxMpxCount
    words.writeUInt16LE(1, 5); // MaxNumberVcs
    words.writeUInt32LE(0x10000, 7); // MaxBufferSize; MaxRawSize, SessionKey, Capabilities stay 0
    words.writeBigUInt64LE(filetime, 23); // SystemTime; ServerTimeZone and ChallengeLength stay 0
    const reply = encodeSmbResponse(negotiate, { kind: 'negotiate', dialectIndex: 2, systemTime });
    const header = smb({ ...echoed, command: 0x72 }, [], '').slice(0, 64);
    assert.equal(hex(reply), `${header}11${words.toString('hex')}0100` + '00');
    assert.equal(decodeSmbResponse(reply, 0x72).dialectIndex, 2);
    assert.throws(() => encodeSmbResponse(negotiate, { kind: 'negotiate', dialectIndex: 2, systemTime: new Date(Number.NaN) }), EncodeError);
  });

  test('an error reply that ends after its header is read as the bare status', () => {
    const reply = bytes(smb({ ...echoed, status: '01004700' }, [], '')).subarray(0, 32);
    assert.deepEqual(decodeSmbResponse(reply, 0xd5).status, { kind: 'dos', errorClass: 1, code: 71 });
  });
});

describe('the generic message codec (words and bytes of any command)', () => {
  test('round-trips a header, words and bytes, and says where the bytes start', () => {
    const header = { command: 0x25, status: { kind: 'success' as const }, flags: 0, flags2: 0, pidHigh: 0, tid: 1, pidLow: 2, uid: 3, mid: 4 };
    const encoded = encodeSmbMessage(header, [1, 2, 0xffff], oem('data'));
    assert.equal(hex(encoded), smb({ command: 0x25, tid: 1, pid: 2, uid: 3, mid: 4 }, [1, 2, 0xffff], ascii('data')));
    const decoded = decodeSmbMessage(encoded);
    assert.deepEqual(decoded.words, [1, 2, 0xffff]);
    assert.equal(hex(decoded.bytes), ascii('data'));
    assert.equal(decoded.bytesOffset, 32 + 1 + 6 + 2);
  });
});

describe('hostile requests are DecodeErrors with a stable code', () => {
  const d0 = (data: string, words: number[] = []) => bytes(smb({ command: 0xd0 }, words, data));
  const bare = smb({ command: 0xd0 }, [], '');
  const cases: Array<[string, Uint8Array, string]> = [
    ['no 0xFF "SMB" magic', bytes(`fe${bare.slice(2)}`), 'NETSEND_DECODE_BAD_VALUE'],
    ['a reply where a request belongs', bytes(smb({ command: 0xd0, flags: 0x80 }, [], '')), 'NETSEND_DECODE_BAD_VALUE'],
    ['WordCount past the end', bytes(`${bare.slice(0, 64)}ff0000`), 'NETSEND_DECODE_TRUNCATED'],
    ['ByteCount past the end', bytes(`${bare.slice(0, 66)}ffff00`), 'NETSEND_DECODE_TRUNCATED'],
    ['SEND_MESSAGE with a word', d0(`04${ascii('a')}0004${ascii('b')}00010000`, [1]), 'NETSEND_DECODE_BAD_VALUE'],
    ['SEND_END_MB_MESSAGE without its word', bytes(smb({ command: 0xd6 }, [], '')), 'NETSEND_DECODE_BAD_VALUE'],
    ['an originator without buffer format 04', d0(`05${ascii('a')}0004${ascii('b')}00010000`), 'NETSEND_DECODE_BAD_VALUE'],
    ['an originator without its NUL', d0(`04${ascii('abc')}`), 'NETSEND_DECODE_TRUNCATED'],
    ['an originator over the name limit', d0(`04${'41'.repeat(MAX_NAME_FIELD + 1)}00` + `04${ascii('b')}00010000`), 'NETSEND_DECODE_TOO_LONG'],
    ['text without buffer format 01', d0(`04${ascii('a')}0004${ascii('b')}00020000`), 'NETSEND_DECODE_BAD_VALUE'],
    ['a text length past ByteCount', d0(`04${ascii('a')}0004${ascii('b')}000105006869`), 'NETSEND_DECODE_TRUNCATED'],
    ['a text length of 65535 in a short message', d0(`04${ascii('a')}0004${ascii('b')}0001ffff6869`), 'NETSEND_DECODE_TRUNCATED'],
    ['a dialect without buffer format 02', bytes(smb({ command: 0x72 }, [], `03${ascii('NT LM 0.12')}00`)), 'NETSEND_DECODE_BAD_VALUE'],
    ['too many dialects', bytes(smb({ command: 0x72 }, [], `02${ascii('x')}00`.repeat(MAX_DIALECTS + 1))), 'NETSEND_DECODE_TOO_LONG'],
  ];
  for (const [name, input, code] of cases) {
    test(name, () => assert.throws(() => decodeSmbRequest(input), decodeError(code)));
  }

  test('error offsets count from the header’s first byte', () => {
    // header 32, WordCount 1, ByteCount 2, then 0x05 where 0x04 belongs
    assert.throws(() => decodeSmbRequest(d0(`05${ascii('a')}00`)), (e: unknown) => e instanceof DecodeError && e.offset === 35);
  });

  test('a command netsend does not speak comes back as unknown, for an error reply', () => {
    const request: SmbRequest = decodeSmbRequest(bytes(smb({ command: 0x2e, mid: 9 }, [1, 2], 'abcd')));
    assert.equal(request.command, 'unknown');
    assert.equal(request.header.mid, 9);
  });

  test('a reply to a different command, or a request where a reply belongs, is refused', () => {
    assert.throws(() => decodeSmbResponse(bytes(smb({ command: 0xd6, flags: 0x80 }, [], '')), 0xd5), decodeError('NETSEND_DECODE_BAD_VALUE'));
    assert.throws(() => decodeSmbResponse(bytes(smb({ command: 0xd5 }, [], '')), 0xd5), decodeError('NETSEND_DECODE_BAD_VALUE'));
  });
});

describe('the encoder refuses what the wire cannot carry', () => {
  const cases: Array<[string, SmbRequestBody]> = [
    ['a NUL inside a name', { command: SMB_COMMAND.sendStartMbMessage, originator: oem('a\0b'), destination: oem('B') }],
    ['a name over the limit', { command: SMB_COMMAND.sendStartMbMessage, originator: new Uint8Array(MAX_NAME_FIELD + 1).fill(0x41), destination: oem('B') }],
    ['text over 65,535 bytes', { command: SMB_COMMAND.sendTextMbMessage, groupId: 1, text: new Uint8Array(0x10000) }],
    ['a group id over 16 bits', { command: SMB_COMMAND.sendEndMbMessage, groupId: 0x10000 }],
    ['a dialect with a character over one byte', { command: SMB_COMMAND.negotiate, dialects: ['NT LM 0.12 \u2026'] }],
  ];
  for (const [name, body] of cases) test(name, () => assert.throws(() => encodeSmbRequest(body, ids), EncodeError));
});

describe('OEM text', () => {
  test('CP850 by default, as Samba: é is 0x82 (PEERS.md §2)', () => {
    assert.deepEqual(encodeOem('café'), { bytes: Uint8Array.of(0x63, 0x61, 0x66, 0x82), lossy: false });
    assert.equal(decodeOem(Uint8Array.of(0x63, 0x61, 0x66, 0x82)), 'café');
  });

  test('another code page when asked: CP1252 é is 0xE9', () => {
    assert.deepEqual(encodeOem('café', 'CP1252').bytes, Uint8Array.of(0x63, 0x61, 0x66, 0xe9));
  });

  test('a character the code page lacks is replaced, and the result says so', () => {
    assert.deepEqual(encodeOem('5 €'), { bytes: oem('5 ?'), lossy: true });
    assert.deepEqual(encodeOem('Ā'), { bytes: oem('A'), lossy: true });
  });

  test('decodes from a view inside a larger buffer', () => {
    const outer = Uint8Array.of(0x41, 0x82, 0x42);
    assert.equal(decodeOem(outer.subarray(1, 2)), 'é');
  });

  test('LF becomes CRLF on the way out and back', () => {
    assert.equal(toCrlf('a\nb\r\nc\n'), 'a\r\nb\r\nc\r\n');
    assert.equal(fromCrlf('a\r\nb\rc\r\n'), 'a\nb\rc\n');
    assert.equal(fromCrlf(toCrlf('one\ntwo\n\nthree')), 'one\ntwo\n\nthree');
  });
});
