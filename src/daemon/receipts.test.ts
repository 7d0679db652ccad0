import assert from 'node:assert/strict';
import { test } from 'node:test';
import { receiptOf, type MessageEvent, type MessageEventInput, type MessageStates } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';
import { Receipts, type ReceiptStore } from './receipts.js';

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
  async latestMessageStates(): Promise<MessageStates[]> {
    return [];
  }
  async unshownMessages(expiresAfter: number, receivedBefore: number): Promise<StoredMessage[]> {
    const seen = new Set(this.events.map((e) => e.messageId));
    return this.messages.filter((m) => !seen.has(m.id) && (m.expiresAt ?? 0) > expiresAfter && m.receivedAt.getTime() < receivedBefore);
  }
}

test('the sweep offers a waiting message to the surfaces again while it lives, then marks it expired, never shown late', async () => {
  let now = Date.UTC(2026, 10, 25, 10, 0, 0);
  const store = new MemoryStore();
  const message = (id: number, ageMs: number, ttlMs: number): StoredMessage => ({
    id, from: 'BOB', to: 'ALICE', text: `m${id}`, via: 'local', senderUid: 1, senderAddress: null, receivedAt: new Date(now - ageMs), expiresAt: now - ageMs + ttlMs,
  });
  store.messages = [message(1, 60_000, 3_600_000), message(2, 60_000, 30_000), message(3, 1_000, 3_600_000)];
  const offered: number[] = [];
  const receipts = new Receipts({ store, retry: { deliver: (m) => offered.push(m.id) }, log: () => {}, now: () => now });
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
});
