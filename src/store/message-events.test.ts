/** Migration 3 and the message event log: record, list, newest state per surface, inbox search. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { receiptOf } from '../messenger/events.js';
import type { IncomingMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { MIGRATIONS } from './migrations.js';
import { withStore } from '../../test/helpers/sqlite-store.js';

const incoming = (text: string, to = 'ALICE'): IncomingMessage => ({ from: 'BOB', to, text, via: 'local', sender: senderOf({ uid: 1000 }) });

test('migration 3 is the message event log, migration 4 priorities and expiry', () => {
  assert.match(MIGRATIONS[2] ?? '', /CREATE TABLE message_events/);
  assert.match(MIGRATIONS[3] ?? '', /ADD COLUMN priority/);
});

test('events are recorded per message and listed oldest first; none for a message that does not exist', () =>
  withStore(async (store) => {
    const message = await store.messages.append(incoming('hello'));
    const shown = await store.events.recordMessageEvent({ messageId: message.id, state: 'shown', surface: 'web', by: 'alice' });
    const acked = await store.events.recordMessageEvent({ messageId: message.id, state: 'acknowledged', surface: 'desktop', by: null });
    assert.ok(shown !== null && acked !== null);
    assert.ok(acked.id > shown.id);
    assert.deepEqual(
      (await store.events.listMessageEvents(message.id)).map((e) => [e.state, e.surface, e.by]),
      [['shown', 'web', 'alice'], ['acknowledged', 'desktop', null]],
    );
    assert.equal(await store.events.recordMessageEvent({ messageId: message.id + 100, state: 'read', surface: 'web', by: null }), null);
  }));

test('latest is the newest event overall; each surface keeps the furthest state it got', () =>
  withStore(async (store) => {
    const a = await store.messages.append(incoming('a'));
    const b = await store.messages.append(incoming('b'));
    const c = await store.messages.append(incoming('c'));
    await store.events.recordMessageEvent({ messageId: a.id, state: 'delivered', surface: 'web', by: null });
    await store.events.recordMessageEvent({ messageId: a.id, state: 'read', surface: 'web', by: 'alice' });
    await store.events.recordMessageEvent({ messageId: a.id, state: 'shown', surface: 'desktop', by: 'alice' });
    await store.events.recordMessageEvent({ messageId: b.id, state: 'acknowledged', surface: 'web', by: 'bob' });
    const states = await store.events.latestMessageStates([a.id, b.id, c.id]);
    assert.equal(states.length, 2, 'a message without events has no state');
    const ofA = states.find((s) => s.messageId === a.id);
    assert.equal(ofA?.latest.state, 'shown');
    assert.equal(ofA?.latest.surface, 'desktop');
    assert.equal(ofA?.surfaces.web?.state, 'read');
    assert.equal(ofA?.surfaces.desktop?.state, 'shown');
    assert.equal(states.find((s) => s.messageId === b.id)?.latest.state, 'acknowledged');
  }));

test('a receipt never goes back: acknowledged on the web, then marked read by a stale page, stays acknowledged by alice on web', () =>
  withStore(async (store) => {
    const a = await store.messages.append(incoming('a'));
    await store.events.recordMessageEvent({ messageId: a.id, state: 'shown', surface: 'tty', by: 'pts/1' });
    const acked = await store.events.recordMessageEvent({ messageId: a.id, state: 'acknowledged', surface: 'web', by: 'alice' });
    const read = await store.events.recordMessageEvent({ messageId: a.id, state: 'read', surface: 'web', by: 'alice' });
    await store.events.recordMessageEvent({ messageId: a.id, state: 'shown', surface: 'tty', by: 'pts/2' });
    const [states] = await store.events.latestMessageStates([a.id]);
    assert.deepEqual(states?.surfaces.web, acked, 'the web surface keeps its furthest state');
    assert.equal(states?.surfaces.tty?.by, 'pts/2', 'of two equal states, the newer');
    assert.equal(states?.latest.by, 'pts/2', 'latest is still the newest event');
    assert.ok(read !== null && read.id > (acked?.id ?? 0));
    const receipt = receiptOf(a.id, states);
    assert.deepEqual([receipt.state, receipt.acknowledgedBy, receipt.acknowledgedOn], ['acknowledged', 'alice', 'web']);
    assert.equal(receipt.surfaces.web?.state, 'acknowledged');
  }));

test('a message pushed to an open web page that nobody looked at reports expired after its time to live, not delivered', () =>
  withStore(async (store) => {
    const b = await store.messages.append(incoming('b'));
    await store.events.recordMessageEvent({ messageId: b.id, state: 'delivered', surface: 'web', by: null });
    await store.events.recordMessageEvent({ messageId: b.id, state: 'expired', surface: 'store', by: null });
    await store.events.recordMessageEvent({ messageId: b.id, state: 'delivered', surface: 'web', by: null }); // the page reloaded
    assert.equal(receiptOf(b.id, (await store.events.latestMessageStates([b.id]))[0]).state, 'expired');
  }));

test('the inbox pages newest first, searches text and names, and filters by recipient case-insensitively', () =>
  withStore(async (store) => {
    for (let i = 1; i <= 5; i++) await store.messages.append(incoming(`note ${i}`, i % 2 === 0 ? 'ALICE' : 'CAROL'));
    await store.messages.append(incoming('100% done_ok', 'WORKGROUP'));
    const all = { beforeId: null, afterId: 0, limit: 100, text: null, recipients: null };
    assert.deepEqual((await store.messages.findMessages({ ...all, limit: 3 })).map((m) => m.text), ['100% done_ok', 'note 5', 'note 4']);
    assert.deepEqual((await store.messages.findMessages({ ...all, beforeId: 3 })).map((m) => m.text), ['note 2', 'note 1']);
    assert.deepEqual((await store.messages.findMessages({ ...all, recipients: ['alice', 'workgroup'] })).map((m) => m.text), ['100% done_ok', 'note 4', 'note 2']);
    assert.deepEqual((await store.messages.findMessages({ ...all, text: 'NOTE 3' })).map((m) => m.text), ['note 3']);
    assert.deepEqual((await store.messages.findMessages({ ...all, text: '0% d' })).map((m) => m.text), ['100% done_ok']);
    assert.deepEqual((await store.messages.findMessages({ ...all, text: '%' })).map((m) => m.text), ['100% done_ok'], '% is literal');
    assert.deepEqual((await store.messages.findMessages({ ...all, text: 'e_o' })).map((m) => m.text), ['100% done_ok'], '_ is literal');
    assert.deepEqual(await store.messages.findMessages({ ...all, recipients: [] }), []);
    assert.equal((await store.messages.getMessage(2))?.text, 'note 2');
    assert.equal(await store.messages.getMessage(99), null);
  }));
