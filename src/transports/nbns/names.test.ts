/**
 * The name service and the code page's name mapping and the NetBIOS scope: a name is found in any
 * case form, as nmbd finds it after `upcase_name`; a name asked for in another scope is not this
 * node's (no answer, no defence); this node's own requests carry its scope.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { aliasProblem } from '../../messenger/names.js';
import { netbiosNames } from '../../messenger/netbios-names.js';
import { NBNS_OPCODE, NBNS_RCODE, RR_TYPE, decodeNbnsPacket, encodeNbnsPacket, type NbnsPacket } from '../../protocols/nbns/index.js';
import { NameService, type OwnedName } from './service.js';

const loopback = [{ interfaceName: 'lo', address: '127.0.0.1', family: 'IPv4' as const, netmask: '255.0.0.0', host: '127.0.0.1' }];
const unlimited = { burst: 1_000_000, ratePerSecond: 1_000_000 };

/** A client socket on 127.0.0.1 that sends one request and waits (briefly) for its answer. */
class Asker {
  readonly #socket: Socket = createSocket('udp4');
  readonly #waiting = new Map<number, (answer: NbnsPacket) => void>();
  #id = 1;

  async open(): Promise<void> {
    this.#socket.on('message', (message) => {
      const answer = decodeNbnsPacket(message);
      this.#waiting.get(answer.id)?.(answer);
    });
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
  }

  close(): void {
    this.#socket.close();
  }

  /** `wire` is the name as OEM bytes in latin1; undefined when nothing answers within 200 ms. */
  ask(port: number, opcode: number, wire: string, options: { scope?: string; type?: number; broadcast?: boolean; suffix?: number } = {}): Promise<NbnsPacket | undefined> {
    const id = this.#id++;
    const name = { name: wire, suffix: options.suffix ?? 0x03, scope: options.scope ?? '' };
    const claims = opcode === NBNS_OPCODE.registration;
    const request: NbnsPacket = {
      id, response: false, opcode,
      flags: { authoritative: false, truncated: false, recursionDesired: false, recursionAvailable: false, broadcast: options.broadcast ?? false },
      rcode: 0,
      questions: [{ name, type: options.type ?? RR_TYPE.NB, class: 1 }],
      answers: [], authorities: [],
      additionals: claims ? [{ name, type: RR_TYPE.NB, class: 1, ttl: 300, data: { kind: 'nb', entries: [{ group: false, nodeType: 'B', address: '127.0.0.9' }] } }] : [],
    };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(undefined);
      }, 200);
      this.#waiting.set(id, (answer) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(answer);
      });
      this.#socket.send(encodeNbnsPacket(request), port, '127.0.0.1');
    });
  }
}

const portOf = (service: NameService) => Number(service.endpoints[0]!.split(':').at(-1));
const oem = (text: string, charset: string) => Buffer.from(iconv.encode(text, charset)).toString('latin1');

describe('the responder finds a name asked for in any case, in each code page', () => {
  const asker = new Asker();
  before(() => asker.open());
  after(() => asker.close());

  for (const charset of ['CP437', 'CP850', 'CP852', 'CP866', 'CP1252']) {
    test(`${charset}: an alias added in one case is answered, defended and listed when asked in any other`, async () => {
      const names = netbiosNames(charset);
      let held: OwnedName[] = [];
      const service = new NameService({ addresses: loopback, port: 0, names: () => held, charset, answerLimit: unlimited, log: () => {} });
      await service.start();
      const port = portOf(service);
      const letters = [...iconv.decode(Buffer.from(Array.from({ length: 0x60 }, (_, i) => 0xa0 + i)), charset), ...'abcXYZ09-'];
      try {
        await fc.assert(
          fc.asyncProperty(fc.string({ minLength: 1, maxLength: 15, unit: fc.constantFrom(...letters) }), fc.array(fc.boolean(), { minLength: 15, maxLength: 15 }), async (alias, flips) => {
            if (aliasProblem(alias, charset) !== null) return;
            held = [{ name: names.toWire(alias), suffix: 0x03, group: false }];
            const mixed = [...alias].map((c, i) => (flips[i] ? names.upper(c) : c.toLowerCase())).join('');
            for (const form of [alias.toLowerCase(), names.upper(alias), mixed]) {
              const wire = oem(form, charset);
              if (iconv.decode(Buffer.from(wire, 'latin1'), charset) !== form) continue; // a lower-case letter the code page lacks
              const answer = await asker.ask(port, NBNS_OPCODE.query, wire);
              assert.equal(answer?.rcode, NBNS_RCODE.noError, `${JSON.stringify(alias)} asked as ${JSON.stringify(form)}`);
            }
            const claim = await asker.ask(port, NBNS_OPCODE.registration, oem(mixed, charset), { broadcast: true });
            if (iconv.decode(Buffer.from(oem(mixed, charset), 'latin1'), charset) === mixed) assert.equal(claim?.rcode, NBNS_RCODE.active, `${mixed} is defended`);
            const status = await asker.ask(port, NBNS_OPCODE.query, oem(alias.toLowerCase(), charset), { type: RR_TYPE.NBSTAT });
            if (iconv.decode(Buffer.from(oem(alias.toLowerCase(), charset), 'latin1'), charset) === alias.toLowerCase()) assert.equal(status?.answers[0]?.type, RR_TYPE.NBSTAT);
          }),
          { numRuns: 40 },
        );
      } finally {
        service.stop();
      }
    });
  }

  test('CP850 Ó, Á, Õ: the letters JavaScript upper-casing of Latin-1 bytes lost (0xE0 → 0xC0, 0xB5 → Greek Μ)', async () => {
    const names = netbiosNames('CP850');
    const held = ['Óscar', 'Ángel', 'Õnix'].map((n) => ({ name: names.toWire(n), suffix: 0x03, group: false }));
    const service = new NameService({ addresses: loopback, port: 0, names: () => held, charset: 'CP850', log: () => {} });
    await service.start();
    try {
      for (const asked of ['ÓSCAR', 'óscar', 'ÁNGEL', 'ángel', 'ÕNIX', 'õnix']) {
        assert.equal((await asker.ask(portOf(service), NBNS_OPCODE.query, oem(asked, 'CP850')))?.rcode, NBNS_RCODE.noError, asked);
      }
    } finally {
      service.stop();
    }
  });
});

describe('NetBIOS scope', () => {
  const asker = new Asker();
  before(() => asker.open());
  after(() => asker.close());
  const held: OwnedName[] = [{ name: 'ALICE', suffix: 0x03, group: false }];

  test('a node in the default scope: questions in another scope get what any missing name gets', async () => {
    const service = new NameService({ addresses: loopback, port: 0, names: () => held, log: () => {} });
    await service.start();
    const port = portOf(service);
    try {
      assert.equal((await asker.ask(port, NBNS_OPCODE.query, 'ALICE'))?.rcode, NBNS_RCODE.noError, 'its own scope');
      assert.equal((await asker.ask(port, NBNS_OPCODE.query, 'ALICE', { scope: 'OTHER' }))?.rcode, NBNS_RCODE.nameError, 'unicast: "no such name", as nmbd says');
      assert.equal(await asker.ask(port, NBNS_OPCODE.query, 'ALICE', { scope: 'OTHER', broadcast: true }), undefined, 'broadcast: silence');
      assert.equal(await asker.ask(port, NBNS_OPCODE.query, 'ALICE', { scope: 'OTHER', type: RR_TYPE.NBSTAT }), undefined, 'node status: silence');
      assert.equal(await asker.ask(port, NBNS_OPCODE.query, '*', { scope: 'OTHER', type: RR_TYPE.NBSTAT, suffix: 0 }), undefined, 'node status of *: silence');
      assert.equal(await asker.ask(port, NBNS_OPCODE.registration, 'ALICE', { scope: 'OTHER', broadcast: true }), undefined, 'not defended in another scope');
      assert.equal((await asker.ask(port, NBNS_OPCODE.registration, 'ALICE', { broadcast: true }))?.rcode, NBNS_RCODE.active, 'defended in its own');
    } finally {
      service.stop();
    }
  });

  test('a node in scope "other": answers and defends there, in any case of the scope, and nowhere else', async () => {
    const service = new NameService({ addresses: loopback, port: 0, names: () => held, scope: 'other', log: () => {} });
    await service.start();
    const port = portOf(service);
    try {
      for (const scope of ['OTHER', 'other', 'Other']) {
        const answer = await asker.ask(port, NBNS_OPCODE.query, 'alice', { scope });
        assert.equal(answer?.rcode, NBNS_RCODE.noError, scope);
        assert.equal(answer?.answers[0]?.name.scope, scope, 'the answer names the question as asked');
        assert.equal((await asker.ask(port, NBNS_OPCODE.query, '*', { scope, type: RR_TYPE.NBSTAT, suffix: 0 }))?.answers[0]?.type, RR_TYPE.NBSTAT);
        assert.equal((await asker.ask(port, NBNS_OPCODE.registration, 'ALICE', { scope, broadcast: true }))?.rcode, NBNS_RCODE.active);
      }
      assert.equal((await asker.ask(port, NBNS_OPCODE.query, 'ALICE'))?.rcode, NBNS_RCODE.nameError, 'the default scope is another one');
      assert.equal((await asker.ask(port, NBNS_OPCODE.query, 'ALICE', { scope: 'OTHER.CORP' }))?.rcode, NBNS_RCODE.nameError, 'so is a longer scope');
      assert.equal(await asker.ask(port, NBNS_OPCODE.query, '*', { type: RR_TYPE.NBSTAT, suffix: 0 }), undefined);
      assert.equal(await asker.ask(port, NBNS_OPCODE.registration, 'ALICE', { broadcast: true }), undefined);
    } finally {
      service.stop();
    }
  });

  test("the node's own requests carry its scope, upper-cased: registration, release, WINS query", async () => {
    const port = 40_163;
    const wins = createSocket('udp4');
    const seen: NbnsPacket[] = [];
    wins.on('message', (message, remote) => {
      const request = decodeNbnsPacket(message);
      seen.push(request);
      const reply: NbnsPacket = { ...request, response: true, rcode: 0, questions: [], additionals: [], answers: [{ name: request.questions[0]!.name, type: RR_TYPE.NB, class: 1, ttl: 300, data: { kind: 'nb', entries: [{ group: false, nodeType: 'P', address: '127.0.0.7' }] } }] };
      wins.send(encodeNbnsPacket(reply), remote.port, remote.address);
    });
    await new Promise<void>((resolve) => wins.bind(port, '127.0.0.2', resolve));
    const service = new NameService({ addresses: loopback, port, names: () => held, scope: 'other.corp', winsServer: '127.0.0.2', log: () => {} });
    await service.start();
    try {
      await service.register(held[0]!);
      assert.equal(await service.resolveWins('BOB', 0x03), '127.0.0.7');
      await service.release(held[0]!);
      assert.deepEqual(
        seen.map((r) => [r.opcode, r.questions[0]?.name.scope, r.additionals[0]?.name.scope ?? null]),
        [
          [NBNS_OPCODE.registration, 'OTHER.CORP', 'OTHER.CORP'],
          [NBNS_OPCODE.query, 'OTHER.CORP', null],
          [NBNS_OPCODE.release, 'OTHER.CORP', 'OTHER.CORP'],
        ],
      );
    } finally {
      service.stop();
      wins.close();
    }
  });
});
