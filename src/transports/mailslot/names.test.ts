/**
 * The mailslot service's names: the destination read as Samba reads it in the code page (CP850
 * 0xA2… is ÓSCAR), and the NetBIOS scope: a datagram to a name in another scope is not for this
 * host, as nmbd drops it; the same scope in another case is.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import type { IncomingMessage } from '../../messenger/message.js';
import { MAILSLOT_CLASS_UNRELIABLE, MESSENGER_MAILSLOT, encodeDatagram, encodeMailslotWrite, encodeMessengerPayload } from '../../protocols/mailslot/index.js';
import { MailslotService } from './service.js';

const loopback = [{ interfaceName: 'lo', address: '127.0.0.1', family: 'IPv4' as const, netmask: '255.0.0.0', host: '127.0.0.1' }];
const latin1 = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));

test('a datagram to ÓSCAR<03> in any case is delivered in its own scope (any case of it), dropped in another', async () => {
  const delivered: IncomingMessage[] = [];
  const service = new MailslotService({
    addresses: loopback,
    port: 0,
    charset: 'CP850',
    scope: 'other',
    computerName: 'PC1',
    isForUs: (name, suffix) => name === 'ÓSCAR' && suffix === 0x03,
    deliver: async (message) => delivered.push(message),
    log: () => {},
  });
  await service.start();
  const port = Number(service.endpoints[0]!.split(':').at(-1));
  const client = createSocket('udp4');
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  try {
    const send = (destination: string, scope: string, text: string) => {
      const userData = encodeMailslotWrite({
        mailslot: MESSENGER_MAILSLOT, priority: 1, mailslotClass: MAILSLOT_CLASS_UNRELIABLE,
        data: encodeMessengerPayload({ from: latin1('stra\xe1e'), to: latin1(destination), text: latin1(text) }),
      });
      const datagram = encodeDatagram({
        type: 'directUnique', id: 1, nodeType: 0, first: true, more: false, sourceIp: '127.0.0.1', sourcePort: 138, offset: 0,
        source: { name: 'STRA\xe1E', suffix: 0, scope }, destination: { name: destination, suffix: 0x03, scope }, userData,
      });
      return new Promise<void>((resolve) => client.send(datagram, port, '127.0.0.1', () => resolve()));
    };
    await send('\xa2scar', 'OTHER', 'lower-case name, same scope');
    await send('\xe0SCAR', 'Other', 'the scope in another case');
    await send('\xe0SCAR', '', 'the default scope');
    await send('\xe0SCAR', 'ELSEWHERE', 'another scope');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(delivered.map((m) => [m.from, m.to, m.text]), [
      ['STRAßE', 'ÓSCAR', 'lower-case name, same scope'],
      ['STRAßE', 'ÓSCAR', 'the scope in another case'],
    ]);
  } finally {
    client.close();
    service.stop();
  }
});
