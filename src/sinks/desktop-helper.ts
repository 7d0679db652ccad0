/**
 * The D-Bus side of the desktop sink (desktop.ts), one process per desktop, run as the desktop's
 * user: `node desktop-helper.js BUS_ADDRESS TIMEOUT_MS`. Reads HelperRequest lines on stdin, calls
 * org.freedesktop.Notifications.Notify, and writes HelperEvent lines: each call's notification id
 * or error, and the server's ActionInvoked / NotificationClosed for the notifications it showed.
 * Exits when stdin ends (the daemon closes it or died) and when the bus fails: the daemon starts a
 * new helper for the next message, which is how the connection is remade.
 */
import { createInterface } from 'node:readline';
import { Message, MessageType, Variant, sessionBus } from 'dbus-next';
import type { HelperEvent, HelperRequest } from './desktop.js';
import { ACK_ACTION } from './desktop.js';

const NAME = 'org.freedesktop.Notifications';
const PATH = '/org/freedesktop/Notifications';
/** Notification ids remembered for their signals; the server's own list is what is on screen. */
const MAX_OURS = 1000;

const [busAddress, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg);
if (busAddress === undefined || !(timeoutMs > 0)) {
  process.stderr.write('usage: desktop-helper BUS_ADDRESS TIMEOUT_MS\n');
  process.exit(2);
}

const emit = (event: HelperEvent) => process.stdout.write(`${JSON.stringify(event)}\n`);
const fail = (why: string): never => {
  process.stderr.write(`${why}\n`);
  process.exit(1);
};

function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error instanceof Error ? error : new Error(String(error)))),
    );
  });
}

// dbus-next rethrows a failed Hello from a promise nobody awaits; here that only ends this helper.
process.on('unhandledRejection', (error) => fail(`D-Bus: ${String(error)}`));

const bus = sessionBus({ busAddress });
bus.on('error', (error: unknown) => fail(`session bus ${busAddress}: ${error instanceof Error ? error.message : String(error)}`));

const call = (member: string, signature: string, body: unknown[], destination = NAME, path = PATH, iface = NAME) =>
  bounded(bus.call(new Message({ destination, path, interface: iface, member, signature, body })), member);

const ready = (async () => {
  await bounded(new Promise<void>((resolve) => bus.once('connect', () => resolve())), `connecting to ${busAddress}`);
  for (const member of ['ActionInvoked', 'NotificationClosed']) {
    await call('AddMatch', 's', [`type='signal',interface='${NAME}',path='${PATH}',member='${member}'`], 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus');
  }
})();
ready.catch((error: unknown) => fail(String(error)));

/** The unique bus name of the server that showed our notifications: only its signals count. */
let server: string | undefined;
const ours = new Set<number>();

bus.on('message', (message: Message) => {
  if (message.type !== MessageType.SIGNAL || message.interface !== NAME || message.sender !== server) return;
  const [id, key] = message.body as unknown[];
  if (typeof id !== 'number' || !ours.has(id)) return;
  if (message.member === 'ActionInvoked' && typeof key === 'string') emit({ action: { id, key } });
  else if (message.member === 'NotificationClosed') {
    ours.delete(id);
    emit({ closed: { id } });
  }
});

async function notify(request: HelperRequest['notify']): Promise<void> {
  try {
    await ready;
    const reply = await call('Notify', 'susssasa{sv}i', [
      'netsend', // app_name
      0, // replaces_id: always a new notification
      '', // app_icon
      request.summary,
      request.body,
      [ACK_ACTION, 'Acknowledge'],
      { category: new Variant('s', 'im.received'), urgency: new Variant('y', request.urgency) },
      0, // expire_timeout: never, as the Messenger pop-up stayed until OK was clicked
    ]);
    const id: unknown = reply?.body[0];
    if (typeof id !== 'number') throw new Error('Notify answered without a notification id');
    server = reply?.sender;
    ours.add(id);
    if (ours.size > MAX_OURS) ours.delete(ours.values().next().value as number);
    emit({ shown: { ref: request.ref, id } });
  } catch (error) {
    emit({ failed: { ref: request.ref, error: error instanceof Error ? error.message : String(error) } });
  }
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    let request: HelperRequest;
    try {
      request = JSON.parse(line) as HelperRequest;
    } catch {
      return;
    }
    void notify(request.notify);
  })
  .on('close', () => {
    bus.disconnect();
    process.exit(0);
  });
