/**
 * The legacy wire against the real peers: Samba's `smbclient -M` sending to netsend, netsend
 * sending to Samba's `smbd`, and tshark reading every packet. Port 139 runs inside a
 * loopback-only network namespace each test creates, so nothing touches a real interface.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DaemonProcess, freePort, run, runCommand, NETSEND_BIN, tempDataDir } from '../helpers/daemon.js';
import { LoopbackNamespace, netnsUnavailable, waitUntil } from '../helpers/netns.js';
import { SmbdPeer, clientStateLines, sambaUnavailable } from '../helpers/samba.js';
import { startCapture } from '../helpers/capture.js';

const skip = netnsUnavailable() ?? sambaUnavailable();

/** A client config that never resolves by broadcast (smbclient goes where -I says), with its own state. */
const clientConf = (dir: string) => `[global]
   name resolve order = lmhosts host
   netbios name = SENDERHOST
   workgroup = TESTGRP
   log level = 1
${clientStateLines(join(dir, 'client-state'))}`;

/** `smbclient -M NAME -I 127.0.0.1 [-p PORT] -U sender -N` with `text` on stdin, bounded. */
function smbclient(conf: string, name: string, text: string | Buffer, options: { port?: number; prefix?: string[]; user?: string } = {}) {
  return runCommand(
    [
      ...(options.prefix ?? []),
      'smbclient', '-s', conf, '-M', name, '-I', '127.0.0.1', ...(options.port ? ['-p', String(options.port)] : []),
      '-U', options.user ?? 'alice', '-N', '-t', '5',
    ],
    { input: text },
  );
}


async function lastMessage(daemon: DaemonProcess): Promise<{ from: string; to: string; text: string; via: string }> {
  const lines = (await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout.trim();
  assert.notEqual(lines, '', 'the inbox is empty');
  return JSON.parse(lines);
}

describe('smbclient -M sends to netsend (direct TCP on a loopback port)', { skip: skip ?? false }, () => {
  let daemon: DaemonProcess;
  let port: number;
  let dir: string;
  let cleanup: () => Promise<void>;
  let conf: string;

  before(async () => {
    ({ dir, cleanup } = await tempDataDir());
    conf = join(dir, 'client.conf');
    await writeFile(conf, clientConf(dir));
    port = await freePort();
    daemon = await DaemonProcess.start(dir, ['--smb-ports', String(port), '--terminal', 'no']);
    assert.equal((await daemon.cli(['name', 'ALICE', '/add'])).code, 0);
  });
  after(async () => {
    await daemon.stop();
    await cleanup();
  });

  test('a short message lands in the inbox with its sender, recipient and text', async () => {
    const result = await smbclient(conf, 'alice', 'hello from samba\n', { port, user: 'bob' });
    assert.equal(result.stderr, '', 'smbclient reports no error');
    const { from, to, text, via } = await lastMessage(daemon);
    assert.deepEqual({ from, to, text, via }, { from: 'BOB', to: 'ALICE', text: 'hello from samba\n', via: 'smb' });
  });

  test('CP850 text is decoded, and smbclient\'s raw UTF-8 fallback (for € ) too', async () => {
    let result = await smbclient(conf, 'ALICE', 'café à la crème', { port });
    assert.equal(result.stderr, '');
    assert.equal((await lastMessage(daemon)).text, 'café à la crème');
    result = await smbclient(conf, 'ALICE', 'costs 5 € only', { port });
    assert.equal(result.stderr, '');
    assert.equal((await lastMessage(daemon)).text, 'costs 5 € only');
  });

  test('a long text (more than 1,600 bytes of input) arrives as smbclient sent it, in many blocks', async () => {
    const input = Array.from({ length: 80 }, (_, i) => `line ${String(i).padStart(2, '0')} of a long message`).join('\n');
    assert.ok(Buffer.byteLength(input) > 1600);
    const result = await smbclient(conf, 'ALICE', input, { port });
    assert.equal(result.stderr, '');
    const { text } = await lastMessage(daemon);
    // smbclient cuts its input at 1,598 bytes after LF→CRLF (its buffer); we store all it sent.
    assert.ok(text.length > 1400, `only ${text.length} characters arrived`);
    assert.ok(input.startsWith(text), 'the stored text is the start of the input, unchanged');
  });

  test('a message to a name netsend does not hold is refused, and smbclient says so', async () => {
    const before = (await daemon.cli(['inbox', '--json'])).stdout;
    const result = await smbclient(conf, 'NOBODY', 'hi', { port });
    assert.match(result.stderr, /cli_message returned NT_STATUS_/);
    assert.equal((await daemon.cli(['inbox', '--json'])).stdout, before, 'nothing was stored');
  });
});

describe('the NetBIOS session service on port 139, in a private namespace', { skip: skip ?? false }, () => {
  let ns: LoopbackNamespace;
  let daemon: DaemonProcess;
  let smbd: SmbdPeer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let conf: string;
  let capture: Awaited<ReturnType<typeof startCapture>>;

  before(async () => {
    ({ dir, cleanup } = await tempDataDir());
    conf = join(dir, 'client.conf');
    await writeFile(conf, clientConf(dir));
    ns = LoopbackNamespace.create();
    capture = await startCapture(ns.prefix, 'lo', 'tcp port 139 or tcp port 1139', join(dir, 'capture.pcapng'));
    daemon = await DaemonProcess.start(join(dir, 'netsend'), ['--smb-ports', '1139', '--terminal', 'no'], { prefix: ns.prefix });
    assert.equal((await daemon.cli(['name', 'CAROL', '/add'])).code, 0);
    smbd = await SmbdPeer.start(join(dir, 'samba'), ns);
  });
  /** The first message smbd delivered that `wanted` accepts, waiting (bounded: 20 s) for it. */
  const delivered = async (wanted: (m: { from: string; text: string }) => boolean) => {
    let found: { from: string; text: string } | undefined;
    await waitUntil(() => spawnSync('sh', ['-c', `ls ${smbd.inbox}`]).stdout.toString().includes('.txt'), 20_000, 'smbd to deliver');
    for (let i = 0; i < 200 && found === undefined; i++) {
      found = (await smbd.messages()).find(wanted);
      if (found === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return found;
  };

  after(async () => {
    await daemon?.stop();
    await smbd?.stop();
    await capture?.stop('nbss').catch(() => undefined);
    ns?.destroy();
    await cleanup();
  });

  test('netsend sends a short (single-block) message to smbd', async () => {
    const result = await daemon.cli(['send', 'ORACLE', '--host', '127.0.0.1', '--from', 'NSUSER', 'short hello to samba']);
    assert.equal(result.code, 0, `${result.stderr}\ndaemon:\n${daemon.stderr}`);
    assert.deepEqual(await delivered((m) => m.text === 'short hello to samba'), { from: 'NSUSER', text: 'short hello to samba' });
  });

  test('netsend sends a long multi-block message with non-ASCII text to smbd, found through lmhosts', async () => {
    await writeFile(join(dir, 'netsend', 'lmhosts'), '# test table\n127.0.0.1   ORACLE   #PRE\n');
    const text = `Grüße aus netsend: ${'multi-block text, '.repeat(40)}end`;
    const result = await daemon.cli(['send', 'oracle', '--from', 'NSUSER', text]);
    assert.equal(result.code, 0, `${result.stderr}\ndaemon:\n${daemon.stderr}`);
    assert.deepEqual(await delivered((m) => m.text === text), { from: 'NSUSER', text }, 'smbd received the whole text, intact');
  });

  test('characters CP850 lacks are sent as their closest letter or "?", and the CLI says so', async () => {
    const result = await daemon.cli(['send', 'ORACLE', '--host', '127.0.0.1', '--from', 'NSUSER', 'Māori costs 5 €']);
    assert.equal(result.code, 0, `${result.stderr}\ndaemon:\n${daemon.stderr}`);
    assert.match(result.stderr, /some characters have no equivalent in CP850/);
    assert.deepEqual(await delivered((m) => m.text === 'Maori costs 5 ?'), { from: 'NSUSER', text: 'Maori costs 5 ?' });
  });

  test('a text past the legacy 1,600 bytes is refused with a clear error, never cut', async () => {
    const result = await daemon.cli(['send', 'ORACLE', '--host', '127.0.0.1', 'x'.repeat(1700), '--json']);
    assert.equal(result.code, 1, `${result.stdout}${result.stderr}\ndaemon:\n${daemon.stderr}`);
    const body = JSON.parse(result.stdout);
    assert.equal(body.status, 87);
    assert.match(body.message, /1700 bytes in CP850; the legacy message service carries at most 1600/);
  });

  test('smbclient -M to netsend on port 139 goes through a session request to ALIAS<03>', async () => {
    // smbd holds 127.0.0.1:139 here; a second netsend listens on 139 of its own namespace.
    const ns2 = LoopbackNamespace.create();
    const { dir: dir2, cleanup: cleanup2 } = await tempDataDir();
    const receiver = await DaemonProcess.start(dir2, ['--smb-ports', '139', '--terminal', 'no'], { prefix: ns2.prefix });
    try {
      assert.equal((await receiver.cli(['name', 'DAVE', '/add'])).code, 0);
      const ok = await smbclient(conf, 'dave', 'via the session service', { prefix: ns2.prefix });
      assert.equal(ok.stderr, '');
      assert.deepEqual((({ from, to, text }) => ({ from, to, text }))(await lastMessage(receiver)), { from: 'ALICE', to: 'DAVE', text: 'via the session service' });
      const refused = await smbclient(conf, 'NOBODY', 'hi', { prefix: ns2.prefix });
      assert.match(refused.stdout + refused.stderr, /Connection to NOBODY failed/);
    } finally {
      await receiver.stop();
      ns2.destroy();
      await cleanup2();
    }
  });

  test('send failures map to NET_API_STATUS: refused connection 2136, name not there 2273', async () => {
    const refused = await daemon.cli(['send', 'ORACLE', '--host', '127.0.0.1:9', 'hi', '--json']);
    assert.equal(refused.code, 1);
    assert.equal(JSON.parse(refused.stdout).status, 2136);
    // netsend's own listener on 1139 answers "called name not present" for a name it does not hold
    const missing = await daemon.cli(['send', 'NOBODY', '--host', '127.0.0.1:1139', 'hi', '--json']);
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stdout).status, 2273);
    const unresolved = await daemon.cli(['send', 'UNKNOWNHOST', 'hi', '--json']);
    assert.equal(JSON.parse(unresolved.stdout).status, 2273);
  });

  test('netsend to netsend over the wire: the text arrives via smb', async () => {
    const result = await run(NETSEND_BIN, ['send', 'CAROL', '--host', '127.0.0.1:1139', '--from', 'EVE', 'loop', 'through', 'smb', '--data-dir', daemon.dataDir]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((({ from, to, text, via }) => ({ from, to, text, via }))(await lastMessage(daemon)), { from: 'EVE', to: 'CAROL', text: 'loop through smb', via: 'smb' });
  });

  test('tshark dissects every packet of these exchanges with no malformed field', async () => {
    // Wireshark 4.0 flags every SEND_TEXT_MB request (it reads the group id as the byte count).
    const report = await capture.stop('nbss', { exclude: 'smb.cmd == 0xd7 && smb.flags.response == 0', tsharkArgs: ['-d', 'tcp.port==1139,nbss'] });
    assert.ok(report.packets > 0, 'packets were captured');
    assert.deepEqual(report.bad, []);
  });
});
