import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { NetApiError } from '../../messenger/errors.js';
import { NBNS_OPCODE, NBNS_RCODE, decodeNbnsPacket, encodeNbnsPacket, type NbnsPacket } from '../../protocols/nbns/index.js';
import { NameService } from './service.js';

/** A fake WINS server on 127.0.0.2: answers each request with what `answer` returns (or nothing). */
async function fakeWins(port: number, answer: (request: NbnsPacket, nth: number) => Array<Partial<NbnsPacket>>) {
  const socket = createSocket('udp4');
  const seen: NbnsPacket[] = [];
  socket.on('message', (message, remote) => {
    const request = decodeNbnsPacket(message);
    seen.push(request);
    for (const [i, part] of answer(request, seen.length).entries()) {
      const reply: NbnsPacket = { ...request, response: true, questions: [], additionals: [], answers: request.additionals.map((r) => ({ ...r, ttl: 1 })), ...part };
      setTimeout(() => socket.send(encodeNbnsPacket(reply), remote.port, remote.address), i * 300);
    }
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.2', resolve));
  return { seen, close: () => socket.close() };
}

const PORT = 40_137;
const name = { name: 'ALICE', suffix: 0x03, group: false };
const loopback = [{ interfaceName: 'lo', address: '127.0.0.1', family: 'IPv4' as const, netmask: '255.0.0.0', host: '127.0.0.1' }];

test('WINS registration follows a WACK to the final answer, then refreshes at half the granted TTL', async () => {
  const wins = await fakeWins(PORT, (request) =>
    request.opcode === NBNS_OPCODE.registration ? [{ opcode: NBNS_OPCODE.wack }, { rcode: NBNS_RCODE.noError }] : [{ rcode: NBNS_RCODE.noError }],
  );
  const service = new NameService({ addresses: loopback, port: PORT, names: () => [name], winsServer: '127.0.0.2', minRefreshMs: 100, log: () => {} });
  await service.start();
  try {
    await service.register(name);
    await new Promise((resolve) => setTimeout(resolve, 900));
    const opcodes = wins.seen.map((r) => r.opcode);
    assert.equal(opcodes[0], NBNS_OPCODE.registration);
    assert.ok(opcodes.filter((o) => o === NBNS_OPCODE.refresh).length >= 1, `refreshes were sent: ${opcodes.join(',')}`);
    assert.equal(wins.seen[0]?.flags.broadcast, false, 'WINS requests are unicast');
    assert.equal(wins.seen[0]?.additionals[0]?.data.kind === 'nb' && wins.seen[0].additionals[0].data.entries[0]?.nodeType, 'P');
    await service.release(name);
    const afterRelease = wins.seen.length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(wins.seen.at(-1)?.opcode, NBNS_OPCODE.release);
    assert.equal(wins.seen.length, afterRelease, 'no refresh after the release');
  } finally {
    service.stop();
    wins.close();
  }
});

test('a WINS server that refuses the name gives NERR_DuplicateName; one that is silent, NERR_NetworkError', async () => {
  const refusing = await fakeWins(PORT, () => [{ rcode: NBNS_RCODE.active }]);
  const service = new NameService({ addresses: loopback, port: PORT, names: () => [name], winsServer: '127.0.0.2', log: () => {} });
  await service.start();
  try {
    await assert.rejects(service.register(name), (e: unknown) => e instanceof NetApiError && e.status === 2297);
  } finally {
    refusing.close();
  }
  const silent = await fakeWins(PORT, () => []);
  try {
    await assert.rejects(service.register(name), (e: unknown) => e instanceof NetApiError && e.status === 2136);
    assert.equal(silent.seen.length, 3, 'three tries');
  } finally {
    service.stop();
    silent.close();
  }
});

test('answers are rate limited per source address, so spoofed queries cannot make this host a reflector', async () => {
  const port = PORT + 7;
  const service = new NameService({ addresses: loopback, port, names: () => [name], log: () => {}, answerLimit: { burst: 10, ratePerSecond: 0.001 } });
  await service.start();
  const ask = async (from: string, count: number) => {
    const socket = createSocket('udp4');
    let answers = 0;
    socket.on('message', () => answers++);
    await new Promise<void>((resolve) => socket.bind(0, from, resolve));
    for (let id = 1; id <= count; id++) {
      const query: NbnsPacket = {
        id,
        response: false,
        opcode: NBNS_OPCODE.query,
        flags: { authoritative: false, truncated: false, recursionDesired: false, recursionAvailable: false, broadcast: false },
        rcode: 0,
        questions: [{ name: { name: 'ALICE', suffix: 0x03, scope: '' }, type: 0x20, class: 1 }],
        answers: [],
        authorities: [],
        additionals: [],
      };
      socket.send(encodeNbnsPacket(query), port, '127.0.0.1');
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.close();
    return answers;
  };
  try {
    assert.equal(await ask('127.0.0.3', 30), 10, 'the burst, then nothing');
    assert.equal(await ask('127.0.0.4', 5), 5, 'another address has its own budget');
  } finally {
    service.stop();
  }
});

test('as the hub gateway, a messenger name another host holds is answered with this host\'s address, after a holder on the segment would have (broadcasts); no other suffix, never a name it was not given', async () => {
  const port = PORT + 9;
  const asked: string[] = [];
  const proxied = (n: string) => (asked.push(n), n === 'CAROL' || n === 'ÓSCAR');
  const service = new NameService({ addresses: loopback, port, names: () => [name], charset: 'CP850', proxied, log: () => {} });
  await service.start();
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.5', resolve));
  const answers = new Map<number, NbnsPacket>();
  socket.on('message', (m) => {
    const packet = decodeNbnsPacket(m);
    answers.set(packet.id, packet);
  });
  const sentAt = new Map<number, number>();
  const answeredAt = new Map<number, number>();
  socket.on('message', (m) => answeredAt.set(decodeNbnsPacket(m).id, Date.now()));
  const ask = (id: number, wire: string, suffix: number, broadcast = false) =>
    sentAt.set(id, Date.now()) &&
    socket.send(
      encodeNbnsPacket({
        id, response: false, opcode: NBNS_OPCODE.query,
        flags: { authoritative: false, truncated: false, recursionDesired: false, recursionAvailable: false, broadcast },
        rcode: 0, questions: [{ name: { name: wire, suffix, scope: '' }, type: 0x20, class: 1 }], answers: [], authorities: [], additionals: [],
      }),
      port,
      '127.0.0.1',
    );
  try {
    ask(1, 'carol', 0x03); // asked in lower case: compared as nmbd compares
    ask(2, '\u00e0SCAR', 0x03); // CP850's 'Ó' (0xE0) as the wire's byte
    ask(3, 'CAROL', 0x20); // a server name of CAROL's host is not the gateway's to give
    ask(4, 'DAVE', 0x03);
    // asked by broadcast: a holder on this segment answers at once, the gateway only after a while
    ask(5, 'CAROL', 0x03, true);
    ask(6, 'ALICE', 0x03, true);
    const deadline = Date.now() + 5000;
    while (answers.size < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const entry = (id: number) => {
      const data = answers.get(id)?.answers[0]?.data;
      return data?.kind === 'nb' ? data.entries[0]?.address : answers.get(id)?.rcode;
    };
    assert.deepEqual([entry(1), entry(2), entry(3), entry(4)], ['127.0.0.1', '127.0.0.1', NBNS_RCODE.nameError, NBNS_RCODE.nameError]);
    assert.deepEqual(asked.sort(), ['CAROL', 'CAROL', 'DAVE', 'ÓSCAR']);
    const waited = (id: number) => (answeredAt.get(id) ?? Infinity) - (sentAt.get(id) ?? 0);
    assert.equal(entry(5), '127.0.0.1');
    assert.ok(waited(5) >= 240, `the proxied broadcast answer waited ${waited(5)} ms`);
    assert.ok(waited(6) < 200, `the own name's broadcast answer came at once (${waited(6)} ms)`);
  } finally {
    socket.close();
    service.stop();
  }
});
