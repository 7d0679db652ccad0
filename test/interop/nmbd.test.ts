/**
 * netsend beside Samba's nmbd and smbd on a private LAN of namespaces: names registered by one
 * are resolved and defended by the other, and a message crosses from netsend to smbd by name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestLan } from '../helpers/bridge.js';
import { DaemonProcess, tempDataDir } from '../helpers/daemon.js';
import { netnsUnavailable, waitUntil } from '../helpers/netns.js';
import { SambaHost, clientStateLines, sambaUnavailable } from '../helpers/samba.js';

const skip = netnsUnavailable() ?? sambaUnavailable() ?? (spawnSync('which', ['nmbd']).status === 0 ? null : 'nmbd is not installed');

describe('netsend and Samba nmbd on one LAN', { skip: skip ?? false }, () => {
  let lan: TestLan;
  let netsend: DaemonProcess;
  let samba: SambaHost;
  let cleanup: () => Promise<void>;
  let clientConf: string;

  const nmblookup = (...args: string[]) =>
    spawnSync(lan.hosts[2]!.prefix[0] as string, [...lan.hosts[2]!.prefix.slice(1), 'nmblookup', '-s', clientConf, ...args], { encoding: 'utf8', timeout: 15_000 });

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    lan = TestLan.create(3);
    clientConf = join(temp.dir, 'client.conf');
    await writeFile(clientConf, `[global]\n  netbios name = LOOKER\n  interfaces = eth0\n  name resolve order = bcast\n${clientStateLines(join(temp.dir, 'client-state'))}`);
    netsend = await DaemonProcess.start(join(temp.dir, 'netsend'), ['--interfaces', 'eth0', '--terminal', 'no'], { prefix: lan.hosts[0]!.prefix, env: { NETSEND_NETBIOS_NAME: 'NSHOST' } });
    // netsend holds ALICE<03> before Samba, whose `netbios aliases = ALICE` will try to claim it.
    assert.equal((await netsend.cli(['name', 'ALICE', '/add'])).code, 0);
    samba = await SambaHost.start(join(temp.dir, 'samba'), lan.hosts[1]!.prefix, { netbiosName: 'SAMBAHOST', aliases: ['ALICE'] });
    await waitUntil(() => nmblookup('-B', lan.broadcast, 'SAMBAHOST#03').status === 0, 30_000, 'nmbd to register SAMBAHOST<03>');
  });
  after(async () => {
    await netsend?.stop();
    await samba?.stop();
    lan?.destroy();
    await cleanup?.();
  });

  test('netsend resolves a name nmbd registered, by broadcast, and smbd receives the message', async () => {
    const sent = await netsend.cli(['send', 'SAMBAHOST', '--from', 'NSUSER', 'hello samba, found you by name']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitUntil(() => spawnSync('sh', ['-c', `ls ${samba.inbox}/*.txt 2>/dev/null | wc -l`]).stdout.toString().trim() !== '0', 10_000, 'smbd to deliver');
    assert.deepEqual((await samba.messages()).at(-1), { from: 'NSUSER', text: 'hello samba, found you by name' });
  });

  test('nmbd defends its names: netsend cannot add SAMBAHOST as an alias (NERR_DuplicateName)', async () => {
    const claim = await netsend.cli(['name', 'SAMBAHOST', '/add', '--json']);
    assert.equal(claim.code, 1);
    assert.equal(JSON.parse(claim.stdout).status, 2297);
  });

  test('netsend defends its alias: ALICE<03> is answered by netsend alone, though nmbd tried to claim it', () => {
    const lookup = nmblookup('-B', lan.broadcast, 'ALICE#03');
    assert.equal(lookup.status, 0, lookup.stdout + lookup.stderr);
    const answers = lookup.stdout.split('\n').filter((line) => /ALICE<03>/.test(line));
    assert.ok(answers.length >= 1);
    for (const line of answers) assert.match(line, /^10\.77\.0\.1 ALICE<03>/);
    assert.match(netsend.stderr, /defended ALICE<03> against a registration/);
  });
});

describe('nmbd as the WINS server of netsend hosts', { skip: skip ?? false }, () => {
  let lan: TestLan;
  let a: DaemonProcess;
  let c: DaemonProcess;
  let wins: SambaHost;
  let cleanup: () => Promise<void>;
  let clientConf: string;

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    lan = TestLan.create(3);
    clientConf = join(temp.dir, 'client.conf');
    await writeFile(clientConf, `[global]\n  netbios name = LOOKER\n  interfaces = eth0\n${clientStateLines(join(temp.dir, 'client-state'))}`);
    wins = await SambaHost.start(join(temp.dir, 'samba'), lan.hosts[1]!.prefix, { netbiosName: 'WINSSRV', winsSupport: true });
    await waitUntil(() => lan.udpBound(lan.hosts[1]!, '10.77.0.2', 137), 15_000, 'nmbd to listen');
    const options = (i: number) => ({ prefix: lan.hosts[i]!.prefix, env: { NETSEND_NETBIOS_NAME: `NSHOST${i}` } });
    a = await DaemonProcess.start(join(temp.dir, 'a'), ['--interfaces', 'eth0', '--terminal', 'no', '--wins-server', '10.77.0.2'], options(0));
    c = await DaemonProcess.start(join(temp.dir, 'c'), ['--interfaces', 'eth0', '--terminal', 'no', '--wins-server', '10.77.0.2', '--name-resolve-order', 'wins'], options(2));
  });
  after(async () => {
    await a?.stop();
    await c?.stop();
    await wins?.stop();
    lan?.destroy();
    await cleanup?.();
  });

  test('an alias added on a netsend host is registered with the WINS server', async () => {
    assert.equal((await a.cli(['name', 'WINSALIAS', '/add'])).code, 0);
    const lookup = spawnSync(lan.hosts[2]!.prefix[0] as string, [...lan.hosts[2]!.prefix.slice(1), 'nmblookup', '-s', clientConf, '-U', '10.77.0.2', '--recursion', 'WINSALIAS#03'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(lookup.status, 0, lookup.stdout + lookup.stderr);
    assert.match(lookup.stdout, /10\.77\.0\.1 WINSALIAS<03>/);
  });

  test('a host resolving through WINS only finds the alias and delivers the message', async () => {
    const sent = await c.cli(['send', 'WINSALIAS', '--from', 'CAROL', 'via wins']);
    assert.equal(sent.code, 0, sent.stderr);
    const [last] = (await a.cli(['inbox', '--json', '--limit', '1'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual({ from: last.from, to: last.to, text: last.text }, { from: 'CAROL', to: 'WINSALIAS', text: 'via wins' });
  });

  test('the WINS server refuses the alias to a second host while its owner still answers (NERR_DuplicateName)', async () => {
    const claim = await c.cli(['name', 'WINSALIAS', '/add', '--json']);
    assert.equal(claim.code, 1);
    assert.equal(JSON.parse(claim.stdout).status, 2297);
  });
});
