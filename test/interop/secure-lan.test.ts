/**
 * netsend to netsend on a private LAN of network namespaces (10.77.0.0/24): names found by
 * broadcast, messages over the secure channel, signed by the sending host and shown verified;
 * legacy peers still reached over SMB; legacy input and per-alias rules on the receiving side.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestLan } from '../helpers/bridge.js';
import { DaemonProcess, tempDataDir } from '../helpers/daemon.js';
import { netnsUnavailable } from '../helpers/netns.js';

interface Received {
  from: string;
  to: string;
  title?: string;
  text: string;
  via: string;
  verified: boolean;
  senderUser?: string;
  senderHost?: string;
}

/** The newest message of a host's inbox. */
async function newest(host: DaemonProcess): Promise<Received | null> {
  return JSON.parse((await host.cli(['inbox', '--json', '--limit', '1'])).stdout || 'null') as Received | null;
}

describe('netsend hosts message each other over the secure channel', { skip: netnsUnavailable() ?? false }, () => {
  let lan: TestLan;
  let hosts: DaemonProcess[] = [];
  let dirs: string[] = [];
  let cleanup: () => Promise<void>;
  const start = (i: number, extra: string[] = []) =>
    DaemonProcess.start(dirs[i] as string, ['--interfaces', 'eth0', '--terminal', 'no', '--desktop-notifications', 'no', ...extra], {
      prefix: lan.hosts[i]!.prefix,
      env: { NETSEND_NETBIOS_NAME: `HOST${'ABC'[i]}`, NETSEND_SECURE_PORT: '4139' },
    });

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    dirs = [0, 1, 2].map((i) => join(temp.dir, `host${i}`));
    lan = TestLan.create(3);
    // A and B run the secure channel; C is a legacy peer (SMB only), and so are its messages.
    hosts = await Promise.all([start(0), start(1), start(2, ['--secure-port', '0'])]);
    assert.equal((await hosts[1]!.cli(['name', 'ALICE', '/add'])).code, 0);
    assert.equal((await hosts[2]!.cli(['name', 'CAROL', '/add'])).code, 0);
  });
  after(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    lan?.destroy();
    await cleanup?.();
  });

  test('a message to a netsend host goes over the secure channel and is shown verified, with the sending host and user, and its title', async () => {
    const [a, b] = hosts as [DaemonProcess, DaemonProcess];
    const sent = await a.cli(['send', 'ALICE', '--from', 'BOB', '--title', 'Signed — Grüße', 'signed', 'and', 'sealed', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(JSON.parse(sent.stdout).secure, true);
    const hostKeyA = (await a.cli(['host', 'key'])).stdout.trim().split(' ')[1];
    const last = await newest(b);
    assert.deepEqual(last, {
      ...last,
      from: 'BOB',
      to: 'ALICE',
      title: 'Signed — Grüße',
      text: 'signed and sealed',
      via: 'netsend',
      verified: true,
      senderHost: `HOSTA ${hostKeyA}`,
      senderUser: 'root',
    });
    assert.match(a.stderr, /pinned the host key of 10\.77\.0\.2:4139: SHA256:/);
    const shown = (await b.cli(['inbox', '--limit', '1'])).stdout;
    assert.match(shown, /\(verified: sent by root on HOSTA, host key SHA256:\S+\)\n/);
  });

  test("the sender's --wait hears of an acknowledgement on the recipient's host, over the secure channel", async () => {
    const [a, b] = hosts as [DaemonProcess, DaemonProcess];
    const waiting = a.cli(['send', 'ALICE', 'ack me from afar', '--wait', '--time', '20']);
    let id: number | undefined;
    for (let i = 0; i < 100 && id === undefined; i++) {
      const last = await newest(b);
      if (last?.text === 'ack me from afar') id = (last as Received & { id: number }).id;
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(id !== undefined, 'the message arrived on host B');
    assert.equal((await b.cli(['ack', String(id)])).code, 0);
    const result = await waiting;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Acknowledged by root on cli at \d+\/\d+\/\d{4} \d+:\d\d:\d\d [AP]M\./);
  });

  test('between netsend hosts the text is not bound by the legacy wire: full Unicode, longer than 1,600 bytes', async () => {
    const [a, b] = hosts as [DaemonProcess, DaemonProcess];
    const text = `🚀 ${'Ünïcødé ✓ 中文 '.repeat(200)}`;
    const sent = await a.cli(['send', 'ALICE'], { input: text });
    assert.equal(sent.code, 0, sent.stderr);
    assert.doesNotMatch(sent.stderr, /closest letter/, 'nothing was replaced');
    assert.equal((await newest(b))?.text, text);
  });

  test('a host without the secure channel is reached over SMB (a title becomes the first line), and its messages are marked unverified', async () => {
    const [a, , c] = hosts as [DaemonProcess, DaemonProcess, DaemonProcess];
    const sent = await a.cli(['send', 'CAROL', '--title', 'Old', 'plain', 'old', 'wire', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(JSON.parse(sent.stdout).secure, undefined);
    const last = await newest(c);
    // the legacy wire has no title: it arrives as the text's first line
    assert.deepEqual({ title: last?.title, text: last?.text, via: last?.via, verified: last?.verified }, { title: undefined, text: 'Old\nplain old wire', via: 'smb', verified: false });
    assert.match((await c.cli(['inbox', '--limit', '1'])).stdout, /\(unverified: came over the legacy SMB wire/);
  });

  test("an alias's rules apply to verified senders: host:HOSTA denied is refused with status 5, and audited", async () => {
    const [a, b] = hosts as [DaemonProcess, DaemonProcess];
    assert.equal((await b.cli(['name', 'ALICE', '--deny', 'host:HOSTA'])).code, 0);
    const refused = await a.cli(['send', 'ALICE', 'let me in']);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /ALICE refuses messages matching host:HOSTA/);
    const audit = (await b.cli(['audit', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(audit.some((r) => r.event === 'refused-message' && /^BOB|HOSTA|on HOSTA/.test(r.principal) && /via netsend/.test(r.detail)));
    assert.equal((await b.cli(['name', 'ALICE', '--clear-policy'])).code, 0);
    assert.equal((await a.cli(['send', 'ALICE', 'welcome back'])).code, 0);
  });

  test('legacy input = none on an alias refuses SMB messages (status 5) while verified ones still arrive', async () => {
    const [a, b, c] = hosts as [DaemonProcess, DaemonProcess, DaemonProcess];
    assert.equal((await b.cli(['name', 'ALICE', '--legacy', 'none'])).code, 0);
    const legacy = await c.cli(['send', 'ALICE', 'from the legacy wire']);
    assert.equal(legacy.code, 5, legacy.stderr);
    assert.match(legacy.stderr, /\(ERROR_ACCESS_DENIED 5\)/);
    assert.equal((await a.cli(['send', 'ALICE', 'verified still welcome'])).code, 0);
    assert.equal((await newest(b))?.text, 'verified still welcome');
    assert.equal((await b.cli(['name', 'ALICE', '--clear-policy'])).code, 0);
    assert.equal((await c.cli(['send', 'ALICE', 'legacy welcome again'])).code, 0);
    assert.deepEqual({ text: (await newest(b))?.text, via: (await newest(b))?.via }, { text: 'legacy welcome again', via: 'smb' });
  });

  test('a pinned netsend host whose secure port stops answering is not downgraded to the legacy wire', async () => {
    const [a] = hosts as [DaemonProcess];
    await hosts[1]!.stop();
    hosts[1] = await start(1, ['--secure-port', '0']);
    const sent = await a.cli(['send', 'ALICE', 'downgrade?']);
    assert.equal(sent.code, 1);
    assert.match(sent.stderr, /\(NERR_NetworkError 2136\)/);
    assert.match(sent.stderr, /known netsend host; not falling back to the unauthenticated wire/);
    assert.notEqual((await newest(hosts[1]!))?.text, 'downgrade?');
  });
});
