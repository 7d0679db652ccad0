/** The Messenger service's send and receive paths (messenger.ts) with the tests' memory store, a fake sink and transports. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../../test/helpers/memory-store.js';
import { AliasTable, type AliasStore } from './aliases.js';
import { NetApiError } from './errors.js';
import type { IncomingMessage, StoredMessage } from './message.js';
import { senderOf } from './sender.js';
import type { Admission } from './admission.js';
import {
  Messenger,
  type BroadcastScope,
  type BroadcastSender,
  type MessageStore,
  type OutgoingMessage,
  type RemoteSender,
  type SendOptions,
  type SendReport,
  type Sink,
} from './messenger.js';

const RECEIVED_AT = new Date('2026-11-25T10:31:05Z');

/**
 * The shared memory store's inbox (test/helpers/memory-store.ts), with what these tests look at:
 * `messages` as appended, an `events` log for ordering, and `hold` to keep appends from committing
 * until `release()` is called.
 */
class ArrayMessageStore implements MessageStore {
  readonly messages: StoredMessage[] = [];
  readonly events: string[];
  hold = false;
  readonly #inbox = new MemoryStore({ now: () => RECEIVED_AT.getTime() }).messages;
  #held: Array<() => void> = [];
  constructor(events: string[] = []) {
    this.events = events;
  }
  async append(message: IncomingMessage): Promise<StoredMessage> {
    this.events.push(`append ${message.to}`);
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    const stored = await this.#inbox.append(message);
    this.messages.push(stored);
    this.events.push(`committed ${stored.id}`);
    return stored;
  }
  list(options: { afterId: number; limit: number }): Promise<StoredMessage[]> {
    return this.#inbox.list(options);
  }
  latest(options: { limit: number }): Promise<StoredMessage[]> {
    return this.#inbox.latest(options);
  }
  release(): void {
    for (const go of this.#held.splice(0)) go();
  }
}

class RecordingSink implements Sink {
  readonly delivered: StoredMessage[] = [];
  constructor(readonly events: string[] = []) {}
  deliver(message: StoredMessage): void {
    this.events.push(`deliver ${message.id}`);
    this.delivered.push(message);
  }
}

class RecordingRemote implements RemoteSender {
  readonly calls: Array<[OutgoingMessage, SendOptions]> = [];
  constructor(readonly answer: (m: OutgoingMessage, o: SendOptions) => Promise<SendReport> = async () => ({ lossy: false, charset: 'CP850' })) {}
  send(message: OutgoingMessage, options: SendOptions): Promise<SendReport> {
    this.calls.push([message, options]);
    return this.answer(message, options);
  }
}

class RecordingBroadcaster implements BroadcastSender {
  readonly calls: Array<[OutgoingMessage, BroadcastScope]> = [];
  async broadcast(message: OutgoingMessage, scope: BroadcastScope): Promise<SendReport> {
    this.calls.push([message, scope]);
    return { charset: 'CP850' };
  }
}

const noStore: AliasStore = { saveAlias: async () => {}, deleteAlias: async () => {} };

/** The Messenger's clock in these tests; a message waits an hour (messageTtlSeconds) from it. */
const NOW = Date.UTC(2026, 10, 25, 10, 0, 0);
const EXPIRES_AT = NOW + 3600 * 1000;

function setup(options: { remote?: RemoteSender; broadcaster?: BroadcastSender; store?: MessageStore; maxMessageBytes?: number; sessionUsers?: Array<{ name: string; address: string }>; admission?: Admission } = {}) {
  const events: string[] = [];
  const store = new ArrayMessageStore(events);
  const sink = new RecordingSink(events);
  const aliases = new AliasTable({ computerName: 'pc1', userNames: ['alice'], addedAliases: ['helpdesk'], maxAddedAliases: 4, store: noStore });
  const messenger = new Messenger({
    aliases,
    store: options.store ?? store,
    sink,
    remote: options.remote,
    broadcaster: options.broadcaster,
    workgroup: 'WORKGROUP',
    ...(options.sessionUsers ? { sessionUsers: () => options.sessionUsers ?? [] } : {}),
    maxMessageBytes: options.maxMessageBytes ?? 1000,
    charset: 'CP850',
    messageTtlSeconds: 3600,
    now: () => NOW,
    ...(options.admission ? { admission: options.admission } : {}),
  });
  return { messenger, store, sink, events };
}

const status = (code: number, words?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof NetApiError, `expected a NetApiError, got ${String(e)}`);
  assert.equal(e.status, code, e.message);
  if (words) assert.match(e.message, words);
  return true;
};

test('Messenger.send to a local alias stores the message, then the sink shows the stored message with its id', async () => {
  const { messenger, store, sink } = setup();
  const result = await messenger.send({ to: 'alice', from: 'bob', text: 'Lunch?' }, { uid: 1000 });
  assert.deepEqual(result, { delivered: 'local', id: 1 });
  const expected: StoredMessage = { from: 'BOB', to: 'ALICE', text: 'Lunch?', via: 'local', sender: senderOf({ uid: 1000 }), priority: 'normal', expiresAt: EXPIRES_AT, id: 1, receivedAt: RECEIVED_AT };
  assert.deepEqual(store.messages, [expected]);
  assert.deepEqual(sink.delivered, [expected]);
});

test('Messenger.receive of a second copy from the hub (its origin stored already) answers its id and shows nothing again', async () => {
  const { messenger, store, sink } = setup();
  const message: IncomingMessage = { from: 'BOB', to: 'ALICE', text: 'once', via: 'netsend', sender: senderOf({ host: { name: 'SITEB', fingerprint: 'SHA256:x' } }), origin: 'env-1' };
  const first = await messenger.receive(message);
  // what the SQLite store answers for an origin it holds (src/hub/outbox.test.ts)
  store.append = async () => ({ ...first, duplicate: true as const });
  const again = await messenger.receive(message);
  assert.equal(again.id, first.id);
  assert.equal('duplicate' in again, false);
  assert.deepEqual(sink.delivered.map((m) => m.id), [first.id]);
});

test('Messenger.send shows nothing before the store has committed the message', async () => {
  const { messenger, store, sink, events } = setup();
  store.hold = true;
  const sending = messenger.send({ to: 'ALICE', text: 'wait for it' }, { uid: null });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sink.delivered, [], 'not delivered while the append is pending');
  store.release();
  await sending;
  assert.deepEqual(events, ['append ALICE', 'committed 1', 'deliver 1']);
});

test('Messenger.send uses the computer name when from is missing or null, and upper-cases the names', async () => {
  const { messenger, store } = setup();
  await messenger.send({ to: 'HelpDesk', text: 'a' }, { uid: 1 });
  await messenger.send({ to: 'alice', from: null, text: 'b' }, { uid: 1 });
  await messenger.send({ to: 'pc1', from: 'Ümit', text: 'c' }, { uid: 1 });
  assert.deepEqual(store.messages.map((m) => [m.from, m.to]), [['PC1', 'HELPDESK'], ['PC1', 'ALICE'], ['ÜMIT', 'PC1']]);
});

test('Messenger.send to a name that is not local fails with 2273 when no network transport is enabled', async () => {
  const { messenger, store, sink } = setup();
  await assert.rejects(
    messenger.send({ to: 'faraway', text: 'hi' }, { uid: 1 }),
    status(2273, /"FARAWAY" is not an alias of this computer, and no network transport is enabled/),
  );
  assert.equal(store.messages.length, 0);
  assert.equal(sink.delivered.length, 0);
});

test('Messenger.send to a remote name calls the RemoteSender with { from, to, text } and reports its result', async () => {
  const remote = new RecordingRemote(async () => ({ lossy: true, charset: 'CP850' }));
  const { messenger, store } = setup({ remote });
  const result = await messenger.send({ to: 'faraway', from: 'bob', text: 'Hi there' }, { uid: 1 });
  assert.deepEqual(result, { delivered: 'remote', lossy: true, charset: 'CP850' });
  assert.deepEqual(remote.calls, [[{ from: 'BOB', to: 'FARAWAY', text: 'Hi there' }, {}]]);
  assert.equal(store.messages.length, 0, 'a remote send stores nothing here');
});

test('Messenger.send passes the host to the RemoteSender, even for a name that is also local', async () => {
  const remote = new RecordingRemote();
  const { messenger, store } = setup({ remote });
  await messenger.send({ to: 'faraway', text: 'a', host: '10.0.0.5:139' }, { uid: 1 });
  await messenger.send({ to: 'alice', text: 'b', host: '10.0.0.6' }, { uid: 1 });
  assert.deepEqual(remote.calls, [
    [{ from: 'PC1', to: 'FARAWAY', text: 'a' }, { host: '10.0.0.5:139' }],
    [{ from: 'PC1', to: 'ALICE', text: 'b' }, { host: '10.0.0.6' }],
  ]);
  assert.equal(store.messages.length, 0);
});

test('Messenger.send passes the RemoteSender failure (2273, 2136) through unchanged', async () => {
  const remote = new RecordingRemote(async (m) => {
    throw new NetApiError(m.to === 'GONE' ? 'NERR_NameNotFound' : 'NERR_NetworkError', `(${m.to})`);
  });
  const { messenger } = setup({ remote });
  await assert.rejects(messenger.send({ to: 'gone', text: 'x' }, { uid: 1 }), status(2273, /\(GONE\)/));
  await assert.rejects(messenger.send({ to: 'flaky', text: 'x' }, { uid: 1 }), status(2136, /\(FLAKY\)/));
});

test('Messenger.send accepts text of exactly maxMessageBytes and refuses one character more with 87', async () => {
  const { messenger, store } = setup({ maxMessageBytes: 10 });
  await messenger.send({ to: 'alice', text: '12345' }, { uid: 1 });
  await assert.rejects(
    messenger.send({ to: 'alice', text: '123456' }, { uid: 1 }),
    status(87, /The message is 12 bytes of UTF-16; the limit is 10 \("max message size"\)/),
  );
  assert.deepEqual(store.messages.map((m) => m.text), ['12345']);
});

test('Messenger.send refuses fields that are not strings, and invalid names, with 87 and stores nothing', async () => {
  const remote = new RecordingRemote();
  const { messenger, store, sink } = setup({ remote });
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ to: 42, text: 'x' }, /The message name must be a string/],
    [{ to: undefined, text: 'x' }, /The message name must be a string/],
    [{ to: 'alice', from: 42, text: 'x' }, /The from name must be a string/],
    [{ to: 'alice', text: 42 }, /The message text must be a string/],
    [{ to: 'alice', text: null }, /The message text must be a string/],
    [{ to: 'alice', text: Buffer.from('x') }, /The message text must be a string/],
    [{ to: 'alice', text: 'x', host: 139 }, /The host must be a string/],
    [{ to: 'a*b', text: 'x' }, /The message name "a\*b" holds a character/],
    [{ to: 'alice', from: 'x'.repeat(16), text: 'x' }, /The from name "x{16}" is longer than 15/],
    [{ to: 'alice', text: 'half \ud83d' }, /unpaired surrogate/],
  ];
  for (const [request, words] of bad) {
    await assert.rejects(messenger.send(request as { to: unknown; text: unknown }, { uid: 1 }), status(87, words), JSON.stringify(request));
  }
  assert.equal(store.messages.length, 0);
  assert.equal(sink.delivered.length, 0);
  assert.equal(remote.calls.length, 0);
});

test('Messenger.send rejects when the store cannot append, and the sink is not called', async () => {
  const failing: MessageStore = {
    append: async () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    },
    list: async () => [],
    latest: async () => [],
  };
  const { messenger, sink, events } = setup({ store: failing });
  await assert.rejects(messenger.send({ to: 'alice', text: 'lost?' }, { uid: 1 }), /SQLITE_FULL/);
  assert.deepEqual(sink.delivered, []);
  assert.deepEqual(events, [], 'the sink saw nothing');
});

test('Messenger.receive for an alias that is not here fails with 2273 and stores nothing', async () => {
  const { messenger, store, sink } = setup();
  const incoming: IncomingMessage = { from: 'REMOTE', to: 'NOBODY', text: 'hi', via: 'smb', sender: senderOf({ address: '10.0.0.9', port: 40000 }) };
  await assert.rejects(messenger.receive(incoming), status(2273, /"NOBODY" is not an alias of this computer/));
  assert.equal(store.messages.length, 0);
  assert.equal(sink.delivered.length, 0);
});

test('Messenger.receive stores a network message under the canonical alias and keeps the sender as sent', async () => {
  const { messenger, store, sink } = setup();
  const stored = await messenger.receive({ from: 'remote-pc', to: 'alice', text: 'hi', via: 'smb', sender: senderOf({ address: '10.0.0.9', port: 40000 }) });
  assert.deepEqual(stored, { from: 'remote-pc', to: 'ALICE', text: 'hi', via: 'smb', sender: senderOf({ address: '10.0.0.9', port: 40000 }), expiresAt: EXPIRES_AT, id: 1, receivedAt: RECEIVED_AT });
  assert.deepEqual(store.messages, [stored]);
  assert.deepEqual(sink.delivered, [stored]);
});

test('Messenger.send takes a priority and a time to live, and refuses bad ones with status 87', async () => {
  const { messenger, store } = setup();
  await messenger.send({ to: 'alice', text: 'now!', priority: 'urgent', ttl: 60 }, { uid: 1 });
  assert.deepEqual({ priority: store.messages[0]?.priority, expiresAt: store.messages[0]?.expiresAt }, { priority: 'urgent', expiresAt: NOW + 60_000 });
  for (const bad of [{ priority: 'meh' }, { priority: 3 }, { ttl: -1 }, { ttl: 1.5 }, { ttl: '60' }, { ttl: 400 * 24 * 3600 }]) {
    await assert.rejects(messenger.send({ to: 'alice', text: 'x', ...bad }, { uid: 1 }), status(87), JSON.stringify(bad));
  }
});

test('Messenger.inbox lists stored messages after an id, oldest first', async () => {
  const { messenger } = setup();
  for (const text of ['one', 'two', 'three']) await messenger.send({ to: 'alice', text }, { uid: 1 });
  assert.deepEqual((await messenger.inbox(1, 10)).map((m) => m.text), ['two', 'three']);
  assert.deepEqual((await messenger.inbox(0, 1)).map((m) => m.text), ['one']);
});

test('Messenger.broadcast refuses over 128 characters with 87 and without a broadcaster with 50', async () => {
  const broadcaster = new RecordingBroadcaster();
  const { messenger } = setup({ broadcaster });
  await assert.rejects(messenger.broadcast({ text: 'x'.repeat(129), domain: null }, { uid: 1 }), status(87, /limited to 128 characters; this one has 129/));
  assert.equal(broadcaster.calls.length, 0);
  await assert.rejects(setup().messenger.broadcast({ text: 'x', domain: null }, { uid: 1 }), status(50));
});

test('Messenger.broadcast to its own workgroup keeps a copy here; to another domain it does not', async () => {
  const broadcaster = new RecordingBroadcaster();
  const { messenger, store, sink } = setup({ broadcaster });
  assert.deepEqual(await messenger.broadcast({ text: 'x'.repeat(128), domain: null }, { uid: 7 }), { delivered: 'remote', charset: 'CP850' });
  await messenger.broadcast({ from: 'bob', text: 'elsewhere', domain: 'other' }, { uid: 7 });
  assert.deepEqual(broadcaster.calls, [
    [{ from: 'PC1', to: 'WORKGROUP', text: 'x'.repeat(128) }, { workgroup: 'WORKGROUP' }],
    [{ from: 'BOB', to: 'OTHER', text: 'elsewhere' }, { workgroup: 'OTHER' }],
  ]);
  assert.deepEqual(store.messages.map((m) => [m.to, m.via, m.sender.uid]), [['WORKGROUP', 'mailslot', 7]]);
  assert.equal(sink.delivered.length, 1);
});

test('Messenger.broadcast on a loopback-only host: its own workgroup still gets its copy, said in the report; another domain is NERR_NetworkError saying what to set', async () => {
  const broadcaster = new RecordingBroadcaster();
  broadcaster.broadcast = async (message, scope) => (broadcaster.calls.push([message, scope]), { charset: 'CP850', heardNowhere: true });
  const { messenger, store } = setup({ broadcaster });
  assert.deepEqual(await messenger.broadcast({ text: 'fire drill', domain: null }, { uid: 7 }), { delivered: 'remote', charset: 'CP850', heardNowhere: true });
  assert.equal(store.messages.length, 1, "this host's users got it");
  await assert.rejects(messenger.broadcast({ text: 'hello there', domain: 'FOO' }, { uid: 7 }), status(2136, /Nobody can receive a broadcast to FOO: this host is on loopback only .*--interfaces eth0/));
  assert.equal(store.messages.length, 1);
});

test('Messenger.sendToSessionUsers sends to each session user at its address, and fails with 2273 when there is none', async () => {
  const remote = new RecordingRemote(async (m) => {
    if (m.to === 'CAROL') throw new NetApiError('NERR_NetworkError');
    return {};
  });
  const users = [{ name: 'DAVE', address: '10.0.0.7' }, { name: 'CAROL', address: '10.0.0.8' }, { name: 'BAD*', address: '10.0.0.9' }];
  const { messenger } = setup({ remote, sessionUsers: users });
  assert.deepEqual(await messenger.sendToSessionUsers({ text: 'hi' }, { uid: 1 }), { delivered: 'remote', recipients: 1 });
  assert.deepEqual(remote.calls.map(([m, o]) => [m.to, o.host]), [['DAVE', '10.0.0.7'], ['CAROL', '10.0.0.8']], 'an invalid name is skipped');
  await assert.rejects(setup({ remote }).messenger.sendToSessionUsers({ text: 'hi' }, { uid: 1 }), status(2273, /No user has a session/));
});

test('Messenger.relay (the hub gateway) asks the front door, rate limits and this host\'s legacy input on the client\'s address, before forwarding; it stores nothing', async () => {
  const asked: Array<[string, string | null]> = [];
  let refuse: string | null = 'CAROL takes no unauthenticated (smb) messages.';
  const admission: Admission = { gate: () => null, policy: (message, alias) => (asked.push([alias, message.sender.address]), refuse) };
  const { messenger, store } = setup({ admission });
  const forwarded: string[] = [];
  const relayed = { from: 'MALLORY', to: 'CAROL', text: 'hi', via: 'smb' as const, sender: senderOf({ address: '10.9.0.7', port: 40000 }) };
  await assert.rejects(messenger.relay(relayed, async (m) => void forwarded.push(m.text)), status(5, /takes no unauthenticated/));
  refuse = null;
  await messenger.relay(relayed, async (m) => void forwarded.push(m.text));
  assert.deepEqual(asked, [['CAROL', '10.9.0.7'], ['CAROL', '10.9.0.7']]);
  assert.deepEqual(forwarded, ['hi']);
  assert.equal(store.messages.length, 0, 'a relayed message is not this host\'s');
  const limited: Admission = { gate: () => ({ status: 'NERR_NameInUse', reason: 'too fast' }), policy: () => null };
  await assert.rejects(setup({ admission: limited }).messenger.relay(relayed, async () => assert.fail('not forwarded')), status(2283));
});
