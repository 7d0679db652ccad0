/**
 * Real packets (test/fixtures/smb/packets.json: smbclient 4.17 and smbd 4.17 captures, with
 * provenance per row) through every codec layer: decode to the recorded values, re-encode to
 * the same bytes where our encoder writes what the peer wrote, and fail with DecodeError on
 * every truncation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DecodeError } from '../bytes/index.js';
import { NbssFramer, decodeNbssPacket, encodeNbssPacket, type NbssPacket } from '../nbss/index.js';
import { decodeSmbRequest, decodeSmbResponse, encodeSmbRequest, encodeSmbResponse, type SmbRequestBody, type SmbResponseBody } from './index.js';

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
    status?: 'success' | { kind: string; errorClass: number; code: number };
    mid?: number;
    pid?: number;
  };
}

const FIXTURES = JSON.parse(readFileSync(new URL('../../../../test/fixtures/smb/packets.json', import.meta.url), 'utf8')) as Fixture[];
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function payloadOf(packet: NbssPacket): Uint8Array {
  assert.equal(packet.type, 'message');
  return (packet as { payload: Uint8Array }).payload;
}

describe('captured packets decode to what the peers sent and re-encode to the same bytes', () => {
  for (const fixture of FIXTURES) {
    test(`${fixture.name} (${fixture.source})`, () => {
      const frame = bytes(fixture.hex);
      const packet = decodeNbssPacket(frame);
      assert.equal(hex(encodeNbssPacket(packet)), fixture.hex, 'the session layer re-encodes byte for byte');
      if (fixture.packet) assert.deepEqual(packet, fixture.packet);
      const smb = fixture.smb;
      if (smb === undefined) return;
      const payload = payloadOf(packet);

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
        if (fixture.reencode) {
          assert.equal(hex(encodeSmbRequest(body, { mid: smb.mid ?? 0, pid: smb.pid ?? 0 })), hex(payload), 'the SMB request re-encodes byte for byte');
        }
      } else {
        const response = decodeSmbResponse(payload, smb.command);
        const expected = smb.status === 'success' || smb.status === undefined ? { kind: 'success' } : smb.status;
        assert.deepEqual(response.status, expected);
        if (smb.groupId !== undefined) assert.equal(response.groupId, smb.groupId);
        if (smb.dialectIndex !== undefined) assert.equal(response.dialectIndex, smb.dialectIndex);
        if (fixture.reencode) {
          // Our server answers with the same header fields the fake server echoed.
          const request = { command: 'unknown' as const, header: { ...response.header, command: smb.command } };
          const body: SmbResponseBody = response.groupId !== undefined ? { kind: 'groupId', groupId: response.groupId } : { kind: 'ok' };
          assert.equal(hex(encodeSmbResponse(request, body)), hex(payload), 'the SMB reply re-encodes byte for byte');
        }
      }
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

describe('NbssFramer on the captured client stream', () => {
  const stream = Buffer.concat(FIXTURES.map((f) => bytes(f.hex)));
  const expected = FIXTURES.map((f) => hex(encodeNbssPacket(decodeNbssPacket(bytes(f.hex)))));
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

  test('yields the same packets one byte at a time', () => {
    assert.deepEqual(run([...stream].map((b) => Uint8Array.of(b))), expected);
  });

  test('refuses a frame whose declared size is over the limit as soon as its header is in', () => {
    const framer = new NbssFramer(1024);
    assert.deepEqual(framer.push(Uint8Array.of(0x00, 0x00)), []);
    assert.throws(() => framer.push(Uint8Array.of(0x08, 0x00)), (e: unknown) => e instanceof DecodeError && e.code === 'NETSEND_DECODE_TOO_LONG');
    assert.equal(framer.buffered, 2, 'the body was never buffered');
  });
});
