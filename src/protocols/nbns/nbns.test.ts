import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../bytes/index.js';
import { decodeNetbiosName, encodeNetbiosName } from '../netbios-name/index.js';
import { NBNS_OPCODE, NBNS_RCODE, RR_TYPE, decodeNbnsPacket, encodeNbnsPacket, type NbnsPacket, type NbnsRecord } from './index.js';

const FIXTURES = JSON.parse(readFileSync(new URL('../../../../test/fixtures/nbns/packets.json', import.meta.url), 'utf8')) as Array<{ name: string; source: string; hex: string; reencode: boolean }>;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const fixture = (prefix: string) => decodeNbnsPacket(bytes(FIXTURES.find((f) => f.name.startsWith(prefix))?.hex ?? ''));

describe('captured name service packets (nmblookup and nmbd 4.17)', () => {
  for (const f of FIXTURES) {
    test(`${f.name} decodes${f.reencode ? ', re-encodes byte for byte' : ''}, and every truncation is a DecodeError`, () => {
      const packet = decodeNbnsPacket(bytes(f.hex));
      if (f.reencode) assert.equal(hex(encodeNbnsPacket(packet)), f.hex);
      else assert.deepEqual(decodeNbnsPacket(encodeNbnsPacket(packet)), packet, 'the same packet without compression');
      for (let cut = 0; cut < f.hex.length / 2; cut++) assert.throws(() => decodeNbnsPacket(bytes(f.hex).subarray(0, cut)), DecodeError, `cut at ${cut}`);
    });
  }

  test('a positive name query response carries the owner\'s address, node type and TTL', () => {
    const packet = fixture('nmblookup exchange 2');
    assert.equal(packet.response, true);
    assert.equal(packet.opcode, NBNS_OPCODE.query);
    assert.equal(packet.flags.authoritative, true);
    const [answer] = packet.answers as [NbnsRecord];
    assert.deepEqual(answer.name, { name: 'TESTNAME', suffix: 0x03, scope: '' });
    assert.equal(answer.ttl, 300_000);
    assert.deepEqual(answer.data, { kind: 'nb', entries: [{ group: false, nodeType: 'B', address: '127.0.0.1' }] });
  });

  test('a negative response is a name error with a NULL record', () => {
    const packet = fixture('nmblookup exchange 6');
    assert.equal(packet.rcode, NBNS_RCODE.nameError);
    assert.equal(packet.answers[0]?.type, RR_TYPE.NULL);
  });

  test('a node status answer lists the names with their suffixes and flags', () => {
    const data = fixture('nmblookup exchange 8').answers[0]?.data;
    assert.equal(data?.kind, 'nodeStatus');
    if (data?.kind !== 'nodeStatus') return;
    assert.deepEqual(data.names.map((n) => `${n.name}<${n.suffix.toString(16).padStart(2, '0')}>`), ['TESTNAME<03>', 'TESTNAME<00>', 'TESTNAME<20>']);
    assert.equal(fixture('nmblookup exchange 7').questions[0]?.name.name, `*${'\0'.repeat(14)}`, 'the wildcard is * padded with NULs');
  });

  test("nmbd's broadcast registration: opcode 5, B bit, and the additional record's name by compression pointer", () => {
    const packet = fixture('nmbd frame 3');
    assert.equal(packet.opcode, NBNS_OPCODE.registration);
    assert.equal(packet.flags.broadcast, true);
    assert.equal(packet.flags.recursionDesired, true);
    const [record] = packet.additionals as [NbnsRecord];
    assert.deepEqual(record.name, { name: 'TESTA', suffix: 0x03, scope: '' });
    assert.deepEqual(record.data, { kind: 'nb', entries: [{ group: false, nodeType: 'B', address: '10.99.0.1' }] });
  });
});

describe('compressed names are walked safely (pointers only backwards, bounded length)', () => {
  const alice = encodeNetbiosName({ name: 'ALICE', suffix: 3, scope: '' });
  const at = (prefix: number[], ...rest: number[][]) => Uint8Array.from([...prefix, ...rest.flat()]);
  const notAllowed = (e: unknown) => e instanceof DecodeError;

  test('a pointer to an earlier name decodes, and next is after the pointer', () => {
    const buf = at([...alice], [0xc0, 0x00]);
    assert.deepEqual(decodeNetbiosName(buf, alice.length, { compression: true }), { value: { name: 'ALICE', suffix: 3, scope: '' }, next: alice.length + 2 });
  });
  test('forward, self and looping pointers are refused', () => {
    assert.throws(() => decodeNetbiosName(at([0xc0, 0x02], [...alice]), 0, { compression: true }), notAllowed, 'forward');
    assert.throws(() => decodeNetbiosName(at([0xc0, 0x00]), 0, { compression: true }), notAllowed, 'self');
    assert.throws(() => decodeNetbiosName(at([...alice], [0xc0, alice.length + 2], [0xc0, alice.length]), alice.length + 2, { compression: true }), notAllowed, 'loop');
  });
  test('16,384 chained pointers end without overflowing anything', () => {
    const chain = [...alice];
    chain.push(0xc0, 0x00);
    for (let i = 1; i < 16_384 && chain.length + 2 < 0x3fff; i++) {
      const previous = chain.length - 2;
      chain.push(0xc0 | (previous >> 8), previous & 0xff);
    }
    const buf = Uint8Array.from(chain);
    assert.equal(decodeNetbiosName(buf, buf.length - 2, { compression: true }).value.name, 'ALICE');
  });
  test('reserved label types, names over 255 bytes and pointers where none are allowed are refused', () => {
    assert.throws(() => decodeNetbiosName(at([0x40, 0x00]), 0, { compression: true }), notAllowed);
    assert.throws(() => decodeNetbiosName(at([0x80, 0x00]), 0, { compression: true }), notAllowed);
    const scopeLabels = Array.from({ length: 4 }, () => [63, ...new Array<number>(63).fill(0x61)]).flat();
    const long = Uint8Array.from([...alice.subarray(0, alice.length - 1), ...scopeLabels, 0]);
    assert.throws(() => decodeNetbiosName(long, 0, { compression: true }), (e: unknown) => e instanceof DecodeError && e.code === 'NETSEND_DECODE_TOO_LONG');
    assert.throws(() => decodeNetbiosName(at([...alice], [0xc0, 0x00]), alice.length), notAllowed, 'the session service allows no pointers');
  });
});

const record: fc.Arbitrary<NbnsRecord> = fc
  .record({
    name: fc.record({ name: fc.stringMatching(/^[A-Z0-9]{1,15}$/), suffix: fc.integer({ min: 0, max: 255 }), scope: fc.constant('') }).map((n) => ({ ...n })),
    ttl: fc.nat(),
    entries: fc.array(fc.record({ group: fc.boolean(), nodeType: fc.constantFrom('B' as const, 'P' as const, 'M' as const, 'H' as const), address: fc.ipV4() }).map((e) => ({ ...e })), { minLength: 1, maxLength: 4 }),
  })
  .map(({ name, ttl, entries }) => ({ name, type: RR_TYPE.NB, class: 1, ttl, data: { kind: 'nb' as const, entries } }));

const packet: fc.Arbitrary<NbnsPacket> = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    response: fc.boolean(),
    opcode: fc.constantFrom(0, 5, 6, 8),
    flags: fc.record({ authoritative: fc.boolean(), truncated: fc.boolean(), recursionDesired: fc.boolean(), recursionAvailable: fc.boolean(), broadcast: fc.boolean() }).map((f) => ({ ...f })),
    rcode: fc.integer({ min: 0, max: 7 }),
    answers: fc.array(record, { maxLength: 2 }),
    additionals: fc.array(record, { maxLength: 2 }),
  })
  .map((p) => ({ ...p, questions: [], authorities: [] }));

test('name service packets survive encode → decode; random bytes give a packet or a DecodeError', () => {
  fc.assert(fc.property(packet, (p) => assert.deepEqual(decodeNbnsPacket(encodeNbnsPacket(p)), p)), { numRuns: 500 });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      try {
        decodeNbnsPacket(b);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
      }
    }),
    { numRuns: 3000 },
  );
});
