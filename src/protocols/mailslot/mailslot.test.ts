import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../bytes/index.js';
import { decodeOem, encodeOem } from '../smb1/index.js';
import {
  MAILSLOT_CLASS_UNRELIABLE, MESSENGER_MAILSLOT, decodeDatagram, decodeMailslotWrite, decodeMessengerPayload, encodeDatagram,
  encodeMailslotWrite, encodeMessengerPayload, type NetbiosDatagram,
} from './index.js';

interface Fixture {
  name: string;
  provenance: string;
  hex: string;
  type: 'directUnique' | 'directGroup' | 'broadcast';
  sourceName: [string, number];
  destinationName: [string, number];
  sourceIp: string;
  from: string;
  to: string;
  text: string;
}
const FIXTURES = JSON.parse(readFileSync(new URL('../../../../test/fixtures/mailslot/samba-ndr.json', import.meta.url), 'utf8')) as Fixture[];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** What netsend sends for a Messenger broadcast, built with our encoders. */
function messengerDatagram(f: Fixture): NetbiosDatagram {
  const payload = encodeMessengerPayload({ from: encodeOem(f.from).bytes, to: encodeOem(f.to).bytes, text: encodeOem(f.text).bytes });
  return {
    type: f.type, id: 0x1234, nodeType: 0, first: true, more: false, sourceIp: f.sourceIp, sourcePort: 138, offset: 0,
    source: { name: f.sourceName[0], suffix: f.sourceName[1], scope: '' },
    destination: { name: f.destinationName[0], suffix: f.destinationName[1], scope: '' },
    userData: encodeMailslotWrite({ mailslot: MESSENGER_MAILSLOT, priority: 1, mailslotClass: MAILSLOT_CLASS_UNRELIABLE, data: payload }),
  };
}

describe('\\MAILSLOT\\MESSNGR datagrams built by Samba\'s NDR encoder', () => {
  for (const f of FIXTURES) {
    test(`${f.name}: our encoder writes the same bytes, and decodes them to the message`, () => {
      assert.equal(hex(encodeDatagram(messengerDatagram(f))), f.hex);
      const datagram = decodeDatagram(new Uint8Array(Buffer.from(f.hex, 'hex')));
      assert.equal(datagram.type, f.type);
      if (!('userData' in datagram)) return assert.fail('not a data datagram');
      assert.deepEqual([datagram.source.name, datagram.source.suffix], f.sourceName);
      assert.deepEqual([datagram.destination.name, datagram.destination.suffix], f.destinationName);
      const write = decodeMailslotWrite(datagram.userData);
      assert.equal(write.mailslot, MESSENGER_MAILSLOT);
      const payload = decodeMessengerPayload(write.data);
      assert.deepEqual([decodeOem(payload.from), decodeOem(payload.to), decodeOem(payload.text)], [f.from, f.to, f.text]);
      const bytes = new Uint8Array(Buffer.from(f.hex, 'hex'));
      for (let cut = 0; cut < bytes.length; cut++) {
        assert.throws(() => {
          const d = decodeDatagram(bytes.subarray(0, cut));
          if ('userData' in d) decodeMessengerPayload(decodeMailslotWrite(d.userData).data);
        }, DecodeError, `cut at ${cut}`);
      }
    });
  }

  test('tshark reads our datagram as NBDS with a \\MAILSLOT\\MESSNGR write, nothing malformed', { skip: spawnSync('which', ['tshark']).status !== 0 ? 'tshark is not installed' : false }, async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ns-nbds-'));
    try {
      const lines = FIXTURES.map((f) => {
        const bytes = encodeDatagram(messengerDatagram(f));
        const rows: string[] = [];
        for (let at = 0; at < bytes.length; at += 16) rows.push(`${at.toString(16).padStart(6, '0')} ${[...bytes.subarray(at, at + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
        return rows.join('\n');
      });
      writeFileSync(join(dir, 'in.txt'), `${lines.join('\n')}\n`);
      assert.equal(spawnSync('text2pcap', ['-q', '-4', '192.0.2.2,192.0.2.255', '-u', '138,138', join(dir, 'in.txt'), join(dir, 'out.pcap')]).status, 0);
      const bad = spawnSync('tshark', ['-r', join(dir, 'out.pcap'), '-Y', '_ws.malformed || _ws.expert.severity == error'], { encoding: 'utf8' });
      assert.equal(bad.stdout, '');
      const fields = spawnSync('tshark', ['-r', join(dir, 'out.pcap'), '-T', 'fields', '-e', 'nbdgm.destination_name', '-e', 'mailslot.name'], { encoding: 'utf8' });
      assert.match(fields.stdout, /TESTGRP<03>\t\\MAILSLOT\\MESSNGR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('datagrams and mailslot writes: random bytes give a value or a DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      for (const decode of [() => decodeDatagram(bytes), () => decodeMailslotWrite(bytes), () => decodeMessengerPayload(bytes)]) {
        try {
          decode();
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
        }
      }
    }),
    { numRuns: 3000 },
  );
});
