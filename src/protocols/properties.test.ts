/**
 * Properties of every codec (fast-check, bounded in runs and time): values survive
 * encode → decode, and any bytes at all give a value or a DecodeError, never another exception.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ByteReader, DecodeError } from './bytes/index.js';
import { NEGATIVE_RESPONSE, NbssFramer, decodeNbssPacket, encodeNbssPacket, readNbssHeader, type NbssPacket } from './nbss/index.js';
import { decodeNetbiosName, encodeNetbiosName, type NetbiosName } from './netbios-name/index.js';
import { DOS_ERROR, SMB_COMMAND, decodeOem, decodeSmbRequest, decodeSmbResponse, encodeOem, encodeSmbRequest, encodeSmbResponse, type SmbRequestBody, type SmbResponseBody } from './smb1/index.js';

const LIMITS = { numRuns: 1000, interruptAfterTimeLimit: 4000 } as const;

/** Runs `decode` on hostile input: a value or a DecodeError is fine, anything else fails. */
function valueOrDecodeError(decode: () => unknown): boolean {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
  }
  return true;
}

const latin1Name = fc
  .array(fc.integer({ min: 0x21, max: 0xff }), { minLength: 1, maxLength: 15 })
  .map((codes) => String.fromCharCode(...codes));
const scopeLabel = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
const netbiosName: fc.Arbitrary<NetbiosName> = fc.record({
  name: latin1Name,
  suffix: fc.integer({ min: 0, max: 255 }),
  scope: fc.array(scopeLabel, { maxLength: 3 }).map((labels) => labels.join('.')),
}).map((r) => ({ ...r })); // plain objects, like the decoder's
const bytesUpTo = (max: number) => fc.uint8Array({ maxLength: max });
const nameField = fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => b.map((x) => (x === 0 ? 1 : x)));

const nbssPacket: fc.Arbitrary<NbssPacket> = fc.oneof(
  bytesUpTo(300).map((payload) => ({ type: 'message' as const, payload })),
  fc.record({ called: netbiosName, calling: netbiosName }).map(({ called, calling }) => ({ type: 'sessionRequest' as const, called, calling })),
  fc.constant({ type: 'positiveResponse' as const }),
  fc.constantFrom(...Object.values(NEGATIVE_RESPONSE)).map((error) => ({ type: 'negativeResponse' as const, error })),
  fc.record({ ip: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) }).map((r) => ({ type: 'retargetResponse' as const, ...r })),
  fc.constant({ type: 'keepalive' as const }),
);

const smbRequest: fc.Arbitrary<SmbRequestBody> = fc.oneof(
  fc.array(fc.stringMatching(/^[ -~]{1,30}$/), { maxLength: 5 }).map((dialects) => ({ command: SMB_COMMAND.negotiate, dialects })),
  fc.record({ originator: nameField, destination: nameField, text: bytesUpTo(200) }).map((r) => ({ command: SMB_COMMAND.sendMessage, ...r })),
  fc.record({ originator: nameField, destination: nameField }).map((r) => ({ command: SMB_COMMAND.sendStartMbMessage, ...r })),
  fc.record({ groupId: fc.integer({ min: 0, max: 0xffff }), text: bytesUpTo(200) }).map((r) => ({ command: SMB_COMMAND.sendTextMbMessage, ...r })),
  fc.integer({ min: 0, max: 0xffff }).map((groupId) => ({ command: SMB_COMMAND.sendEndMbMessage, groupId })),
);

test('decodeNetbiosName(encodeNetbiosName(x)) is x for any name, suffix and scope', () => {
  fc.assert(
    fc.property(netbiosName, fc.nat(20), (name, at) => {
      const encoded = encodeNetbiosName(name);
      const padded = new Uint8Array(at + encoded.length);
      padded.set(encoded, at);
      const { value, next } = decodeNetbiosName(padded, at);
      assert.deepEqual(value, name);
      assert.equal(next, at + encoded.length);
    }),
    LIMITS,
  );
});

test('NetBIOS session packets survive encode → decode', () => {
  fc.assert(fc.property(nbssPacket, (packet) => assert.deepEqual(decodeNbssPacket(encodeNbssPacket(packet)), packet)), LIMITS);
});

test('NbssFramer yields the same packets from any stream of them, cut anywhere', () => {
  fc.assert(
    fc.property(fc.array(nbssPacket, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (packets, cuts) => {
      const stream = new Uint8Array(Buffer.concat(packets.map(encodeNbssPacket)));
      const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const chunks = [0, ...at].map((start, i) => stream.subarray(start, at[i] ?? stream.length));
      const framer = new NbssFramer();
      assert.deepEqual(chunks.flatMap((chunk) => framer.push(chunk)), packets.map((p) => decodeNbssPacket(encodeNbssPacket(p))));
      assert.equal(framer.buffered, 0);
    }),
    LIMITS,
  );
});

test('SMB message requests survive encode → decode', () => {
  fc.assert(
    fc.property(smbRequest, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), (body, mid, pid) => {
      const { header, ...decoded } = decodeSmbRequest(encodeSmbRequest(body, { mid, pid })) as SmbRequestBody & { header: { mid: number } };
      assert.equal(header.mid, mid);
      assert.deepEqual(decoded, body);
    }),
    LIMITS,
  );
});

test('SMB replies survive encode → decode: status, group id and the echoed header', () => {
  const body: fc.Arbitrary<SmbResponseBody> = fc.oneof(
    fc.constant({ kind: 'ok' as const }),
    fc.integer({ min: 0, max: 0xffff }).map((groupId) => ({ kind: 'groupId' as const, groupId })),
    fc.constantFrom(...Object.values(DOS_ERROR)).map((error) => ({ kind: 'error' as const, error })),
  );
  fc.assert(
    fc.property(smbRequest, body, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), (requestBody, answer, mid, pid) => {
      const request = decodeSmbRequest(encodeSmbRequest(requestBody, { mid, pid }));
      const response = decodeSmbResponse(encodeSmbResponse(request, answer), requestBody.command);
      assert.deepEqual(response.status, answer.kind === 'error' ? { kind: 'dos', ...answer.error } : { kind: 'success' });
      assert.equal(response.header.mid, mid);
      assert.equal(((response.header.pidHigh << 16) | response.header.pidLow) >>> 0, pid);
      if (requestBody.command === SMB_COMMAND.sendStartMbMessage) assert.equal(response.groupId, answer.kind === 'groupId' ? answer.groupId : undefined);
    }),
    LIMITS,
  );
});

test('OEM text round-trips for every CP850 character, and says when it had to replace one', () => {
  const cp850 = decodeOem(Uint8Array.from({ length: 256 }, (_, i) => i));
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...cp850), { maxLength: 100 }).map((c) => c.join('')), (text) => {
      const { bytes, lossy } = encodeOem(text);
      assert.equal(lossy, false);
      assert.equal(decodeOem(bytes), text);
    }),
    LIMITS,
  );
  assert.deepEqual(encodeOem('Māori €'), { bytes: encodeOem('Maori ?').bytes, lossy: true });
});

test('random bytes give every decoder a value or a DecodeError, never another exception', () => {
  fc.assert(
    fc.property(bytesUpTo(400), fc.nat(10), (bytes, offset) => {
      valueOrDecodeError(() => decodeNetbiosName(bytes, Math.min(offset, bytes.length)));
      valueOrDecodeError(() => decodeNbssPacket(bytes));
      valueOrDecodeError(() => readNbssHeader(bytes));
      valueOrDecodeError(() => decodeSmbRequest(bytes));
      valueOrDecodeError(() => decodeSmbResponse(bytes, SMB_COMMAND.sendStartMbMessage));
      valueOrDecodeError(() => new NbssFramer(512).push(bytes));
      valueOrDecodeError(() => new ByteReader(bytes).cstring(8));
      return true;
    }),
    { ...LIMITS, numRuns: 3000 },
  );
});

test('mutated valid packets give a value or a DecodeError', () => {
  fc.assert(
    fc.property(smbRequest, fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }), (body, flips) => {
      const frame = encodeNbssPacket({ type: 'message', payload: encodeSmbRequest(body, { mid: 1, pid: 1 }) });
      for (const { at, value } of flips) frame[at % frame.length] = value;
      valueOrDecodeError(() => {
        for (const packet of new NbssFramer().push(frame)) if (packet.type === 'message') decodeSmbRequest(packet.payload);
      });
      return true;
    }),
    LIMITS,
  );
});
