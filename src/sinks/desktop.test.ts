/**
 * The desktop notification sink (desktop.ts, desktop-helper.ts) against a real dbus-daemon with a
 * small notification server on it (test/helpers/dbus.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Message } from 'dbus-next';
import { FakeNotificationServer, SessionBus, connect, dbusUnavailable } from '../../test/helpers/dbus.js';
import { waitUntil } from '../../test/helpers/netns.js';
import type { StoredMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { DesktopSink, escapeMarkup, notificationFor, sessionBusTarget, type DesktopOptions, type DesktopTarget } from './desktop.js';

const RECEIVED_AT = new Date(2026, 10, 25, 10, 31, 5);

const message = (id: number, fields: Partial<StoredMessage> = {}): StoredMessage => ({
  id, from: 'BOB', to: 'ALICE', text: `text ${id}`, via: 'smb', sender: senderOf({ address: '10.0.0.9', port: 40000 }), receivedAt: RECEIVED_AT, ...fields,
});

test('the urgency hint follows the priority, and an urgent summary says so', () => {
  const base = { id: 1, from: 'BOB', to: 'ALICE', text: 'hi', via: 'local' as const, sender: senderOf(), receivedAt: new Date() };
  assert.equal(notificationFor({ ...base, priority: 'low' }).urgency, 0);
  assert.equal(notificationFor(base).urgency, 1);
  assert.equal(notificationFor({ ...base, priority: 'high' }).urgency, 2);
  const urgent = notificationFor({ ...base, priority: 'urgent' });
  assert.equal(urgent.urgency, 2);
  assert.match(urgent.summary, /^URGENT: Message from BOB to ALICE$/);
});

test('notificationFor: a titled message is headed by its title; who sent it, to whom and when lead the body', () => {
  assert.deepEqual(notificationFor(message(1, { title: 'Backup <failed>', priority: 'urgent' })), {
    summary: 'URGENT: Backup <failed>',
    body: "Message from BOB to ALICE on 11/25/2026 10:31:05 AM (unverified: came over the legacy SMB wire; the sender's name is not proven)\ntext 1",
    urgency: 2,
  });
});

test('notificationFor: "Message from X to Y", and the time then the text, control characters gone and markup escaped', () => {
  assert.deepEqual(notificationFor(message(1, { text: 'a <b>bold</b> & \u001b[31mred\u001b[0m\r\nline' })), {
    summary: 'Message from BOB to ALICE',
    body: "11/25/2026 10:31:05 AM (unverified: came over the legacy SMB wire; the sender's name is not proven)\na &lt;b&gt;bold&lt;/b&gt; &amp; red\nline",
    urgency: 1,
  });
  assert.equal(escapeMarkup('&amp; <a href="x">'), '&amp;amp; &lt;a href="x"&gt;');
  assert.equal(notificationFor(message(2, { from: 'EVIL\u001b]0;x\u0007\nFAKE' })).summary, 'Message from EVIL FAKE to ALICE');
});

test('sessionBusTarget finds the daemon\'s own user by its name in any case, through DBUS_SESSION_BUS_ADDRESS', async () => {
  const { username } = userInfo();
  const env = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/tmp/some-bus' };
  assert.deepEqual(await sessionBusTarget(username.toUpperCase(), env), { user: username, busAddress: 'unix:path=/tmp/some-bus' });
  assert.equal(await sessionBusTarget('NO-SUCH-USER-HERE', env), null);
});

test('a sweep offering 50 messages for one name to the desktops of a root daemon asks the name service once, not 50 times', { skip: process.getuid?.() === 0 ? false : 'only a root daemon looks up other users' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'getent-'));
  const calls = join(dir, 'calls');
  // a slow getent that knows nobody, counting its runs
  await writeFile(join(dir, 'getent'), `#!/bin/sh\necho "$*" >> '${calls}'\nsleep 0.2\nexit 2\n`, { mode: 0o755 });
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path ?? ''}`;
  try {
    const targets = await Promise.all(Array.from({ length: 50 }, () => sessionBusTarget('NOBODY-LOOKED-UP-ONCE', {})));
    assert.deepEqual(new Set(targets), new Set([null]));
    assert.deepEqual((await readFile(calls, 'utf8')).trim().split('\n'), ['passwd -- nobody-looked-up-once']);
  } finally {
    process.env.PATH = path;
    await rm(dir, { recursive: true, force: true });
  }
});

describe('on a real session bus', { skip: dbusUnavailable() ?? false }, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function bus(options: Parameters<typeof SessionBus.start>[0] = {}): Promise<SessionBus> {
    const started = await SessionBus.start(options);
    cleanups.push(() => started.stop());
    return started;
  }
  async function server(address: string): Promise<FakeNotificationServer> {
    const started = await FakeNotificationServer.start(address);
    cleanups.push(() => started.stop());
    return started;
  }
  function sink(target: DesktopTarget | null, options: Partial<DesktopOptions> = {}) {
    const logs: string[] = [];
    const acks: Array<[number, string]> = [];
    const s = new DesktopSink({
      targetFor: (alias) => (alias === 'ALICE' ? target : null),
      onAcknowledge: (message, where) => acks.push([message.id, where]),
      timeoutMs: 5000,
      log: (line) => logs.push(line),
      ...options,
    });
    cleanups.push(() => s.close());
    return { sink: s, logs, acks };
  }

  test('a message shows as a notification from netsend with an Acknowledge button; clicking it acknowledges that message', async () => {
    const b = await bus();
    const notifications = await server(b.address);
    const { sink: s, logs, acks } = sink({ user: 'alice', busAddress: b.address });
    s.deliver(message(12, { text: 'lunch <now> & later' }));
    await s.drain();
    assert.deepEqual(logs, []);
    assert.equal(notifications.calls.length, 1);
    const call = notifications.calls[0]!;
    assert.equal(call.appName, 'netsend');
    assert.equal(call.summary, 'Message from BOB to ALICE');
    assert.equal(call.body, "11/25/2026 10:31:05 AM (unverified: came over the legacy SMB wire; the sender's name is not proven)\nlunch &lt;now&gt; &amp; later");
    assert.deepEqual(call.actions, ['ack', 'Acknowledge']);
    assert.equal(call.replacesId, 0);
    assert.equal(call.expireTimeout, 0, 'stays until the user answers, like the pop-up');
    assert.deepEqual(call.hints, { category: 'im.received', urgency: 1 });

    notifications.actionInvoked(call.id, 'ack');
    await waitUntil(() => acks.length > 0, 5000, 'the acknowledgement');
    assert.deepEqual(acks, [[12, 'desktop:alice']]);
    notifications.actionInvoked(call.id, 'ack'); // a second click acknowledges nothing more
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(acks, [[12, 'desktop:alice']]);
  });

  test('other actions, other ids, closed notifications and signals from anyone but the server acknowledge nothing', async () => {
    const b = await bus();
    const notifications = await server(b.address);
    const { sink: s, acks } = sink({ user: 'alice', busAddress: b.address });
    s.deliver(message(20));
    s.deliver(message(21));
    await s.drain();
    const [first, second] = notifications.calls;
    assert.ok(first && second);
    notifications.actionInvoked(first.id, 'default');
    notifications.actionInvoked(999, 'ack');
    notifications.closed(first.id);
    notifications.actionInvoked(first.id, 'ack'); // after NotificationClosed it is gone
    // Another client on the bus forging the server's signal for the second notification.
    const forger = await connect(b.address);
    cleanups.push(() => forger.disconnect());
    forger.send(Message.newSignal('/org/freedesktop/Notifications', 'org.freedesktop.Notifications', 'ActionInvoked', 'us', [second.id, 'ack']));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(acks, []);
    notifications.actionInvoked(second.id, 'ack');
    await waitUntil(() => acks.length > 0, 5000, 'the acknowledgement');
    assert.deepEqual(acks, [[21, 'desktop:alice']]);
  });

  test('no notification server on the bus: logged, nothing thrown; once one runs, the next message shows', async () => {
    const b = await bus();
    const { sink: s, logs } = sink({ user: 'alice', busAddress: b.address });
    s.deliver(message(30));
    await s.drain();
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0]!, /^desktop: message 30 to ALICE: .*ServiceUnknown|^desktop: message 30 to ALICE: .*org\.freedesktop\.Notifications/);
    const notifications = await server(b.address);
    s.deliver(message(31));
    await s.drain();
    assert.deepEqual(notifications.calls.map((c) => c.summary), ['Message from BOB to ALICE']);
    assert.equal(logs.length, 1);
  });

  test('no bus at the address: logged; when the bus appears, the next message connects afresh', async () => {
    const dir = await SessionBus.tempDir();
    const { sink: s, logs } = sink({ user: 'alice', busAddress: SessionBus.addressIn(dir) });
    s.deliver(message(40));
    await s.drain();
    await waitUntil(() => logs.length >= 2, 5000, 'the helper to end');
    assert.match(logs.join('\n'), /desktop: message 40 to ALICE: .*ENOENT/);
    assert.match(logs.join('\n'), /desktop: the helper for alice \(unix:path=.*\) ended: exit 1: .*ENOENT/);
    const b = await bus({ dir });
    const notifications = await server(b.address);
    s.deliver(message(41));
    await s.drain();
    assert.equal(notifications.calls.length, 1);
  });

  test('a server that never answers costs at most the timeout, and the next message starts afresh', async () => {
    const b = await bus();
    const notifications = await server(b.address);
    notifications.silent = true;
    const { sink: s, logs } = sink({ user: 'alice', busAddress: b.address }, { timeoutMs: 1500 }); // the next message's helper must start within it, also on a busy machine
    const started = Date.now();
    s.deliver(message(50));
    await s.drain();
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    assert.match(logs[0] ?? '', /^desktop: message 50 to ALICE: Error: no answer from the notification server within 1500 ms$/);
    notifications.silent = false;
    s.deliver(message(51));
    await s.drain();
    assert.equal(notifications.calls.length, 1);
  });

  test('a recipient without a desktop is skipped quietly, and nothing is shown after close()', async () => {
    const b = await bus();
    const notifications = await server(b.address);
    const { sink: s, logs } = sink({ user: 'alice', busAddress: b.address });
    s.deliver(message(60, { to: 'CAROL' }));
    await s.drain();
    await s.close();
    s.deliver(message(61));
    await s.drain();
    assert.deepEqual(notifications.calls, []);
    assert.deepEqual(logs, []);
  });

  const HELPER = fileURLToPath(new URL('./desktop-helper.js', import.meta.url));
  const NOBODY = { uid: 65534, gid: 65534 };
  const asOtherUser =
    process.getuid?.() !== 0
      ? 'needs root (a root daemon reaching another user\'s bus)'
      : spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(HELPER)})`]).status !== 0
        ? 'the compiled helper is not readable by uid 65534 here'
        : false;

  test('a root daemon reaches another user\'s bus, which admits only that user, through a helper running as them', { skip: asOtherUser }, async () => {
    // The bus belongs to uid 65534; root may connect only so the test's server can sit on it.
    const b = await bus({ as: NOBODY, allowUsers: ['root'] });
    const notifications = await server(b.address);
    const { sink: s, logs, acks } = sink({ user: 'nobody', busAddress: b.address, ...NOBODY });
    s.deliver(message(70));
    await s.drain();
    assert.deepEqual(logs, []);
    const call = notifications.calls[0];
    assert.ok(call);
    assert.equal(await notifications.uidOf(call.sender), 65534, 'Notify came from a connection of uid 65534');
    notifications.actionInvoked(call.id, 'ack');
    await waitUntil(() => acks.length > 0, 5000, 'the acknowledgement');
    assert.deepEqual(acks, [[70, 'desktop:nobody']]);
  });
});
