/**
 * Three netsend hosts on a private LAN of network namespaces (10.77.0.0/24, nowhere else):
 * aliases registered and defended by broadcast, names resolved by broadcast, messages sent over
 * the session service. No lmhosts, no --host: the way NET SEND works on a LAN.
 */
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestLan } from '../helpers/bridge.js';
import { DaemonProcess, tempDataDir } from '../helpers/daemon.js';
import { netnsUnavailable } from '../helpers/netns.js';

describe('three netsend hosts on one LAN', { skip: netnsUnavailable() ?? false }, () => {
  let lan: TestLan;
  let hosts: DaemonProcess[] = [];
  let cleanup: () => Promise<void>;

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    lan = TestLan.create(3);
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

  test('the same user on three hosts: at most one holds the user name on the LAN, the others say so', () => {
    const user = userInfo().username.toUpperCase();
    const refusals = hosts.filter((h) => new RegExp(`name service: .*10\\.77\\.0\\.\\d holds ${user}<03>`).test(h.stderr));
    assert.ok(refusals.length >= 2, hosts.map((h) => h.stderr).join('\n'));
  });
});
