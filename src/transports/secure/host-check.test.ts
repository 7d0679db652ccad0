/** The sending host of a delivery, checked against known-hosts or the site CA (`secure trust`). */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IncomingMessage } from '../../messenger/message.js';
import { hostLine } from '../../messenger/sender.js';
import { loadHostIdentity } from '../../security/host-identity.js';
import { KnownHosts } from '../../security/known-hosts.js';
import { SecureSender } from './sender.js';
import { delivery, peer, sitePki, startServer, throwawayCert } from './server.test.helper.js';

/** The sending host of a received message as the inbox shows it: "NAME SHA256:…". */
const hostOf = (message: IncomingMessage | undefined) => (message?.sender.host ? hostLine(message.sender.host) : undefined);

describe('the sending host, checked against known-hosts', () => {
  test('tofu: a host name seen for the first time is pinned with its key when it delivers, and its message lands verified', async () => {
    const h = await startServer({ trust: 'tofu' });
    try {
      const hostb = throwawayCert('HOSTB');
      const p = await peer(h.port, { cert: hostb });
      p.send(delivery(hostb, 'HOSTB'));
      assert.equal((await p.answer(1))?.ok, true);
      assert.deepEqual(await h.knownHosts.lookup('HOSTB'), [hostb.fingerprint]);
      assert.equal(hostOf(h.received[0]), `HOSTB ${hostb.fingerprint}`);
      assert.ok(h.logs.some((l) => l.includes(`pinned the host key of HOSTB: ${hostb.fingerprint}`)));
      p.socket.destroy();
    } finally {
      await h.close();
    }
  });

  test('tofu: a new host whose message the front door refuses is not pinned: a flood of fresh keys writes nothing to known-hosts', async () => {
    const h = await startServer({ trust: 'tofu' });
    try {
      h.refuse.on = true;
      for (const name of ['FLOOD1', 'FLOOD2', 'FLOOD3']) {
        const cert = throwawayCert(name);
        const p = await peer(h.port, { cert });
        p.send(delivery(cert, name));
        assert.equal((await p.answer(1))?.status, 2283);
        assert.deepEqual(await h.knownHosts.lookup(name), [], `${name} is not pinned`);
        p.socket.destroy();
      }
      h.refuse.on = false;
      const cert = throwawayCert('FLOOD1');
      const p = await peer(h.port, { cert });
      p.send(delivery(cert, 'FLOOD1'));
      assert.equal((await p.answer(1))?.ok, true, 'once admitted, a new host is pinned as before');
      assert.deepEqual(await h.knownHosts.lookup('FLOOD1'), [cert.fingerprint]);
      p.socket.destroy();
    } finally {
      await h.close();
    }
  });

  test('tofu: another key claiming a pinned host name is refused with status 5, audited, and told how to re-trust', async () => {
    const h = await startServer({ trust: 'tofu' });
    try {
      const real = throwawayCert('HOSTB');
      await h.knownHosts.add('HOSTB', real.fingerprint);
      const impostor = throwawayCert('HOSTB');
      const p = await peer(h.port, { cert: impostor });
      p.send(delivery(impostor, 'HOSTB'));
      const answer = await p.answer(1);
      assert.equal(answer?.status, 5);
      assert.match(String(answer?.message), /host key of HOSTB has changed/);
      assert.match(String(answer?.message), /remove its line from .*known-hosts/);
      assert.equal(h.received.length, 0);
      assert.ok(h.audit.some((r) => r.event === 'refused-host' && r.principal === 'host HOSTB' && r.status === 5 && r.detail.includes(impostor.fingerprint)));
      assert.deepEqual(await h.knownHosts.lookup('HOSTB'), [real.fingerprint], 'the pin stays');
      p.socket.destroy();
    } finally {
      await h.close();
    }
  });

  test('known: only host names listed with their key deliver; an unlisted one is refused with status 5 and not pinned', async () => {
    const h = await startServer({ trust: 'known' });
    try {
      const hostb = throwawayCert('HOSTB');
      const refused = await peer(h.port, { cert: hostb });
      refused.send(delivery(hostb, 'HOSTB'));
      const answer = await refused.answer(1);
      assert.equal(answer?.status, 5);
      assert.match(String(answer?.message), /HOSTB \(SHA256:\S+\) is not in .*known-hosts on SERVERA; add it with "netsend host trust HOSTB SHA256:/);
      assert.deepEqual(await h.knownHosts.lookup('HOSTB'), []);
      refused.socket.destroy();
      await h.knownHosts.add('HOSTB', hostb.fingerprint);
      const listed = await peer(h.port, { cert: hostb });
      listed.send(delivery(hostb, 'HOSTB'));
      assert.equal((await listed.answer(1))?.ok, true);
      listed.socket.destroy();
    } finally {
      await h.close();
    }
  });

  test('a certificate whose name could not be a host name (spaces, #) delivers nothing', async () => {
    const h = await startServer({ trust: 'tofu' });
    try {
      const odd = throwawayCert('HOST B # x');
      const p = await peer(h.port, { cert: odd });
      p.send(delivery(odd, 'HOST B # x'));
      assert.equal((await p.answer(1))?.status, 5);
      assert.equal(await readFile(join(h.dir, 'known-hosts'), 'utf8').catch(() => ''), '');
      p.socket.destroy();
    } finally {
      await h.close();
    }
  });
});

describe('trust = ca', () => {
  let pkiDir: string;
  let pki: Awaited<ReturnType<typeof sitePki>>;
  before(async () => {
    pkiDir = await mkdtemp(join(tmpdir(), 'netsend-pki-'));
    pki = await sitePki(pkiDir, 'hosta.example.com');
  });
  after(() => rm(pkiDir, { recursive: true, force: true }));

  test('a host with a CA-issued certificate named hosta.example.com delivers, and is shown as hosta.example.com', async () => {
    const h = await startServer({ trust: 'ca', caPem: pki.caPem });
    try {
      const identity = await loadHostIdentity({ dataDir: pkiDir, computerName: 'HOSTA', certFile: pki.certFile, keyFile: pki.keyFile });
      const sender = new SecureSender({ identity, knownHosts: new KnownHosts(join(pkiDir, 'kh')), trust: 'ca', caPem: pki.caPem, port: h.port, log: () => {} });
      // the server's own certificate is self-signed here: the sender trusts it by a pin
      await writeFile(join(pkiDir, 'kh'), `127.0.0.1:${h.port} ${(await loadHostIdentity({ dataDir: h.dir, computerName: 'SERVERA' })).fingerprint}\n`);
      const report = await sender.tryDeliver({ from: 'HOSTA', to: 'ALICE', text: 'hello' } as never, '127.0.0.1');
      assert.equal(report?.secure, true);
      assert.match(String(hostOf(h.received[0])), /^hosta\.example\.com SHA256:/);
    } finally {
      await h.close();
    }
  });

  test('a self-signed certificate is refused with status 5 even for a name never seen', async () => {
    const h = await startServer({ trust: 'ca', caPem: pki.caPem });
    try {
      const self = throwawayCert('hostc.example.com');
      const p = await peer(h.port, { cert: self });
      p.send(delivery(self, 'hostc.example.com'));
      const answer = await p.answer(1);
      assert.equal(answer?.status, 5);
      assert.match(String(answer?.message), /not signed by the site CA/);
      p.socket.destroy();
    } finally {
      await h.close();
    }
  });
});

