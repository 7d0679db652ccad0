/**
 * The name service on a private LAN made of network namespaces (10.77.0.0/24, nowhere else):
 * Samba's nmblookup and smbclient on one host find and message a netsend daemon on another,
 * by broadcast, as `net send ALICE hi` does on a real LAN with no configuration.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NBNS_OPCODE, NBNS_RCODE, RR_TYPE, decodeNbnsPacket, encodeNbnsPacket } from '../../src/protocols/nbns/index.js';
import { TestLan } from '../helpers/bridge.js';
import { DaemonProcess, runCommand, tempDataDir } from '../helpers/daemon.js';
import { netnsUnavailable, waitUntil } from '../helpers/netns.js';
import { clientStateLines, sambaUnavailable } from '../helpers/samba.js';
import { startCapture } from '../helpers/capture.js';

const skip = netnsUnavailable() ?? sambaUnavailable();

const run = (prefix: readonly string[], argv: string[], input = '') => runCommand([...prefix, ...argv], { input });

describe('the name service on a private LAN of namespaces', { skip: skip ?? false }, () => {
  let lan: TestLan;
  let daemon: DaemonProcess;
  let cleanup: () => Promise<void>;
  let dir: string;
  let clientConf: string;
  let capture: Awaited<ReturnType<typeof startCapture>> | undefined;

  before(async () => {
    ({ dir, cleanup } = await tempDataDir());
    lan = TestLan.create(2);
    const [server, client] = lan.hosts as [(typeof lan.hosts)[0], (typeof lan.hosts)[0]];
    clientConf = join(dir, 'client.conf');
    await writeFile(clientConf, `[global]\n  netbios name = CLIENTHOST\n  workgroup = TESTGRP\n  interfaces = eth0\n  name resolve order = bcast\n  log level = 1\n${clientStateLines(join(dir, 'client-state'))}`);
    capture = await startCapture(client.prefix, 'eth0', 'udp port 137', join(dir, 'nbns.pcapng'));
    daemon = await DaemonProcess.start(join(dir, 'netsend'), ['--interfaces', 'eth0', '--terminal', 'no', '--workgroup', 'TESTGRP'], {
      prefix: server.prefix,
      env: { NETSEND_NETBIOS_NAME: 'NSHOST' },
    });
    await daemon.waitFor(() => daemon.stderr.includes('answering NetBIOS name queries on'), 5000, 'the name service');
    assert.equal((await daemon.cli(['name', 'ALICE', '/add'])).code, 0);
    // A fresh LAN: wait (bounded) until the responder is reachable from the client host, as the
    // nmbd suite waits for nmbd, so the tests below measure answers, not the LAN coming up.
    await waitUntil(() => spawnSync(client.prefix[0] as string, [...client.prefix.slice(1), 'nmblookup', '-s', clientConf, '-U', server.address, 'NSHOST#20']).status === 0, 20_000, 'the name service to answer');
  });
  after(async () => {
    await daemon?.stop();
    await capture?.stop('nbns').catch(() => undefined);
    lan?.destroy();
    await cleanup?.();
  });

  test('nmblookup finds an alias by broadcast, and is told "no" for a name nobody holds', async () => {
    const client = lan.hosts[1]!;
    const found = await run(client.prefix, ['nmblookup', '-s', clientConf, '-B', lan.broadcast, 'ALICE#03']);
    assert.equal(found.code, 0, `${found.stdout}${found.stderr}\ndaemon:\n${daemon.stderr}`);
    assert.match(found.stdout, /10\.77\.0\.1 ALICE<03>/);
    const unicast = await run(client.prefix, ['nmblookup', '-s', clientConf, '-U', '10.77.0.1', 'NSHOST#20']);
    assert.match(unicast.stdout, /10\.77\.0\.1 NSHOST<20>/);
    const missing = await run(client.prefix, ['nmblookup', '-s', clientConf, '-U', '10.77.0.1', 'NOBODY#03']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stdout, /name_query failed to find name NOBODY#03/);
  });

  test('nmblookup -A lists the node\'s names: computer name, aliases, workgroup', async () => {
    const status = await run(lan.hosts[1]!.prefix, ['nmblookup', '-s', clientConf, '-A', '10.77.0.1']);
    assert.equal(status.code, 0, `${status.stdout}${status.stderr}\ndaemon:\n${daemon.stderr}`);
    for (const line of [/NSHOST\s+<00> -\s+B <ACTIVE>/, /NSHOST\s+<03> -\s+B <ACTIVE>/, /NSHOST\s+<20> -\s+B <ACTIVE>/, /ALICE\s+<03> -\s+B <ACTIVE>/, /TESTGRP\s+<00> - <GROUP> B <ACTIVE>/]) {
      assert.match(status.stdout, line);
    }
  });

  test('smbclient -M ALICE finds the host by broadcast and delivers: the real NET SEND path', async () => {
    const sent = await run(lan.hosts[1]!.prefix, ['smbclient', '-s', clientConf, '-M', 'ALICE', '-U', 'carol', '-N', '-t', '5'], 'hello across the lan\n');
    assert.equal(sent.stderr, '', sent.stdout);
    const [message] = (await daemon.cli(['inbox', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual({ from: message.from, to: message.to, text: message.text, via: message.via }, { from: 'CAROL', to: 'ALICE', text: 'hello across the lan\n', via: 'smb' });
  });

  test('a host that registers a name netsend holds is refused with ACT_ERR (6)', async () => {
    const request = encodeNbnsPacket({
      id: 0x4242, response: false, opcode: NBNS_OPCODE.registration,
      flags: { authoritative: false, truncated: false, recursionDesired: true, recursionAvailable: false, broadcast: true },
      rcode: 0,
      questions: [{ name: { name: 'ALICE', suffix: 0x03, scope: '' }, type: RR_TYPE.NB, class: 1 }],
      answers: [], authorities: [],
      additionals: [{ name: { name: 'ALICE', suffix: 0x03, scope: '' }, type: RR_TYPE.NB, class: 1, ttl: 300, data: { kind: 'nb', entries: [{ group: false, nodeType: 'B', address: '10.77.0.2' }] } }],
    });
    // The claimant runs on the client host: a few lines of Node that broadcast and wait.
    const script = `const s=require('dgram').createSocket('udp4');s.bind(0,'10.77.0.2',()=>{s.setBroadcast(true);s.send(Buffer.from('${Buffer.from(request).toString('hex')}','hex'),137,'${lan.broadcast}')});s.on('message',m=>{console.log(m.toString('hex'));process.exit(0)});setTimeout(()=>process.exit(3),3000)`;
    const answer = await run(lan.hosts[1]!.prefix, [process.execPath, '-e', script]);
    assert.equal(answer.code, 0, 'an answer came');
    const reply = decodeNbnsPacket(new Uint8Array(Buffer.from(answer.stdout.trim(), 'hex')));
    assert.equal(reply.response, true);
    assert.equal(reply.opcode, NBNS_OPCODE.registration);
    assert.equal(reply.rcode, NBNS_RCODE.active);
    assert.match(daemon.stderr, /defended ALICE<03>/);
  });

  test('tshark reads every name service packet of these exchanges with no malformed field', async () => {
    const report = await capture!.stop('nbns');
    capture = undefined;
    assert.ok(report.packets > 0, 'packets were captured');
    assert.deepEqual(report.bad, []);
  });
});
