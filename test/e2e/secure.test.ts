/**
 * Remote calls over the secure channel (TLS 1.3 on loopback), with the original's access rules:
 * who may call, who may delete names, how a host key is pinned and a changed one refused, and
 * what the audit log keeps. The daemon and the CLI are real processes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NetMessageBufferSend, NetMessageNameDel } from '../../src/lib/netapi.js';
import { connectRemote } from '../../src/lib/client.js';
import { keyFingerprint, selfSignedCertificate } from '../../src/security/certificate.js';
import { signMessage } from '../../src/security/host-identity.js';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { NetApiError } from '../../src/messenger/errors.js';
import { DaemonProcess, NETSEND_BIN, freePort, run, tempDataDir } from '../helpers/daemon.js';

/** A host key and certificate, as a sending daemon has (or as anyone can make, naming any host). */
function throwawayHost(name: string) {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    name,
    privateKey,
    certPem: selfSignedCertificate(name, createPublicKey(privateKey), privateKey),
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    fingerprint: keyFingerprint(createPublicKey(privateKey)),
  };
}

/** One signed delivery to ALICE over the secure channel, as a sending daemon makes it: the answer's ok, or its status and message. */
function deliverAs(port: number, host: ReturnType<typeof throwawayHost>, text: string): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
  const fields = { from: 'BOB', to: 'ALICE', text, title: null, user: 'bob', sentAt: new Date().toISOString(), host: host.name, priority: 'normal', ttl: null };
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, minVersion: 'TLSv1.3', rejectUnauthorized: false, key: host.keyPem, cert: host.certPem });
    let buffer = '';
    socket.on('error', reject);
    socket.on('secureConnect', () => socket.write(`${JSON.stringify({ id: 1, op: 'deliver', ...fields, signature: signMessage(fields, host.privateKey) })}\n`));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      if (lines.length < 3) return; // the hello, then the answer
      socket.destroy();
      const answer = JSON.parse(lines[1] as string) as { ok: boolean; status: number; message: string };
      resolve(answer.ok ? { ok: true } : { ok: false, status: answer.status, message: answer.message });
    });
  });
}

/** The password of every test account: on stdin for `user add`, in NETSEND_PASSWORD for callers. */
const PASSWORD = 'correct horse battery';
const utf16 = (text: string) => Buffer.from(text, 'utf16le');

describe('remote calls over the secure channel', () => {
  let daemon: DaemonProcess;
  let port: number;
  let server: string;
  let client: { dir: string; cleanup: () => Promise<void> };
  let cleanupDaemon: () => Promise<void>;
  let adminToken: string;

  /** `netsend ARGS --server 127.0.0.1:PORT` from a client with its own data dir (its known-hosts). */
  const remote = (args: string[], env: NodeJS.ProcessEnv = {}, dataDir = client.dir) =>
    run(NETSEND_BIN, [...args, '--server', server, '--data-dir', dataDir], { env: { NETSEND_PASSWORD: undefined, NETSEND_TOKEN: undefined, NETSEND_USER: undefined, ...env } });
  const as = (user: string) => ({ NETSEND_USER: user, NETSEND_PASSWORD: PASSWORD });

  before(async () => {
    let dir: string;
    ({ dir, cleanup: cleanupDaemon } = await tempDataDir());
    client = await tempDataDir();
    port = await freePort();
    server = `127.0.0.1:${port}`;
    daemon = await DaemonProcess.start(dir, ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--secure-port', String(port), '--terminal', 'no']);
    assert.equal((await daemon.cli(['name', 'ALICE', '/add'])).code, 0);
    for (const [user, groups] of [['plain', []], ['ops', ['Server Operators']], ['ops2', ['Server Operators']], ['admin', ['Administrators']]] as const) {
      const added = await daemon.cli(['user', 'add', user, ...groups.flatMap((g) => ['--group', g])], { input: `${PASSWORD}\n` });
      assert.equal(added.code, 0, added.stderr);
    }
    const token = await daemon.cli(['user', 'token', 'admin']);
    adminToken = token.stdout.trim();
    assert.match(adminToken, /^nst_/);
  });
  after(async () => {
    await daemon?.stop();
    await cleanupDaemon?.();
    await client?.cleanup();
  });

  test('the first connection pins the host key, and a caller without an account is refused with status 5', async () => {
    const result = await remote(['send', 'ALICE', 'hello']);
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /first connection to 127\.0\.0\.1:\d+; its host key SHA256:\S+ is now pinned/);
    assert.match(result.stderr, /Access is denied\. \(ERROR_ACCESS_DENIED 5\)/);
    const key = (await daemon.cli(['host', 'key'])).stdout.trim().split(' ')[1];
    assert.equal((await readFile(join(client.dir, 'known-hosts'), 'utf8')).trim(), `${server} ${key}`);
  });

  test('a wrong password is refused with status 5 and audited; the reply does not say which part was wrong', async () => {
    const result = await remote(['send', 'ALICE', 'hello'], { NETSEND_USER: 'ops', NETSEND_PASSWORD: 'guess' });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /user name, password or token is incorrect/);
    const unknown = await remote(['send', 'ALICE', 'hello'], { NETSEND_USER: 'nobody', NETSEND_PASSWORD: 'guess' });
    assert.equal(unknown.stderr, result.stderr.replace(/^.*pinned.*\n/m, ''));
    const audit = (await daemon.cli(['audit', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(audit.some((r) => r.event === 'refused-logon' && r.principal === 'user ops' && r.status === 5));
  });

  test('a user in no group may not send remotely; Server Operators may, and the message lands', async () => {
    const refused = await remote(['send', 'ALICE', 'from plain'], as('plain'));
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /need membership in Administrators or Server Operators/);
    const sent = await remote(['send', 'ALICE', 'from ops', '--from', 'OPSDESK'], as('ops'));
    assert.equal(sent.code, 0, sent.stderr);
    const last = JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout);
    assert.deepEqual({ from: last.from, to: last.to, text: last.text }, { from: 'OPSDESK', to: 'ALICE', text: 'from ops' });
  });

  test('Server Operators may add a name remotely but only Administrators may delete one (here by token)', async () => {
    assert.equal((await remote(['name', 'REMOTEX', '/add'], as('ops'))).code, 0);
    const notAdmin = await remote(['name', 'REMOTEX', '/delete'], as('ops'));
    assert.equal(notAdmin.code, 5);
    assert.match(notAdmin.stderr, /needs Administrators/);
    const admin = await remote(['name', 'REMOTEX', '/delete'], { NETSEND_TOKEN: adminToken });
    assert.equal(admin.code, 0, admin.stderr);
    assert.doesNotMatch((await daemon.cli(['name'])).stdout, /REMOTEX/);
  });

  test("a remote account's message carries the account: the alias's rules apply to it, the inbox says so, and only it reads the receipt", async () => {
    assert.equal((await daemon.cli(['name', 'ALICE', '--deny', 'user:ops'])).code, 0);
    const refused = await remote(['send', 'ALICE', 'denied by rule'], as('ops'));
    assert.equal(refused.code, 5, refused.stderr);
    assert.equal((await daemon.cli(['name', 'ALICE', '--clear-policy'])).code, 0);
    const sent = await remote(['send', 'ALICE', 'signed by my account', '--json'], as('ops'));
    assert.equal(sent.code, 0, sent.stderr);
    const { id } = JSON.parse(sent.stdout) as { id: number };
    assert.match((await daemon.cli(['inbox'])).stdout, /\(verified: sent by the account ops, by a remote call\)\n\nsigned by my account\n/);
    assert.equal((await remote(['receipt', String(id)], as('ops'))).code, 0);
    const other = await remote(['receipt', String(id)], as('ops2'));
    assert.equal(other.code, 1);
    assert.match(other.stderr, /ERROR_NOT_FOUND 1168/);
  });

  test('setting who may message an alias is for administrators when remote: Server Operators are refused', async () => {
    const ops = await remote(['name', 'ALICE', '--legacy', 'all'], as('ops'));
    assert.equal(ops.code, 5, ops.stderr);
    assert.equal((await remote(['name', 'ALICE', '--legacy', 'all'], { NETSEND_TOKEN: adminToken })).code, 0);
    assert.equal((await daemon.cli(['name', 'ALICE', '--clear-policy'])).code, 0);
  });

  test('the inbox is not readable remotely, even by an administrator; accounts are for administrators only', async () => {
    assert.equal((await remote(['inbox'], { NETSEND_TOKEN: adminToken })).code, 5);
    assert.equal((await remote(['user', 'list'], as('ops'))).code, 5);
    const listed = await remote(['user', 'list', '--json'], { NETSEND_TOKEN: adminToken });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).map((u: { name: string }) => u.name), ['admin', 'ops', 'ops2', 'plain']);
  });

  test('the audit log keeps remote calls and refusals, with who, from where and the status', async () => {
    const audit = (await daemon.cli(['audit', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(audit.some((r) => r.event === 'remote-call' && r.principal === 'user ops' && r.detail === 'send ALICE' && r.status === 0 && /^127\.0\.0\.1:\d+$/.test(r.source)));
    assert.ok(audit.some((r) => r.event === 'refused-call' && r.principal === 'user plain' && r.status === 5));
    assert.ok(audit.some((r) => r.event === 'remote-call' && r.principal === 'user admin' && r.detail === 'names.delete REMOTEX'));
    const human = (await daemon.cli(['audit'])).stdout;
    assert.match(human, /refused-call {2}user plain from 127\.0\.0\.1:\d+ {2}send ALICE {2}status 5/);
  });

  test('a changed host key is refused (NERR_NetworkError) before any credentials are sent', async () => {
    const other = await tempDataDir();
    try {
      await writeFile(join(other.dir, 'known-hosts'), `${server} SHA256:${'A'.repeat(43)}\n`);
      const result = await remote(['send', 'ALICE', 'hi'], as('ops'), other.dir);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /\(NERR_NetworkError 2136\)/);
      assert.match(result.stderr, /host key of 127\.0\.0\.1:\d+ has changed/);
      const audit = (await daemon.cli(['audit', '--json'])).stdout;
      assert.doesNotMatch(audit, /"send ALICE".*"status":0.*\n.*$/, 'nothing ran');
    } finally {
      await other.cleanup();
    }
  });

  test('with "secure trust = known" an unlisted host is refused until its key is added with netsend host trust', async () => {
    const other = await tempDataDir();
    try {
      const strict = { ...as('ops'), NETSEND_SECURE_TRUST: 'known' };
      const refused = await remote(['send', 'ALICE', 'hi'], strict, other.dir);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /is not in .*known-hosts/);
      const key = (await daemon.cli(['host', 'key'])).stdout.trim().split(' ')[1] as string;
      assert.equal((await run(NETSEND_BIN, ['host', 'trust', server, key, '--data-dir', other.dir])).code, 0);
      const sent = await remote(['send', 'ALICE', 'trusted now'], strict, other.dir);
      assert.equal(sent.code, 0, sent.stderr);
    } finally {
      await other.cleanup();
    }
  });

  test('NetMessageBufferSend and NetMessageNameDel with a servername run there, with the statuses the rules give', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { NETSEND_DATA_DIR: client.dir, NETSEND_USER: 'ops', NETSEND_PASSWORD: PASSWORD });
    try {
      const text = 'via the library';
      assert.equal(await NetMessageBufferSend(server, 'alice', null, utf16(text), text.length * 2), 0);
      assert.equal(await NetMessageNameDel(`\\\\${server}`, 'ALICE'), 5);
      process.env.NETSEND_PASSWORD = 'wrong';
      assert.equal(await NetMessageBufferSend(server, 'alice', null, utf16(text), text.length * 2), 5);
    } finally {
      process.env = saved;
    }
    const last = JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout);
    assert.equal(last.text, 'via the library');
  });

  test('a host key bound to an account calls with its groups, with no password; unbound it may not call', async () => {
    const unbound = await remote(['name', 'KEYNAME', '/add', '--host-key']);
    assert.equal(unbound.code, 5);
    assert.match(unbound.stderr, /bound to no account/);
    const fingerprint = keyFingerprint(createPublicKey(await readFile(join(client.dir, 'host-key.pem'), 'utf8')));
    assert.equal((await daemon.cli(['user', 'key', 'admin', fingerprint])).code, 0);
    const bound = await remote(['name', 'KEYNAME', '/add', '--host-key']);
    assert.equal(bound.code, 0, bound.stderr);
    const audit = (await daemon.cli(['audit', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(audit.some((r) => r.principal === 'host admin' && r.detail === 'names.add KEYNAME' && r.status === 0));
    const forged = await remote(['send', 'ALICE', 'x'], { NETSEND_TOKEN: `hostkey:${fingerprint}` });
    assert.equal(forged.code, 5, 'the binding is proved by the handshake, not by a string');
  });

  test('an administrator lists an account\'s tokens and host keys and revokes one: it no longer logs on, the others still do', async () => {
    const first = (await daemon.cli(['user', 'token', 'ops2'])).stdout.trim();
    const second = (await daemon.cli(['user', 'token', 'ops2'])).stdout.trim();
    const fingerprint = keyFingerprint(createPublicKey(await readFile(join(client.dir, 'host-key.pem'), 'utf8')));
    assert.equal((await daemon.cli(['user', 'key', 'admin', fingerprint])).code, 0, 'binding a key again to its account changes nothing');
    const clash = await daemon.cli(['user', 'key', 'ops2', fingerprint]);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /bound to the account "admin"/);

    const adminCredentials = JSON.parse((await daemon.cli(['user', 'tokens', 'admin', '--json'])).stdout) as Array<{ id: string; kind: string; hostKey: string | null }>;
    assert.deepEqual(adminCredentials.map((c) => c.kind).sort(), ['host key', 'token']);
    assert.equal(adminCredentials.find((c) => c.kind === 'host key')?.hostKey, fingerprint);
    const listing = (await daemon.cli(['user', 'tokens', 'ops2'])).stdout;
    // when each was made, in local time as people read it
    assert.match(listing, /^[0-9a-f]{12} {2}token {5}\d+\/\d+\/\d{4} \d+:\d\d:\d\d [AP]M\n[0-9a-f]{12} {2}token/);
    assert.ok(!listing.includes(first.slice(4)) && !listing.includes(second.slice(4)), 'the tokens themselves are never shown again');

    const byToken = await daemon.cli(['user', 'revoke', 'ops2', first]);
    assert.equal(byToken.code, 0, byToken.stderr);
    assert.match(byToken.stdout, /^Revoked 1 of ops2's tokens and host keys/);
    assert.equal((await remote(['name'], { NETSEND_TOKEN: first })).code, 5, 'the revoked token is refused');
    assert.equal((await remote(['name'], { NETSEND_TOKEN: second })).code, 0, 'the other still logs on');

    const [left] = JSON.parse((await daemon.cli(['user', 'tokens', 'ops2', '--json'])).stdout) as Array<{ id: string }>;
    assert.equal((await daemon.cli(['user', 'revoke', 'ops2', left!.id])).code, 0);
    assert.equal((await remote(['name'], { NETSEND_TOKEN: second })).code, 5);
    const again = await daemon.cli(['user', 'revoke', 'ops2', left!.id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /\(ERROR_NOT_FOUND 1168\)/);
    assert.equal((await daemon.cli(['user', 'tokens', 'ops2'])).stdout, 'ops2 has no tokens or host keys.\n');

    assert.equal((await daemon.cli(['user', 'revoke', 'admin', fingerprint])).code, 0);
    const unbound = await remote(['name', '--host-key']);
    assert.equal(unbound.code, 5);
    assert.match(unbound.stderr, /bound to no account/);
    assert.equal((await remote(['name'], { NETSEND_TOKEN: adminToken })).code, 0, "the account's token is not the host key");
    assert.equal((await daemon.cli(['user', 'revoke', 'admin'])).code, 2, 'neither a credential nor --all is a usage error');
  });

  test('a session that stays open follows its account: new groups apply to its next call, and a revoked token closes it', async () => {
    const token = (await daemon.cli(['user', 'token', 'ops2'])).stdout.trim();
    const session = await connectRemote({ server, dataDir: client.dir, token });
    const statusOf = (call: Promise<unknown>) => call.then(() => 0, (error: NetApiError) => error.status);
    try {
      assert.equal(await statusOf(session.send({ to: 'ALICE', text: 'ops2 as a Server Operator' })), 0);
      assert.equal((await daemon.cli(['user', 'groups', 'ops2', '--remove', 'Server Operators'])).code, 0);
      assert.equal(await statusOf(session.send({ to: 'ALICE', text: 'ops2 in no group' })), 5, 'the removed group no longer lets it call');
      assert.equal((await daemon.cli(['user', 'groups', 'ops2', '--add', 'Server Operators'])).code, 0);
      assert.equal(await statusOf(session.send({ to: 'ALICE', text: 'ops2 a Server Operator again' })), 0);
      assert.equal((await daemon.cli(['user', 'revoke', 'ops2', token])).code, 0);
      assert.equal(await statusOf(session.send({ to: 'ALICE', text: 'after the revoke' })), 2136, 'the session was closed');
    } finally {
      await session.close();
    }
    const texts = (await daemon.cli(['inbox', '--json', '--limit', '5'])).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
    assert.ok(!texts.includes('ops2 in no group') && !texts.includes('after the revoke'), texts.join(' | '));
  });

  test('an account sending through remote calls is held to the per-source rate (burst 20, then 5/s)', async () => {
    const session = await connectRemote({ server, dataDir: client.dir, user: 'ops', password: PASSWORD });
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => session.send({ to: 'ALICE', text: `burst ${i}` })));
      const refused = outcomes.filter((o) => o.status === 'rejected' && (o.reason as NetApiError).status === 2283).length;
      assert.ok(refused >= 5 && refused <= 10, `${refused} of 30 refused`);
    } finally {
      await session.close();
    }
  });

  test('a logged-on user can send a text of the full max message size, even one JSON must escape, and it lands whole', async () => {
    const session = await connectRemote({ server, dataDir: client.dir, token: adminToken });
    try {
      // 32,768 characters = 65,536 bytes of UTF-16, the default max message size; each is \" on the wire
      const text = '"'.repeat(32_768);
      await session.send({ to: 'ALICE', text });
      const last = JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout);
      assert.equal(last.text, text);
    } finally {
      await session.close();
    }
  });

  test('a host that delivers is pinned by name; another key claiming that name is refused with status 5 and audited', async () => {
    const hostb = throwawayHost('HOSTB');
    assert.deepEqual(await deliverAs(port, hostb, 'from the real HOSTB'), { ok: true });
    const last = JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout);
    assert.equal(last.text, 'from the real HOSTB');
    assert.match(last.senderHost, new RegExp(`^HOSTB ${hostb.fingerprint.replace(/[+/]/g, '\\$&')}$`));
    const impostor = throwawayHost('HOSTB');
    const refused = (await deliverAs(port, impostor, 'wire the money')) as { status?: number; message?: string };
    assert.equal(refused.status, 5);
    assert.match(String(refused.message), /host key of HOSTB has changed .* remove its line from \S*known-hosts on TESTHOST/);
    const audit = (await daemon.cli(['audit', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(audit.some((r) => r.event === 'refused-host' && r.principal === 'host HOSTB' && r.status === 5));
    assert.notEqual(JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout).text, 'wire the money');
  });

  test("no stranger's key may claim this host's own names or a loopback name: refused with status 5, audited, never pinned", async () => {
    for (const name of ['TESTHOST', 'testhost', 'localhost', 'mail.localhost', '127.0.0.1']) {
      const impostor = throwawayHost(name);
      const refused = (await deliverAs(port, impostor, `I am ${name}`)) as { status?: number; message?: string };
      assert.equal(refused.status, 5, name);
      assert.match(String(refused.message), /The host certificate names \S+, (this host's own name|a loopback name): only this host's own key may\.$/, name);
      assert.notEqual(JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout).text, `I am ${name}`);
    }
    const knownHosts = await readFile(join(daemon.dataDir, 'known-hosts'), 'utf8').catch(() => '');
    assert.doesNotMatch(knownHosts, /^(TESTHOST|localhost|127\.0\.0\.1) /im, 'nothing was pinned for those names');
    const audit = (await daemon.cli(['audit', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(audit.some((r) => r.event === 'refused-host' && r.principal === 'host TESTHOST' && /this host's own name/.test(r.detail)));
    assert.ok(audit.some((r) => r.event === 'refused-host' && r.principal === 'host localhost' && /a loopback name/.test(r.detail)));
  });

  test('failed logons from one address are limited: past the burst even the right password waits', async () => {
    const attempt = (password: string) => connectRemote({ server, dataDir: client.dir, user: 'ops', password }).then((c) => c.close());
    const denied = (pattern: RegExp) => (e: unknown) => e instanceof NetApiError && e.status === 5 && pattern.test(e.message);
    for (let i = 0; i < 12; i++) await attempt('wrong').catch(() => {});
    await assert.rejects(attempt(PASSWORD), denied(/Too many logon attempts/));
    await assert.rejects(attempt('wrong'), denied(/Too many logon attempts/));
  });
});

describe('remote calls on a domain controller', () => {
  test('the default ACL is Domain Admins and Account Operators: Administrators are refused', async () => {
    const { dir, cleanup } = await tempDataDir();
    const client = await tempDataDir();
    const port = await freePort();
    const daemon = await DaemonProcess.start(dir, ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--secure-port', String(port), '--terminal', 'no', '--server-role', 'domain controller']);
    try {
      for (const [user, group] of [['admin', 'Administrators'], ['accounts', 'Account Operators']]) {
        assert.equal((await daemon.cli(['user', 'add', user as string, '--group', group as string], { input: PASSWORD })).code, 0);
      }
      const call = (user: string) =>
        run(NETSEND_BIN, ['send', 'TESTHOST', 'hi', '--server', `127.0.0.1:${port}`, '--data-dir', client.dir], { env: { NETSEND_USER: user, NETSEND_PASSWORD: PASSWORD } });
      const admin = await call('admin');
      assert.equal(admin.code, 5);
      assert.match(admin.stderr, /on a domain controller need membership in Domain Admins or Account Operators/);
      assert.equal((await call('accounts')).code, 0);
    } finally {
      await daemon.stop();
      await cleanup();
      await client.cleanup();
    }
  });
});

describe('a site CA instead of pinned keys', () => {
  test('the daemon refuses to start with "secure trust = ca" and no "secure ca file", naming both', async () => {
    const { dir, cleanup } = await tempDataDir();
    try {
      const result = await run(NETSEND_BIN, ['serve', '--data-dir', dir, '--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--secure-port', String(await freePort()), '--terminal', 'no', '--secure-trust', 'ca'], {
        env: { NETSEND_SECURE_CA_FILE: undefined },
      });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /"secure trust" = ca needs "secure ca file"/);
    } finally {
      await cleanup();
    }
  });

  test('with trust = ca a host certificate the CA signed is accepted, a self-signed one refused', async () => {
    const { dir, cleanup } = await tempDataDir();
    const client = await tempDataDir();
    const pki = join(client.dir, 'pki');
    const openssl = (...args: string[]) => {
      const result = spawnSync('openssl', args, { cwd: pki, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
    };
    await mkdir(pki);
    openssl('genpkey', '-algorithm', 'ed25519', '-out', 'ca.key');
    openssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=Site CA', '-days', '30', '-out', 'ca.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=keyCertSign');
    openssl('genpkey', '-algorithm', 'ed25519', '-out', 'host.key');
    openssl('req', '-new', '-key', 'host.key', '-subj', '/CN=TESTHOST', '-out', 'host.csr');
    openssl('x509', '-req', '-in', 'host.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-out', 'host.pem');
    const signedPort = await freePort();
    const selfPort = await freePort();
    const common = ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--terminal', 'no'];
    const signed = await DaemonProcess.start(join(dir, 'signed'), [...common, '--secure-port', String(signedPort), '--secure-cert-file', join(pki, 'host.pem'), '--secure-key-file', join(pki, 'host.key')]);
    const selfSigned = await DaemonProcess.start(join(dir, 'self'), [...common, '--secure-port', String(selfPort)]);
    try {
      assert.equal((await signed.cli(['user', 'add', 'ops', '--group', 'Server Operators'], { input: PASSWORD })).code, 0);
      const env = { NETSEND_SECURE_TRUST: 'ca', NETSEND_SECURE_CA_FILE: join(pki, 'ca.pem'), NETSEND_USER: 'ops', NETSEND_PASSWORD: PASSWORD };
      const ok = await run(NETSEND_BIN, ['send', 'TESTHOST', 'signed by the site', '--server', `127.0.0.1:${signedPort}`, '--data-dir', client.dir], { env });
      assert.equal(ok.code, 0, ok.stderr);
      assert.doesNotMatch(ok.stderr, /pinned/, 'a CA-signed key needs no pinning');
      const refused = await run(NETSEND_BIN, ['send', 'TESTHOST', 'hi', '--server', `127.0.0.1:${selfPort}`, '--data-dir', client.dir], { env });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /not signed by the site CA/);
    } finally {
      await Promise.all([signed.stop(), selfSigned.stop()]);
      await cleanup();
      await client.cleanup();
    }
  });
});
