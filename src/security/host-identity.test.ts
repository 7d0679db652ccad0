import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSecureContext } from 'node:tls';
import { keyFingerprint, selfSignedCertificate } from './certificate.js';
import { hostNameOf, loadHostIdentity, signMessage, verifyMessage } from './host-identity.js';
import { KnownHosts } from './known-hosts.js';

test('the self-signed certificate parses, names the host, carries the key and verifies with it', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const certificate = new X509Certificate(selfSignedCertificate('HOSTA', publicKey, privateKey));
  assert.equal(certificate.subject, 'CN=HOSTA');
  assert.equal(certificate.issuer, 'CN=HOSTA');
  assert.ok(certificate.verify(publicKey));
  assert.equal(keyFingerprint(certificate), keyFingerprint(publicKey));
  assert.match(keyFingerprint(publicKey), /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.equal(certificate.validTo, 'Dec 31 23:59:59 9999 GMT');
});

test('every certificate made is one TLS accepts (a random serial must stay a minimal DER INTEGER)', () => {
  for (let i = 0; i < 300; i++) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const cert = selfSignedCertificate(`HOST${i}`, publicKey, privateKey);
    assert.doesNotThrow(() => createSecureContext({ cert, key: privateKey.export({ format: 'pem', type: 'pkcs8' }) }), `certificate ${i}`);
  }
});

test('the host key is made once (mode 0600) and kept; the certificate follows a new computer name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netsend-id-'));
  try {
    const first = await loadHostIdentity({ dataDir: dir, computerName: 'HOSTA' });
    assert.equal((await stat(join(dir, 'host-key.pem'))).mode & 0o777, 0o600);
    const again = await loadHostIdentity({ dataDir: dir, computerName: 'HOSTA' });
    assert.equal(again.fingerprint, first.fingerprint);
    assert.equal(again.certPem, first.certPem);
    const renamed = await loadHostIdentity({ dataDir: dir, computerName: 'HOSTB' });
    assert.equal(renamed.fingerprint, first.fingerprint, 'same key');
    assert.equal(new X509Certificate(await readFile(join(dir, 'host-cert.pem'))).subject, 'CN=HOSTB');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a message signature covers every field: any change fails it, as does another key', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const fields = { from: 'BOB', to: 'ALICE', text: 'hi 😀', title: 'Lunch' as string | null, user: 'bob', host: 'HOSTB', sentAt: '2026-11-25T10:00:00.000Z', priority: 'high', ttl: 60 as number | null };
  const signature = signMessage(fields, privateKey);
  const publicKey = createPublicKey(privateKey);
  assert.equal(verifyMessage(fields, signature, publicKey), true);
  for (const [key, value] of Object.entries({ from: 'EVE', to: 'CAROL', text: 'hi', title: null, user: null, host: 'HOSTC', sentAt: '2026-11-25T10:00:01.000Z', priority: 'urgent', ttl: null })) {
    assert.equal(verifyMessage({ ...fields, [key]: value }, signature, publicKey), false, key);
  }
  assert.equal(verifyMessage(fields, signature, other.publicKey), false);
  assert.equal(verifyMessage(fields, 'not base64!', publicKey), false);
});

test('known hosts: lines by endpoint, comments ignored, case-insensitive names, several keys allowed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netsend-kh-'));
  try {
    const hosts = new KnownHosts(join(dir, 'sub', 'known-hosts'));
    assert.deepEqual(await hosts.lookup('10.0.0.5:4139'), [], 'no file yet');
    await hosts.add('10.0.0.5:4139', 'SHA256:aaa');
    await hosts.add('HostB.example:4139', 'SHA256:bbb');
    await hosts.add('10.0.0.5:4139', 'SHA256:ccc');
    assert.deepEqual(await hosts.lookup('10.0.0.5:4139'), ['SHA256:aaa', 'SHA256:ccc']);
    assert.deepEqual(await hosts.lookup('hostb.EXAMPLE:4139'), ['SHA256:bbb']);
    assert.deepEqual(await hosts.lookup('10.0.0.5:139'), []);
    await assert.rejects(hosts.add('a b', 'SHA256:x'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("with the administrator's certificate (secure cert file), the host's name is the certificate's CN: what it signs is what receivers read", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'netsend-id-'));
  try {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    await writeFile(join(dir, 'host.pem'), selfSignedCertificate('hosta.example.com', publicKey, privateKey));
    await writeFile(join(dir, 'host.key'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const identity = await loadHostIdentity({ dataDir: dir, computerName: 'HOSTA', certFile: join(dir, 'host.pem'), keyFile: join(dir, 'host.key') });
    assert.equal(identity.name, 'hosta.example.com');
    assert.equal(hostNameOf(new X509Certificate(identity.certPem)), 'hosta.example.com');
    assert.equal(identity.fingerprint, keyFingerprint(publicKey));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a certificate names a host only with one CN that could be a host name', () => {
  const cert = (cn: string) => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    return new X509Certificate(selfSignedCertificate(cn, publicKey, privateKey));
  };
  assert.equal(hostNameOf(cert('HOSTB')), 'HOSTB');
  assert.equal(hostNameOf(cert('hostb.example.com')), 'hostb.example.com');
  for (const bad of ['HOST B', 'HOSTB#1', '10.0.0.5:4139', '', 'x'.repeat(254)]) assert.equal(hostNameOf(cert(bad)), null, JSON.stringify(bad));
});
