/**
 * A running daemon shows messages for its own user on that user's desktop (the session bus of
 * DBUS_SESSION_BUS_ADDRESS), and hears the Acknowledge click; `desktop notifications = no` turns it off.
 * A message that finds no desktop waits in the inbox and is shown when one appears, unless it expired.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { after, describe, test } from 'node:test';
import { FakeNotificationServer, SessionBus, dbusUnavailable } from '../helpers/dbus.js';
import { DaemonProcess, tempDataDir } from '../helpers/daemon.js';
import { waitUntil } from '../helpers/netns.js';

const ME = userInfo().username.toUpperCase();

describe('desktop notifications from a running daemon', { skip: dbusUnavailable() ?? false }, () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function setUp(args: readonly string[] = []) {
    const bus = await SessionBus.start();
    cleanups.push(() => bus.stop());
    const notifications = await FakeNotificationServer.start(bus.address);
    cleanups.push(async () => notifications.stop());
    const temp = await tempDataDir();
    cleanups.push(temp.cleanup);
    const daemon = await DaemonProcess.start(temp.dir, ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', ...args], {
      env: { DBUS_SESSION_BUS_ADDRESS: bus.address },
    });
    cleanups.push(() => daemon.stop());
    return { notifications, daemon };
  }

  test(`a message to ${ME} pops up on the desktop, and clicking Acknowledge is reported`, async () => {
    const { notifications, daemon } = await setUp();
    const sent = await daemon.cli(['send', ME, 'lunch is here']);
    assert.equal(sent.code, 0, sent.stderr);
    await waitUntil(() => notifications.calls.length > 0, 10_000, 'the notification');
    const call = notifications.calls[0]!;
    assert.equal(call.summary, `Message from TESTHOST to ${ME}`);
    assert.match(call.body, /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d\d:\d\d [AP]M \(verified: sent by the local account [^)]+\)\nlunch is here$/);
    assert.deepEqual(call.actions, ['ack', 'Acknowledge']);
    const [stored] = JSON.parse(`[${(await daemon.cli(['inbox', '--json'])).stdout.trim().split('\n').join(',')}]`) as Array<{ id: number }>;
    notifications.actionInvoked(call.id, 'ack');
    await daemon.waitFor(() => daemon.stderr.includes(`message ${stored!.id} acknowledged on desktop:${userInfo().username}`), 5000, 'the acknowledgement');
  });

  test('with --desktop-notifications no, nothing is shown', async () => {
    const { notifications, daemon } = await setUp(['--desktop-notifications', 'no']);
    const sent = await daemon.cli(['send', ME, 'quiet please']);
    assert.equal(sent.code, 0, sent.stderr);
    await daemon.waitFor(() => daemon.stdout.includes('quiet please'), 5000, 'the message on the terminal');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(notifications.calls, []);
  });

  test('a message sent before the desktop exists is shown once it appears; one whose time to live ran out is marked expired, never shown', { timeout: 120_000 }, async () => {
    // the session bus's address is known, but nobody is logged on yet: nothing listens there
    const busDir = await SessionBus.tempDir();
    cleanups.push(() => rm(busDir, { recursive: true, force: true }));
    const temp = await tempDataDir();
    cleanups.push(temp.cleanup);
    const daemon = await DaemonProcess.start(temp.dir, ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--terminal', 'no'], {
      env: { DBUS_SESSION_BUS_ADDRESS: SessionBus.addressIn(busDir) },
    });
    cleanups.push(() => daemon.stop());
    const send = async (args: readonly string[]) => {
      const sent = await daemon.cli(['send', ME, '--json', ...args]);
      assert.equal(sent.code, 0, sent.stderr);
      return (JSON.parse(sent.stdout) as { id: number }).id;
    };
    const waiting = await send(['while you were away']);
    const stale = await send(['--ttl', '2', 'the bus leaves in a minute']);
    const receipt = async (id: number) => JSON.parse((await daemon.cli(['receipt', String(id), '--json'])).stdout) as { state: string };
    assert.equal((await receipt(waiting)).state, 'stored');
    // the user logs on: a session bus and a notification server appear at that address
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const bus = await SessionBus.start({ dir: busDir });
    cleanups.push(() => bus.stop());
    const notifications = await FakeNotificationServer.start(bus.address);
    cleanups.push(async () => notifications.stop());
    // the daemon offers waiting messages again on its sweep (every 10 s, for messages over 30 s old)
    await waitUntil(() => notifications.calls.some((call) => call.body.endsWith('while you were away')), 60_000, 'the waiting message on the desktop');
    let staleState = '';
    for (let i = 0; i < 100 && staleState !== 'expired'; i++) {
      staleState = (await receipt(stale)).state;
      if (staleState !== 'expired') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(staleState, 'expired');
    assert.equal((await receipt(waiting)).state, 'shown');
    assert.ok(!notifications.calls.some((call) => call.body.includes('the bus leaves')), 'an expired message does not pop up late');
    // shown once: later sweeps leave it alone
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    assert.equal(notifications.calls.length, 1);
  });
});
