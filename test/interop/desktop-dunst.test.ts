/**
 * A message on a real desktop: Xvfb, the user's session bus and dunst as the notification daemon.
 * The notification dunst shows carries the sender, time and text; picking "Acknowledge" in its
 * menu reaches the daemon, and the sender's receipt says who acknowledged it, and where.
 */
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { DaemonProcess, tempDataDir } from '../helpers/daemon.js';
import { DunstDesktop, dunstUnavailable } from '../helpers/dunst.js';
import { waitUntil } from '../helpers/netns.js';

const ME = userInfo().username.toUpperCase();

describe('a desktop with dunst as its notification daemon', { skip: dunstUnavailable() ?? false }, () => {
  let desktop: DunstDesktop;
  let daemon: DaemonProcess;
  let cleanup: () => Promise<void>;

  before(async () => {
    desktop = await DunstDesktop.start();
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    daemon = await DaemonProcess.start(temp.dir, ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--terminal', 'no', '--tty-messages', 'no'], {
      env: { DBUS_SESSION_BUS_ADDRESS: desktop.bus.address },
    });
  });
  after(async () => {
    await daemon?.stop();
    await cleanup?.();
    await desktop?.stop();
  });

  test('dunst shows the message; Acknowledge in its menu is the acknowledgement the sender sees', async () => {
    const sent = await daemon.cli(['send', ME, '--from', 'BOB', '--priority', 'urgent', '--json', 'the server room is flooding']);
    assert.equal(sent.code, 0, sent.stderr);
    const { id } = JSON.parse(sent.stdout) as { id: number };
    await waitUntil(() => desktop.displayed() === 1, 10_000, 'the notification on the screen');
    desktop.acknowledgeNewest();
    await daemon.waitFor(() => daemon.stderr.includes(`message ${id} acknowledged on desktop:${userInfo().username}`), 5000, 'the acknowledgement');
    const receipt = await daemon.cli(['receipt', String(id)]);
    assert.match(receipt.stdout, new RegExp(`^Message ${id}: acknowledged at \\d+/\\d+/\\d{4} \\d+:\\d\\d:\\d\\d [AP]M by ${userInfo().username} on desktop\\n`));
    const [shown] = desktop.closeAllAndReadHistory();
    assert.deepEqual(
      { appname: shown?.appname, summary: shown?.summary },
      { appname: 'netsend', summary: `URGENT: Message from BOB to ${ME}` },
    );
    assert.match(shown?.body ?? '', /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d\d:\d\d [AP]M \(verified: sent by the local account [^)]+\)\nthe server room is flooding$/);
  });
});
