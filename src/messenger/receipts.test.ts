import assert from 'node:assert/strict';
import { test } from 'node:test';
import { receiptOf, type MessageEvent, type MessageEventInput, type MessageStates } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { SqliteDatabase } from '../store/database.js';
import { Receipts, type ReceiptStore, type SweepCursor } from './receipts.js';

const event = (state: MessageEvent['state'], surface: string, at: number, by: string | null = null): MessageEvent => ({ id: at, messageId: 1, state, surface, by, at });

test('a receipt is the furthest any surface got: stored, then shown, read, acknowledged (by whom, where)', () => {
  assert.deepEqual(receiptOf(1, undefined), { id: 1, state: 'stored', at: null, surfaces: {} });
  const states = (...events: MessageEvent[]): MessageStates => ({ messageId: 1, latest: events.at(-1) as MessageEvent, surfaces: Object.fromEntries(events.map((e) => [e.surface, e])) });
  assert.equal(receiptOf(1, states(event('shown', 'tty', 1))).state, 'shown');
  assert.equal(receiptOf(1, states(event('shown', 'tty', 1), event('read', 'web', 2))).state, 'read');
  const acked = receiptOf(1, states(event('acknowledged', 'desktop', 3, 'alice'), event('read', 'web', 4)));
  assert.deepEqual({ state: acked.state, by: acked.acknowledgedBy, on: acked.acknowledgedOn }, { state: 'acknowledged', by: 'alice', on: 'desktop' });
  const twice = receiptOf(1, states(event('acknowledged', 'desktop', 5, 'alice'), event('acknowledged', 'web', 6, 'bob')));
  assert.deepEqual([twice.acknowledgedBy, twice.acknowledgedOn], ['bob', 'web'], 'of two acknowledgements, the newer');
});

test('a message delivered to an open page but never looked at is expired after its time to live, and send --wait stops there', () => {
  const states: MessageStates = { messageId: 1, latest: event('delivered', 'web', 3), surfaces: { web: event('delivered', 'web', 3), store: event('expired', 'store', 2) } };
  assert.equal(receiptOf(1, states).state, 'expired');
  const later: MessageStates = { ...states, surfaces: { ...states.surfaces, web: event('read', 'web', 4, 'alice') } };
  assert.equal(receiptOf(1, later).state, 'read', 'read after all, late: the receipt says so');
});

class MemoryStore implements ReceiptStore {
  readonly events: MessageEventInput[] = [];
  messages: StoredMessage[] = [];
  async recordMessageEvent(input: MessageEventInput): Promise<MessageEvent> {
    this.events.push(input);
    return { ...input, id: this.events.length, at: 0 };
  }
  /** How many calls of recordMessageEvents, and with how many events each. */
  readonly batches: number[] = [];
  async recordMessageEvents(inputs: readonly MessageEventInput[]): Promise<MessageEvent[]> {
    this.batches.push(inputs.length);
    return Promise.all(inputs.map((input) => this.recordMessageEvent(input)));
  }
  async latestMessageStates(): Promise<MessageStates[]> {
    return [];
  }
  #unseen(receivedBefore: number): StoredMessage[] {
    const seen = new Set(this.events.map((e) => e.messageId));
    return this.messages
      .filter((m) => !seen.has(m.id) && m.receivedAt.getTime() < receivedBefore)
      .sort((a, b) => (a.expiresAt ?? 0) - (b.expiresAt ?? 0) || a.id - b.id);
  }
  async expiredMessages(after: SweepCursor, now: number, receivedBefore: number, limit: number): Promise<StoredMessage[]> {
    const e = (m: StoredMessage) => m.expiresAt ?? 0;
    return this.#unseen(receivedBefore).filter((m) => (e(m) > after.expiresAt || (e(m) === after.expiresAt && m.id > after.id)) && e(m) <= now).slice(0, limit);
  }
  async waitingMessages(after: SweepCursor | null, now: number, receivedBefore: number, limit: number): Promise<StoredMessage[]> {
    const e = (m: StoredMessage) => m.expiresAt ?? 0;
    return this.#unseen(receivedBefore)
      .filter((m) => e(m) > now && (after === null || e(m) > after.expiresAt || (e(m) === after.expiresAt && m.id > after.id)))
      .slice(0, limit);
  }
}

test('the sweep offers a waiting message to the surfaces again while it lives, then marks it expired, never shown late', async () => {
  let now = Date.UTC(2026, 10, 25, 10, 0, 0);
  const store = new MemoryStore();
  const message = (id: number, ageMs: number, ttlMs: number): StoredMessage => ({
    id, from: 'BOB', to: 'ALICE', text: `m${id}`, via: 'local', sender: senderOf({ uid: 1 }), receivedAt: new Date(now - ageMs), expiresAt: now - ageMs + ttlMs,
  });
  store.messages = [message(1, 60_000, 3_600_000), message(2, 60_000, 30_000), message(3, 1_000, 3_600_000)];
  const offered: number[] = [];
  const receipts = new Receipts({ store, retry: { deliver: (m) => void offered.push(m.id) }, log: () => {}, now: () => now });
  await receipts.sweep();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(offered, [1], 'the living one is offered again; the one just in is left to its first delivery');
  assert.deepEqual(store.events, [{ messageId: 2, state: 'expired', surface: 'store', by: null }]);
  now += 3_600_000;
  offered.length = 0;
  await receipts.sweep();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(offered, [], 'after its time to live nothing is offered');
  assert.deepEqual(store.events.map((e) => [e.messageId, e.state]), [[2, 'expired'], [1, 'expired'], [3, 'expired']]);
  assert.deepEqual(store.batches, [1, 2], 'each sweep marks what it found expired in one write');
});

test('an expired backlog is marked 10,000 a sweep, in one write a page; the next sweep goes on from where it stopped; a listener that throws stops nothing', async () => {
  const now = Date.UTC(2026, 10, 25, 10, 0, 0);
  const store = new MemoryStore();
  store.messages = Array.from({ length: 10_450 }, (_, i) => ({
    id: i + 1, from: 'BOB', to: 'ALICE', text: `m${i + 1}`, via: 'local' as const, sender: senderOf({ uid: 1 }), receivedAt: new Date(now - 7_200_000), expiresAt: now - 3_600_000 + i,
  }));
  const asked: SweepCursor[] = [];
  const expiredMessages = store.expiredMessages.bind(store);
  store.expiredMessages = async (after, ...rest) => (asked.push(after), expiredMessages(after, ...rest));
  const told: number[] = [];
  const logged: string[] = [];
  const receipts = new Receipts({ store, onEvent: () => { throw new Error('a broken listener'); }, log: (line) => logged.push(line), now: () => now });
  receipts.subscribe((event) => void told.push(event.messageId));
  await receipts.sweep();
  assert.equal(store.events.length, 10_000, 'one sweep marks 10,000');
  assert.deepEqual(new Set(store.batches), new Set([200]), 'a write a page of 200');
  assert.equal(told.length, 10_000, 'the listener after the broken one heard every mark');
  assert.equal(logged.length, 10_000);
  asked.length = 0;
  await receipts.sweep();
  assert.equal(store.events.length, 10_450);
  assert.deepEqual(asked[0], { expiresAt: now - 3_600_000 + 9_999, id: 10_000 }, 'the next sweep starts after the last one marked');
  assert.deepEqual(store.events.map((e) => e.messageId), store.messages.map((m) => m.id), 'each once, in the order they expired');
});

/** The real store (SQLite in memory), called as the daemon calls it. */
function sqliteStore(): { db: SqliteDatabase; store: ReceiptStore; insert: (to: string, receivedAt: number, expiresAt: number) => number } {
  const db = new SqliteDatabase(':memory:');
  const store: ReceiptStore = {
    recordMessageEvent: async (e) => db.recordMessageEvent(e),
    recordMessageEvents: async (e) => db.recordMessageEvents(e),
    latestMessageStates: async (ids) => db.latestMessageStates(ids),
    expiredMessages: async (...args) => db.expiredMessages(...args),
    waitingMessages: async (...args) => db.waitingMessages(...args),
  };
  const insert = (to: string, receivedAt: number, expiresAt: number) =>
    db.insertMessages([{ message: { from: 'BOB', to, text: 'hi', via: 'local', sender: senderOf({ uid: 1000 }), expiresAt }, receivedAt }])[0]?.id as number;
  return { db, store, insert };
}

test('a message for someone who logs on later is offered within two sweeps, even behind 200 that can never be shown', async () => {
  const { db, store, insert } = sqliteStore();
  const now = Date.now();
  // 200 for the computer name (no terminal or desktop ever takes them), then alice's, which expires later
  const stuck = Array.from({ length: 200 }, () => insert('MYHOST', now - 120_000, now - 120_000 + 86_400_000));
  const alice = insert('ALICE', now - 60_000, now - 60_000 + 86_400_000);
  const sweeps: number[][] = [];
  const receipts = new Receipts({ store, retry: { deliver: (m) => void sweeps.at(-1)?.push(m.id) }, log: () => {} });
  for (let i = 0; i < 3; i++) {
    sweeps.push([]);
    await receipts.sweep();
  }
  assert.deepEqual(sweeps[0], stuck, 'the first sweep: a page of 200');
  assert.deepEqual(sweeps[1], [alice], 'the next goes on where it stopped');
  assert.deepEqual(sweeps[2], stuck, 'then from the start again');
  db.close();
});

test('a message whose time to live ran out is marked expired at the next sweep, even behind 250 waiting, and never offered again', async () => {
  const { db, store, insert } = sqliteStore();
  let now = Date.now();
  for (let i = 0; i < 250; i++) insert('MYHOST', now - 120_000, now + 86_400_000 + i);
  const short = insert('ALICE', now - 60_000, now + 5_000);
  const offered: number[] = [];
  const receipts = new Receipts({ store, retry: { deliver: (m) => void offered.push(m.id) }, log: () => {}, now: () => now });
  await receipts.sweep();
  assert.ok(offered.includes(short), 'offered while it lives');
  now += 10_000;
  offered.length = 0;
  await receipts.sweep();
  assert.deepEqual(db.listMessageEvents(short).map((e) => e.state), ['expired']);
  assert.ok(!offered.includes(short), 'never offered after its time to live');
  db.close();
});

test('after the wall clock stepped back an hour, a short-lived message is still offered while it waits and marked expired after its time to live', async () => {
  const { db, store, insert } = sqliteStore();
  const start = Date.now();
  let now = start;
  const offered: number[] = [];
  const receipts = new Receipts({ store, retry: { deliver: (m) => void offered.push(m.id) }, log: () => {}, now: () => now });
  now = start + 3_600_000; // one sweep while the clock is an hour ahead (bad NTP, RTC)
  await receipts.sweep();
  now = start; // corrected
  const message = insert('ALICE', start, start + 600_000); // send --ttl 600, alice not logged on
  for (now = start + 40_000; now <= start + 700_000; now += 10_000) await receipts.sweep();
  assert.ok(offered.filter((id) => id === message).length > 50, 'offered at each sweep while it waits');
  assert.equal(receiptOf(message, db.latestMessageStates([message])[0]).state, 'expired');
  db.close();
});

test('a message whose last offer is still under way (a desktop that has not answered) is not offered again until it settles', async () => {
  let now = Date.UTC(2026, 10, 25, 10, 0, 0);
  const store = new MemoryStore();
  store.messages = [{ id: 1, from: 'BOB', to: 'ALICE', text: 'hi', via: 'local', sender: senderOf({ uid: 1 }), receivedAt: new Date(now - 60_000), expiresAt: now + 3_600_000 }];
  let settle = () => {};
  let offers = 0;
  const receipts = new Receipts({
    store,
    retry: { deliver: () => (offers++, new Promise<void>((resolve) => (settle = resolve))) },
    log: () => {},
    now: () => now,
  });
  await receipts.sweep();
  now += 10_000;
  await receipts.sweep();
  assert.equal(offers, 1, 'not again while the first offer is under way');
  settle();
  await new Promise((resolve) => setImmediate(resolve));
  await receipts.sweep();
  assert.equal(offers, 2, 'offered again once it settled');
});

test('once stopped, no sweep offers anything; what the surfaces report while they drain still reaches the store', async () => {
  const now = Date.UTC(2026, 10, 25, 10, 0, 0);
  const store = new MemoryStore();
  const record = store.recordMessageEvent.bind(store);
  store.recordMessageEvent = (input) => new Promise((resolve) => setTimeout(() => resolve(record(input)), 20));
  store.messages = [{ id: 1, from: 'BOB', to: 'ALICE', text: 'hi', via: 'local', sender: senderOf({ uid: 1 }), receivedAt: new Date(now - 60_000), expiresAt: now + 3_600_000 }];
  const offered: number[] = [];
  const receipts = new Receipts({ store, retry: { deliver: (m) => void offered.push(m.id) }, log: () => {}, now: () => now });
  await receipts.stop();
  await receipts.sweep();
  assert.deepEqual(offered, []);
  receipts.record({ id: 1, to: 'ALICE' }, 'shown', 'tty', '/dev/pts/3'); // a terminal finishing as the daemon stops
  await receipts.flush();
  assert.deepEqual(store.events, [{ messageId: 1, state: 'shown', surface: 'tty', by: '/dev/pts/3' }]);
});
