/** A delivery from another host: its fields are bounded before anything is stored. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { delivery, peer, startServer, throwawayCert } from './server.test.helper.js';

describe('the fields of a delivery are bounded', () => {
  test('a user over 256 characters or a sentAt over 64 is refused with status 87, before it is stored', async () => {
    const h = await startServer({ trust: 'tofu' });
    try {
      const hostb = throwawayCert('HOSTB');
      const p = await peer(h.port, { cert: hostb });
      p.send(delivery(hostb, 'HOSTB', { user: 'u'.repeat(257) }, 1));
      p.send(delivery(hostb, 'HOSTB', { sentAt: `${new Date().toISOString()}${' '.repeat(60)}` }, 2));
      p.send(delivery(hostb, 'HOSTB', { user: 'u'.repeat(256) }, 3));
      assert.equal((await p.answer(1))?.status, 87);
      assert.equal((await p.answer(2))?.status, 87);
      assert.equal((await p.answer(3))?.ok, true);
      assert.equal(h.received.length, 1);
      p.socket.destroy();
    } finally {
      await h.close();
    }
  });
});
