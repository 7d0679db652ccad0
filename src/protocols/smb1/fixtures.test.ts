/**
 * Real packets (test/fixtures/smb/packets.json: smbclient 4.17 and smbd 4.17 captures, with
 * provenance per row) through every codec layer: decode to the recorded values, re-encode to
 * the same bytes where our encoder writes what the peer wrote, decode the same from inside a
 * larger buffer, and fail with DecodeError on every truncation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DecodeError } from '../bytes/index.js';
import { NbssFramer, decodeNbssPacket, encodeNbssPacket, type NbssPacket } from '../nbss/index.js';
import { decodeSmbRequest, decodeSmbResponse, encodeSmbRequest, encodeSmbResponse, type SmbRequestBody, type SmbResponseBody, type SmbStatus } from './index.js';

interface Fixture {
  name: string;
  source: string;
  direction: 'client' | 'server';
  hex: string;
  reencode: boolean;
  packet?: Record<string, unknown>;
  smb?: {
    command: number;
    originator?: string;
    destination?: string;
    text?: string;
    groupId?: number;
    dialects?: string[];
    dialectIndex?: number;
    status?: 'success' | SmbStatus;
    mid?: number;
    pid?: number;
  };
}

// Tests run as dist/src/protocols/smb1/*.test.js; the fixtures stay in the source tree.
const FIXTURES = JSON.parse(readFileSync(new URL('../../../../test/fixtures/smb/packets.json', import.meta.url), 'utf8')) as Fixture[];
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** `frame` copied into the middle of a larger buffer, as a view: decoders must honour byteOffset. */
function inLargerBuffer(frame: Uint8Array): Uint8Array {
  const outer = new Uint8Array(frame.length + 13).fill(0xee);
  outer.set(frame, 7);
  return outer.subarray(7, 7 + frame.length);
}

function payloadOf(packet: NbssPacket): Uint8Array {
  assert.equal(packet.type, 'message');
  return (packet as { payload: Uint8Array }).payload;
}

/** Checks the SMB layer of a fixture and returns what our encoder makes of the decoded value. */
function checkSmb(fixture: Fixture, payload: Uint8Array): Uint8Array {
  const smb = fixture.smb!;
  if (fixture.direction === 'client') {
    const request = decodeSmbRequest(payload);
    assert.equal(request.command, smb.command);
    assert.equal(request.header.mid, smb.mid);
    assert.equal((request.header.pidHigh << 16) | request.header.pidLow, smb.pid);
    const body = request as SmbRequestBody;
    if ('originator' in body) assert.equal(latin1(body.originator), smb.originator);
    if ('destination' in body) assert.equal(latin1(body.destination), smb.destination);
    if ('text' in body) assert.equal(latin1(body.text), smb.text);
    if ('groupId' in body) assert.equal(body.groupId, smb.groupId);
    if ('dialects' in body) assert.deepEqual(body.dialects, smb.dialects);
    return encodeSmbRequest(body, { mid: smb.mid ?? 0, pid: smb.pid ?? 0 });
  }
  const response = decodeSmbResponse(payload, smb.command);
  const status = smb.status === 'success' || smb.status === undefined ? { kind: 'success' } : smb.status;
  assert.deepEqual(response.status, status);
  if (smb.mid !== undefined) assert.equal(response.header.mid, smb.mid);
  if (smb.pid !== undefined) assert.equal((response.header.pidHigh << 16) | response.header.pidLow, smb.pid);
  if (smb.groupId !== undefined) assert.equal(response.groupId, smb.groupId);
  if (smb.dialectIndex !== undefined) assert.equal(response.dialectIndex, smb.dialectIndex);
  // Our server answers with the header fields of the request it answers: the ones echoed here.
  const request = { command: 'unknown' as const, header: { ...response.header, command: smb.command } };
  const body: SmbResponseBody =
    response.status.kind === 'dos'
      ? { kind: 'error', error: { errorClass: response.status.errorClass, code: response.status.code } }
      : response.groupId !== undefined
        ? { kind: 'groupId', groupId: response.groupId }
        : { kind: 'ok' };
  return encodeSmbResponse(request, body);
}

describe('captured packets decode to what the peers sent and re-encode to the same bytes', () => {
  for (const fixture of FIXTURES) {
    test(`${fixture.name} (${fixture.source})`, () => {
      const frame = bytes(fixture.hex);
      const packet = decodeNbssPacket(frame);
      assert.equal(hex(encodeNbssPacket(packet)), fixture.hex, 'the session layer re-encodes byte for byte');
      assert.deepEqual(decodeNbssPacket(encodeNbssPacket(packet)), packet, 'round trip');
      assert.deepEqual(decodeNbssPacket(inLargerBuffer(frame)), packet, 'decoded from inside a larger buffer');
      if (fixture.packet) assert.deepEqual(packet, fixture.packet);
      if (fixture.smb === undefined) return;
      const payload = payloadOf(packet);
      const reencoded = checkSmb(fixture, payload);
      checkSmb(fixture, inLargerBuffer(payload));
      if (fixture.reencode) assert.equal(hex(reencoded), hex(payload), 'the SMB layer re-encodes byte for byte');
    });
  }
});

describe('every truncation of a captured packet is a DecodeError', () => {
  for (const fixture of FIXTURES) {
    test(fixture.name, () => {
      const frame = bytes(fixture.hex);
      for (let cut = 0; cut < frame.length; cut++) {
        assert.throws(() => decodeNbssPacket(frame.subarray(0, cut)), DecodeError, `session frame cut at ${cut}`);
      }
      if (fixture.smb === undefined) return;
      const payload = frame.subarray(4);
      const decode = fixture.direction === 'client' ? (p: Uint8Array) => decodeSmbRequest(p) : (p: Uint8Array) => decodeSmbResponse(p, fixture.smb!.command);
      for (let cut = 0; cut < payload.length; cut++) {
        // A reply may end right after its 32-byte header: error replies without a parameter block.
        if (fixture.direction === 'server' && cut === 32) continue;
        assert.throws(() => decode(payload.subarray(0, cut)), DecodeError, `SMB payload cut at ${cut}`);
      }
    });
  }
});

describe('NbssFramer on the stream of every captured packet', () => {
  const stream = Buffer.concat(FIXTURES.map((f) => bytes(f.hex)));
  const expected = FIXTURES.map((f) => f.hex);
  const run = (chunks: Uint8Array[]) => {
    const framer = new NbssFramer();
    const out = chunks.flatMap((chunk) => framer.push(chunk)).map((p) => hex(encodeNbssPacket(p)));
    assert.equal(framer.buffered, 0);
    return out;
  };

  test('yields the same packets whatever two pieces the stream arrives in', () => {
    for (let split = 0; split <= stream.length; split++) {
      assert.deepEqual(run([stream.subarray(0, split), stream.subarray(split)]), expected, `split at ${split}`);
    }
  });

  test('yields the same packets in three pieces, cut at a grid of offsets', () => {
    for (let first = 0; first <= stream.length; first += 7) {
      for (let second = first; second <= stream.length; second += 29) {
        assert.deepEqual(run([stream.subarray(0, first), stream.subarray(first, second), stream.subarray(second)]), expected, `cut at ${first} and ${second}`);
      }
    }
  });

  test('yields the same packets one byte at a time', () => {
    assert.deepEqual(run([...stream].map((b) => Uint8Array.of(b))), expected);
  });
});
