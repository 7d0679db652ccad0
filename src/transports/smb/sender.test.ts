/** SmbSender's session request: names upper-cased in the code page as Samba does, and the scope. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { NetApiError } from '../../messenger/errors.js';
import { SmbSender } from './sender.js';

/**
 * `smbclient -M óscar -n straße --netbios-scope=other -I 127.0.0.1` (Samba 4.17.12, dos charset
 * CP850), its session request as it came in: called ÓSCAR<03> (0xE0…), calling STRAßE<00> (ß is
 * 0xE1), each followed by the scope OTHER, upper-cased.
 */
const SMBCLIENT_SESSION_REQUEST =
  '81000050204f41464445444542464343414341434143414341434143414341434143414144054f54484552002046444645464345424f4245464341434143414341434143414341434143414141054f5448455200';

/** A server that records the first frame and refuses the session (0x82, called name not present). */
async function recorder(): Promise<{ port: number; first: Promise<string>; close: () => void }> {
  let seen: (hex: string) => void = () => {};
  const first = new Promise<string>((resolve) => (seen = resolve));
  const server = createServer((socket) => socket.once('data', (data) => {
    seen(data.toString('hex'));
    socket.end(Buffer.from('8300000182', 'hex'));
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, first, close: () => server.close() };
}

test('the session request names the alias and this host as smbclient does: Samba upper case in the code page, the scope after each', async () => {
  const server = await recorder();
  try {
    const sender = new SmbSender({ callingName: 'straße', charset: 'CP850', scope: 'other', timeoutMs: 2000 });
    await assert.rejects(
      sender.deliver({ from: 'BOB', to: 'óscar', text: 'hi' }, { address: '127.0.0.1', port: server.port }),
      (e: unknown) => e instanceof NetApiError && e.statusName === 'NERR_NameNotFound',
    );
    assert.equal(await server.first, SMBCLIENT_SESSION_REQUEST);
  } finally {
    server.close();
  }
});
