/**
 * Session service packets (RFC 1002 §4.3) against headers written out by hand, the hostile
 * header catalogue, and the framer's limits and splits.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecodeError, EncodeError } from '../bytes/index.js';
import { DEFAULT_MAX_FRAME, NEGATIVE_RESPONSE, NbssFramer, decodeNbssPacket, encodeNbssPacket, type NbssPacket } from './index.js';

/** type, flags, 16-bit big-endian length (RFC 1002 §4.3.1), then the body. */
function frame(type: number, body: string, flags?: number): string {
  const length = body.length / 2;
  const header = Buffer.from([type, flags ?? (length > 0xffff ? 1 : 0), (length >> 8) & 0xff, length & 0xff]);
  return header.toString('hex') + body;
}
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const decodeError = (code: string) => (e: unknown) => e instanceof DecodeError && e.code === code;

/** ALICE<03> and NETSEND<00>, first-level encoded by hand: 'A' + each half-byte. */
const ALICE_03 = `20${Buffer.from('EBEMEJEDEFCACACACACACACACACACAAD').toString('hex')}00`;
const NETSEND_00 = `20${Buffer.from('EOEFFEFDEFEOEECACACACACACACACAAA').toString('hex')}00`;
const BIG = 'ab'.repeat(70_000);

const ROWS: Array<{ name: string; packet: NbssPacket; hex: string }> = [
  { name: 'session message', packet: { type: 'message', payload: bytes('ff534d42') }, hex: frame(0x00, 'ff534d42') },
  { name: 'empty session message', packet: { type: 'message', payload: new Uint8Array(0) }, hex: frame(0x00, '') },
  { name: 'session message over 64 KiB: the E bit carries the 17th length bit', packet: { type: 'message', payload: bytes(BIG) }, hex: frame(0x00, BIG) },
  {
    name: 'session request ALICE<03> from NETSEND<00>',
    packet: { type: 'sessionRequest', called: { name: 'ALICE', suffix: 0x03, scope: '' }, calling: { name: 'NETSEND', suffix: 0x00, scope: '' } },
    hex: frame(0x81, ALICE_03 + NETSEND_00),
  },
  { name: 'positive session response', packet: { type: 'positiveResponse' }, hex: '82000000' },
  ...Object.entries(NEGATIVE_RESPONSE).map(([name, error]) => ({
    name: `negative session response ${name}`,
    packet: { type: 'negativeResponse', error } as const,
    hex: frame(0x83, error.toString(16)),
  })),
  { name: 'retarget response to 192.0.2.7:1139', packet: { type: 'retargetResponse', ip: '192.0.2.7', port: 1139 }, hex: frame(0x84, 'c0000207' + '0473') },
  { name: 'keepalive', packet: { type: 'keepalive' }, hex: '85000000' },
];

describe('packets: encode to the hand-built bytes, decode back, also from inside a larger buffer', () => {
  for (const row of ROWS) {
    test(row.name, () => {
      assert.equal(hex(encodeNbssPacket(row.packet)), row.hex);
      assert.deepEqual(decodeNbssPacket(bytes(row.hex)), row.packet);
      const outer = bytes(`0102${row.hex}0304`);
      assert.deepEqual(decodeNbssPacket(outer.subarray(2, outer.length - 2)), row.packet);
    });
  }

  test('the E bit shows in the flags byte', () => {
    assert.equal(hex(encodeNbssPacket({ type: 'message', payload: new Uint8Array(70_000) }).subarray(0, 4)), '00011170');
  });
});

describe('hostile headers and bodies are DecodeErrors with a stable code', () => {
  const cases: Array<[string, string, string]> = [
    ['an unknown type', '86000000', 'NETSEND_DECODE_BAD_VALUE'],
    ['reserved flag bits', '00020000', 'NETSEND_DECODE_BAD_VALUE'],
    ['the E bit on a control packet (only messages use it)', '85010000', 'NETSEND_DECODE_TOO_LONG'],
    ['a keepalive with a body', '8500000100', 'NETSEND_DECODE_TOO_LONG'],
    ['a positive response with a body', '8200000100', 'NETSEND_DECODE_TOO_LONG'],
    ['a negative response without its code', '83000000', 'NETSEND_DECODE_BAD_VALUE'],
    ['a negative response code the RFC does not list', frame(0x83, '84'), 'NETSEND_DECODE_BAD_VALUE'],
    ['a retarget response of 5 bytes', frame(0x84, 'c000020704'), 'NETSEND_DECODE_BAD_VALUE'],
    ['a session request longer than two names can be', frame(0x81, '00'.repeat(511)), 'NETSEND_DECODE_TOO_LONG'],
    ['a session request too short for two names', frame(0x81, ALICE_03), 'NETSEND_DECODE_BAD_VALUE'],
    ['a session request whose calling name is cut short', frame(0x81, ALICE_03 + '20' + '41'.repeat(32) + '05' + '61626364'), 'NETSEND_DECODE_TRUNCATED'],
    ['a session request with bytes after the calling name', frame(0x81, ALICE_03 + NETSEND_00 + '00'), 'NETSEND_DECODE_TOO_LONG'],
    ['a session request with a compression pointer', frame(0x81, ALICE_03 + 'c004' + '00'.repeat(32)), 'NETSEND_DECODE_BAD_VALUE'],
    ['a declared length past the frame', '000000ff0102', 'NETSEND_DECODE_TRUNCATED'],
    ['a frame longer than declared', '000000010102', 'NETSEND_DECODE_TOO_LONG'],
    ['a header cut short', '0000', 'NETSEND_DECODE_TRUNCATED'],
  ];
  for (const [name, input, code] of cases) {
    test(name, () => assert.throws(() => decodeNbssPacket(bytes(input)), decodeError(code)));
  }

  test('the encoder refuses a bad address or port, an unlisted negative code and an oversized body', () => {
    assert.throws(() => encodeNbssPacket({ type: 'retargetResponse', ip: '192.0.2.256', port: 1 }), EncodeError);
    assert.throws(() => encodeNbssPacket({ type: 'retargetResponse', ip: '192.0.2', port: 1 }), EncodeError);
    assert.throws(() => encodeNbssPacket({ type: 'retargetResponse', ip: '1.2.3.4', port: 65536 }), EncodeError);
    assert.throws(() => encodeNbssPacket({ type: 'negativeResponse', error: 0x84 as 0x80 }), EncodeError);
    assert.throws(() => encodeNbssPacket({ type: 'message', payload: new Uint8Array(0x20000) }), (e: unknown) => e instanceof EncodeError && e.code === 'NETSEND_ENCODE_TOO_LONG');
  });
});

describe('NbssFramer', () => {
  const small = ROWS.filter((row) => row.hex.length < 4000);
  const stream = bytes(small.map((row) => row.hex).join(''));
  const run = (framer: NbssFramer, chunks: Uint8Array[]) => chunks.flatMap((chunk) => framer.push(chunk)).map((p) => hex(encodeNbssPacket(p)));

  test('yields every packet whatever two pieces the stream arrives in, and one byte at a time', () => {
    const expected = small.map((row) => row.hex);
    for (let split = 0; split <= stream.length; split++) {
      assert.deepEqual(run(new NbssFramer(), [stream.subarray(0, split), stream.subarray(split)]), expected, `split at ${split}`);
    }
    const framer = new NbssFramer();
    assert.deepEqual(run(framer, [...stream].map((b) => Uint8Array.of(b))), expected);
    assert.equal(framer.buffered, 0);
  });

  test('a 70,000-byte message (E bit) arrives whole in any pieces when the limit allows it', () => {
    const big = bytes(frame(0x00, BIG));
    for (const size of [1, 3, 1000, 65_536, 70_003]) {
      const framer = new NbssFramer(0x20003);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < big.length; at += size) chunks.push(big.subarray(at, at + size));
      const out = chunks.flatMap((chunk) => framer.push(chunk));
      assert.equal(out.length, 1, `pieces of ${size}`);
      assert.equal(hex((out[0] as { payload: Uint8Array }).payload), BIG);
    }
  });

  test('frames that lie whole in a chunk are views into it, not copies', () => {
    const chunk = bytes(frame(0x00, 'aabbcc') + frame(0x00, 'dd'));
    const out = new NbssFramer().push(chunk) as Array<{ payload: Uint8Array }>;
    assert.equal(out.length, 2);
    for (const packet of out) assert.equal(packet.payload.buffer, chunk.buffer);
  });

  test('refuses a frame whose declared size is over the limit as soon as its header is in', () => {
    const framer = new NbssFramer(1024);
    assert.deepEqual(framer.push(Uint8Array.of(0x00, 0x00)), []);
    assert.throws(() => framer.push(Uint8Array.of(0x08, 0x00)), decodeError('NETSEND_DECODE_TOO_LONG'));
    assert.equal(framer.buffered, 4, 'only the header: no room was made for the body');
  });

  test('the default limit takes the largest SMB1 message and refuses one byte more', () => {
    const largest = DEFAULT_MAX_FRAME - 4;
    const header = (length: number) => Uint8Array.of(0, length >> 16, (length >> 8) & 0xff, length & 0xff);
    assert.equal(largest, 32 + 1 + 510 + 2 + 0xffff);
    const framer = new NbssFramer();
    assert.deepEqual(framer.push(header(largest)), []);
    assert.equal(framer.buffered, 4);
    assert.throws(() => new NbssFramer().push(header(largest + 1)), decodeError('NETSEND_DECODE_TOO_LONG'));
  });

  test('refuses a control packet with a message-sized length before buffering it', () => {
    assert.throws(() => new NbssFramer().push(bytes('81000fff')), decodeError('NETSEND_DECODE_TOO_LONG'));
  });

  test('a malformed frame after a good one in the same chunk is a DecodeError', () => {
    assert.throws(() => new NbssFramer().push(bytes('85000000' + '86000000')), decodeError('NETSEND_DECODE_BAD_VALUE'));
  });

  test('refuses a limit below the header size', () => {
    assert.throws(() => new NbssFramer(3), RangeError);
  });
});
