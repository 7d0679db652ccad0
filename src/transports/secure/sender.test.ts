/** The sending side of a delivery: what it signs and sends depends on what the peer's hello says it takes. */
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LineFramer, encodeLine } from '../../control/protocol.js';
import { loadHostIdentity, type HostIdentity } from '../../security/host-identity.js';
import { KnownHosts } from '../../security/known-hosts.js';
import { SecureSender } from './sender.js';
import { startServer, throwawayCert } from './server.test.helper.js';

let dir: string;
let identity: HostIdentity;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netsend-sender-'));
  identity = await loadHostIdentity({ dataDir: dir, computerName: 'HOSTA' });
});
after(() => rm(dir, { recursive: true, force: true }));

/** A netsend from before titles: its hello names no features; it records the one request it gets. */
async function olderPeer(): Promise<{ port: number; request: Promise<Record<string, unknown>>; close: () => void }> {
  const cert = throwawayCert('OLDPEER');
  let got: (request: Record<string, unknown>) => void = () => {};
  const request = new Promise<Record<string, unknown>>((resolve) => (got = resolve));
  const server = createServer({ key: cert.keyPem, cert: cert.certPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, (socket: TLSSocket) => {
    socket.write(encodeLine({ hello: 'netsend', version: 1, computerName: 'OLDPEER' } as never));
    const framer = new LineFramer();
    socket.on('data', (chunk: Buffer) => {
      for (const line of framer.push(chunk)) {
        got(JSON.parse(line) as Record<string, unknown>);
        socket.end(encodeLine({ id: 1, ok: true, result: { id: 5 } } as never));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, request, close: () => server.close() };
}

test('to a peer from before titles, a titled message goes as the text\'s first line, signed the way it verifies (netsend-message-v1)', async () => {
  const peer = await olderPeer();
  try {
    const sender = new SecureSender({ identity, knownHosts: new KnownHosts(join(dir, 'kh-old')), trust: 'tofu', port: peer.port, log: () => {} });
    const report = await sender.tryDeliver({ from: 'HOSTA', to: 'ALICE', title: 'Backup', text: 'db1 failed' }, '127.0.0.1');
    assert.equal(report?.secure, true);
    const request = await peer.request;
    assert.equal(request.text, 'Backup\ndb1 failed');
    assert.equal(request.title ?? null, null);
    // what an older receiver checks: the v1 bytes, which have no title
    const { from, to, text, user, sentAt, host, priority, ttl, signature } = request as Record<string, string | null>;
    const v1 = Buffer.from(JSON.stringify(['netsend-message-v1', host, user, from, to, sentAt, priority, ttl, text]), 'utf8');
    assert.equal(verify(null, v1, createPublicKey(identity.privateKey), Buffer.from(String(signature), 'base64')), true);
  } finally {
    peer.close();
  }
});

test('to a peer that takes titles, the title is its own field and the text stays as written', async () => {
  const h = await startServer({ trust: 'tofu' });
  try {
    const sender = new SecureSender({ identity, knownHosts: new KnownHosts(join(dir, 'kh-new')), trust: 'tofu', port: h.port, log: () => {} });
    assert.equal((await sender.tryDeliver({ from: 'HOSTA', to: 'ALICE', title: 'Backup', text: 'db1 failed' }, '127.0.0.1'))?.secure, true);
    assert.deepEqual([h.received[0]?.title, h.received[0]?.text], ['Backup', 'db1 failed']);
  } finally {
    await h.close();
  }
});
