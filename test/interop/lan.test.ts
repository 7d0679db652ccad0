/**
 * Three netsend hosts on a private LAN of network namespaces (10.77.0.0/24, nowhere else):
 * aliases registered and defended by broadcast, names resolved by broadcast, messages sent over
 * the session service. No lmhosts, no --host: the way NET SEND works on a LAN.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { TestLan } from '../helpers/bridge.js';
import { DaemonProcess, tempDataDir } from '../helpers/daemon.js';
import { netnsUnavailable } from '../helpers/netns.js';
import { startCapture } from '../helpers/capture.js';

/** The newest message of a host's inbox once `arrived` accepts it (polled, at most 2.5 s). */
async function newest(host: DaemonProcess, arrived: (m: { to: string; text: string }) => boolean) {
  let last: { from: string; to: string; text: string; via: string } | null = null;
  for (let i = 0; i < 50; i++) {
    last = JSON.parse((await host.cli(['inbox', '--json', '--limit', '1'])).stdout || 'null');
    if (last !== null && arrived(last)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return last && { from: last.from, to: last.to, text: last.text, via: last.via };
}

describe('three netsend hosts on one LAN', { skip: netnsUnavailable() ?? false }, () => {
  let lan: TestLan;
  let hosts: DaemonProcess[] = [];
  let cleanup: () => Promise<void>;
  let capture: Awaited<ReturnType<typeof startCapture>> | undefined;

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    lan = TestLan.create(3);
    capture = await startCapture(lan.hosts[1]!.prefix, 'eth0', 'udp port 137 or udp port 138', join(temp.dir, 'lan.pcapng'));
    hosts = await Promise.all(
      lan.hosts.map((host, i) =>
        DaemonProcess.start(join(temp.dir, `host${i}`), ['--interfaces', 'eth0', '--terminal', 'no'], {
          prefix: host.prefix,
          env: { NETSEND_NETBIOS_NAME: `HOST${'ABC'[i]}` },
        }),
      ),
    );
  });
  after(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await capture?.stop('nbns || nbdgm').catch(() => undefined);
    lan?.destroy();
    await cleanup?.();
  });

  test('an alias is registered on the LAN, and a second host claiming it gets NERR_DuplicateName', async () => {
    const [a, b] = hosts as [DaemonProcess, DaemonProcess];
    assert.equal((await a.cli(['name', 'ALICE', '/add'])).code, 0);
    const claim = await b.cli(['name', 'alice', '/add']);
    assert.equal(claim.code, 1);
    assert.equal(claim.stderr.split('\n')[0], 'The name already exists on the network. (NERR_DuplicateName 2297)');
    assert.match(claim.stderr, /10\.77\.0\.1 holds ALICE<03>/);
    const namesB = JSON.parse((await b.cli(['name', '--json'])).stdout) as Array<{ name: string }>;
    assert.ok(!namesB.some((n) => n.name === 'ALICE'), 'the claimant did not get it');
    const namesA = JSON.parse((await a.cli(['name', '--json'])).stdout) as Array<{ name: string }>;
    assert.ok(namesA.some((n) => n.name === 'ALICE'), 'the holder keeps it');
  });

  test('a message to an alias on another host is resolved by broadcast and delivered', async () => {
    const [a, , c] = hosts as [DaemonProcess, DaemonProcess, DaemonProcess];
    const sent = await c.cli(['send', 'ALICE', '--from', 'CAROL', 'found', 'you', 'by', 'broadcast']);
    assert.equal(sent.code, 0, sent.stderr);
    const last = JSON.parse((await a.cli(['inbox', '--json', '--limit', '1'])).stdout);
    assert.deepEqual({ from: last.from, to: last.to, text: last.text, via: last.via }, { from: 'CAROL', to: 'ALICE', text: 'found you by broadcast', via: 'smb' });
    const missing = await c.cli(['send', 'NOBODY', 'hi', '--json']);
    assert.equal(JSON.parse(missing.stdout).status, 2273, 'a name nobody holds is not found');
  });

  test('a deleted alias is released: another host can then take it', async () => {
    const [a, b] = hosts as [DaemonProcess, DaemonProcess];
    assert.equal((await a.cli(['name', 'ALICE', '/delete'])).code, 0);
    const claim = await b.cli(['name', 'ALICE', '/add']);
    assert.equal(claim.code, 0, claim.stderr);
    const sent = await a.cli(['send', 'ALICE', 'now on host B']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match((await b.cli(['inbox'])).stdout, /now on host B/);
  });

  test('NET SEND * reaches every host of the workgroup by mailslot broadcast, the sender included', async () => {
    const [a, b, c] = hosts as [DaemonProcess, DaemonProcess, DaemonProcess];
    const sent = await a.cli(['send', '*', 'fire', 'drill', 'at', '3']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stdout, 'The message was successfully sent to all users of the workgroup.\n');
    for (const host of [a, b, c]) {
      assert.deepEqual(await newest(host, (m) => m.text === 'fire drill at 3'), { from: 'HOSTA', to: 'WORKGROUP', text: 'fire drill at 3', via: 'mailslot' });
    }
  });

  test('/DOMAIN:NAME reaches only that workgroup, and broadcasts over 128 characters are refused, not cut', async () => {
    const [a, b] = hosts as [DaemonProcess, DaemonProcess];
    const before = (await b.cli(['inbox', '--json'])).stdout;
    assert.equal((await a.cli(['send', '/domain:ELSEWHERE', 'not for you'])).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await b.cli(['inbox', '--json'])).stdout, before);
    const long = await a.cli(['send', '*', 'x'.repeat(129), '--json']);
    assert.equal(long.code, 1);
    assert.match(JSON.parse(long.stdout).message, /limited to 128 characters; this one has 129/);
  });

  test('a received broadcast longer than NET SEND\'s 128 characters is tolerated and stored whole', async () => {
    const [a] = hosts as [DaemonProcess];
    const text = 'long broadcast '.repeat(20).trim();
    const mailslot = fileURLToPath(new URL('../../src/protocols/mailslot/index.js', import.meta.url));
    const script = `const m = await import(${JSON.stringify(mailslot)});
      const data = m.encodeMessengerPayload({ from: Buffer.from('BOB'), to: Buffer.from('WORKGROUP'), text: Buffer.from(${JSON.stringify(text)}) });
      const datagram = m.encodeDatagram({ type: 'directGroup', id: 7, nodeType: 0, first: true, more: false, sourceIp: '10.77.0.2', sourcePort: 138, offset: 0,
        source: { name: 'HOSTB', suffix: 0, scope: '' }, destination: { name: 'WORKGROUP', suffix: 3, scope: '' },
        userData: m.encodeMailslotWrite({ mailslot: m.MESSENGER_MAILSLOT, priority: 1, mailslotClass: 2, data }) });
      const s = (await import('node:dgram')).createSocket('udp4');
      s.bind(0, '10.77.0.2', () => s.send(datagram, 138, '10.77.0.1', () => s.close()));`;
    const sender = spawnSync(lan.hosts[1]!.prefix[0] as string, [...lan.hosts[1]!.prefix.slice(1), process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(sender.status, 0, sender.stderr);
    assert.ok(text.length > 128);
    assert.deepEqual(await newest(a, (m) => m.text === text), { from: 'BOB', to: 'WORKGROUP', text, via: 'mailslot' });
  });

  test('a \\MAILSLOT\\MESSNGR datagram built by Samba\'s NDR encoder is delivered to the alias it names', async () => {
    const [a] = hosts as [DaemonProcess];
    assert.equal((await a.cli(['name', 'TESTA', '/add'])).code, 0);
    const fixtures = JSON.parse(readFileSync(new URL('../../../test/fixtures/mailslot/samba-ndr.json', import.meta.url), 'utf8')) as Array<{ hex: string; type: string }>;
    const datagram = fixtures.find((f) => f.type === 'directUnique')?.hex as string;
    const script = `const s=require('dgram').createSocket('udp4');s.bind(0,'10.77.0.2',()=>s.send(Buffer.from('${datagram}','hex'),138,'10.77.0.1',()=>s.close()))`;
    const sender = spawnSync(lan.hosts[1]!.prefix[0] as string, [...lan.hosts[1]!.prefix.slice(1), process.execPath, '-e', script]);
    assert.equal(sender.status, 0);
    assert.deepEqual(await newest(a, (m) => m.to === 'TESTA'), { from: 'BOB', to: 'TESTA', text: 'café à midi', via: 'mailslot' });
  });

  test('NET SEND /USERS reaches every name with a session on this server, at its host', async () => {
    const [a, b] = hosts as [DaemonProcess, DaemonProcess];
    assert.equal((await b.cli(['name', 'CAROL', '/add'])).code, 0);
    const none = await a.cli(['send', '/users', 'anyone?', '--json']);
    assert.equal(JSON.parse(none.stdout).status, 2273, 'nobody has a session yet');
    // CAROL on host B holds a NetBIOS session open to host A, as a connected user would.
    const nbss = fileURLToPath(new URL('../../src/protocols/nbss/index.js', import.meta.url));
    const script = `const { encodeNbssPacket } = await import(${JSON.stringify(nbss)});
      const s = (await import('node:net')).connect(139, '10.77.0.1', () => s.write(encodeNbssPacket({ type: 'sessionRequest',
        called: { name: 'HOSTA', suffix: 3, scope: '' }, calling: { name: 'CAROL', suffix: 0, scope: '' } })));
      s.on('data', (d) => { if (d[0] === 0x82) console.log('ready'); });
      setTimeout(() => process.exit(0), 8000);`;
    const holder = spawn(lan.hosts[1]!.prefix[0] as string, [...lan.hosts[1]!.prefix.slice(1), process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        holder.on('exit', () => reject(new Error('the session holder exited')));
      });
      const sent = await a.cli(['send', '/users', 'hello', 'users']);
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(sent.stdout, 'The message was successfully sent to 1 user(s) with a session on this server.\n');
      assert.deepEqual(await newest(b, (m) => m.to === 'CAROL'), { from: 'HOSTA', to: 'CAROL', text: 'hello users', via: 'smb' });
    } finally {
      holder.kill();
    }
  });

  test('the same user on three hosts: at most one holds the user name on the LAN, the others say so', () => {
    const user = userInfo().username.toUpperCase();
    const refusals = hosts.filter((h) => new RegExp(`name service: .*10\\.77\\.0\\.\\d holds ${user}<03>`).test(h.stderr));
    assert.ok(refusals.length >= 2, hosts.map((h) => h.stderr).join('\n'));
  });

  test('tshark reads every name service packet and datagram of these exchanges with no malformed field; a stopped host released its names', async () => {
    const stopped = hosts[2] as DaemonProcess;
    assert.equal((await stopped.stop('SIGTERM')).code, 0);
    const report = await capture!.stop('nbns || nbdgm');
    capture = undefined;
    assert.ok(report.count('nbns.flags.opcode == 6 && ip.src == 10.77.0.3') >= 3, 'host C released its computer name <00> <03> <20> (and more) on the way out');
    assert.ok(report.count('nbns.flags.opcode == 5') > 0, 'registrations were captured');
    assert.ok(report.count('nbns.flags.response == 1') > 0, 'name service answers were captured');
    assert.ok(report.count('mailslot.name == "\\\\MAILSLOT\\\\MESSNGR"') > 0, 'MESSNGR datagrams were captured');
    assert.deepEqual(report.bad, []);
  });
});
