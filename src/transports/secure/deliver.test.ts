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

  test("a signed title is stored as the title; one that is not a title by this host's rule (lines, controls, length, not a string) is refused with status 87", async () => {
    const h = await startServer({ trust: 'tofu' });
    try {
      const hostb = throwawayCert('HOSTB');
      const p = await peer(h.port, { cert: hostb });
      const bad = ['two\nlines', '\u001b]0;owned\u0007', 'x'.repeat(257), ' padded', 42];
      bad.forEach((title, i) => p.send(delivery(hostb, 'HOSTB', { title }, i + 1)));
      p.send(delivery(hostb, 'HOSTB', { title: 'Grüße 🍕' }, 9));
      for (let i = 1; i <= bad.length; i++) assert.equal((await p.answer(i))?.status, 87, JSON.stringify(bad[i - 1]));
      assert.equal((await p.answer(9))?.ok, true);
      assert.deepEqual(h.received.map((m) => m.title), ['Grüße 🍕']);
      p.socket.destroy();
    } finally {
      await h.close();
    }
  });
});
