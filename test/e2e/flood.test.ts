/**
 * A flood from one address (or host key) never crowds out another sender: per-source token buckets refuse
 * the flood before anything is stored. Loopback only; the two senders are told apart by their
 * source addresses, 127.0.0.2 and 127.0.0.3 (the whole 127/8 is loopback).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { DaemonProcess, freePort, tempDataDir } from '../helpers/daemon.js';
import { secureHostSession, smbSession } from '../helpers/senders.js';


test('a flood from one address is held to its budget while another sender\'s 100 messages all arrive', async () => {
  const { dir, cleanup } = await tempDataDir();
  const port = await freePort();
  const daemon = await DaemonProcess.start(dir, ['--terminal', 'no', '--smb-ports', String(port), '--nbt-port', '0', '--dgram-port', '0', '--source-message-rate', '50', '--source-message-burst', '100']);
  try {
    const rssBefore = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${daemon.child.pid}/status`, 'utf8'))?.[1]) / 1024;
    const deadline = Date.now() + 3000;
    let floodAccepted = 0;
    let floodRefused = 0;
    // Two sessions sending as fast as answers come: thousands a second, on a two-core machine
    // that the other test files share.
    const flood = Promise.all(
      Array.from({ length: 2 }, async () => {
        const s = await smbSession(port, '127.0.0.2');
        while (Date.now() < deadline) (await s.send('FLOODER', 'spam')) ? floodAccepted++ : floodRefused++;
        s.close();
      }),
    );
    const victim = await smbSession(port, '127.0.0.3');
    const outcomes: boolean[] = [];
    for (let i = 0; i < 100; i++) outcomes.push(await victim.send('VICTIM', `message ${i}`));
    victim.close();
    await flood;

    assert.equal(outcomes.filter(Boolean).length, 100, 'every one of the victim\'s messages was accepted');
    const stored = (await daemon.cli(['inbox', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { from: string; text: string });
    assert.equal(stored.filter((m) => m.from === 'VICTIM').length, 100, 'and stored');
    // 100 at once, then 50 per second for about 3 s (with some slack for timing)
    assert.ok(floodAccepted <= 100 + 50 * 4, `the flood got ${floodAccepted} messages through`);
    assert.ok(floodRefused > floodAccepted, `the flood was refused ${floodRefused} times`);
    assert.equal(stored.filter((m) => m.from === 'FLOODER').length, floodAccepted);
    const rssAfter = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${daemon.child.pid}/status`, 'utf8'))?.[1]) / 1024;
    assert.ok(rssAfter < rssBefore + 100, `the daemon's memory grew from ${rssBefore} to ${rssAfter} MiB`);
  } finally {
    await daemon.stop();
    await cleanup();
  }
});

test('over the secure channel too, a flooding host is held to its budget while another host\'s 100 messages all arrive', async () => {
  const { dir, cleanup } = await tempDataDir();
  const port = await freePort();
  const daemon = await DaemonProcess.start(dir, ['--terminal', 'no', '--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--secure-port', String(port), '--source-message-rate', '50', '--source-message-burst', '100']);
  try {
    const deadline = Date.now() + 3000;
    let floodAccepted = 0;
    let floodRefused = 0;
    const flood = Promise.all(
      Array.from({ length: 2 }, async () => {
        const s = await secureHostSession(port, '127.0.0.2', 'FLOODHOST');
        while (Date.now() < deadline) (await s.send('FLOODER', 'spam')) ? floodAccepted++ : floodRefused++;
        s.close();
      }),
    );
    const victim = await secureHostSession(port, '127.0.0.3', 'GOODHOST');
    const outcomes: boolean[] = [];
    for (let i = 0; i < 100; i++) outcomes.push(await victim.send('VICTIM', `message ${i}`));
    victim.close();
    await flood;

    assert.equal(outcomes.filter(Boolean).length, 100, 'every one of the other host\'s messages was accepted');
    const stored = (await daemon.cli(['inbox', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { from: string; verified: boolean; senderHost: string });
    const victims = stored.filter((m) => m.from === 'VICTIM');
    assert.equal(victims.length, 100);
    assert.ok(victims.every((m) => m.verified && m.senderHost.startsWith('GOODHOST SHA256:')));
    // the flooder's two connections share one address budget: 100 at once, then 50 per second
    assert.ok(floodAccepted <= 100 + 50 * 4, `the flood got ${floodAccepted} messages through`);
    assert.ok(floodRefused > floodAccepted, `the flood was refused ${floodRefused} times`);
  } finally {
    await daemon.stop();
    await cleanup();
  }
});
