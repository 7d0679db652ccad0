/** Errors from the store (sqlite.ts): the caller gets SQLite's error with its name, message and code; a write that fails in a group commit fails alone. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IncomingMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { withStore } from '../../test/helpers/sqlite-store.js';

const incoming = (text: string): IncomingMessage => ({ from: 'BOB', to: 'ALICE', text, via: 'local', sender: senderOf({ uid: 1000 }) });

const sqliteError = (code: string, message: string | RegExp) => (e: unknown) => {
  assert.ok(e instanceof Error, String(e));
  assert.equal(e.name, 'SqliteError');
  assert.equal((e as { code?: unknown }).code, code);
  if (typeof message === 'string') assert.equal(e.message, message);
  else assert.match(e.message, message);
  assert.match(e.stack ?? '', /SqliteError/, 'the stack is where SQLite failed');
  return true;
};

test('a constraint broken in the database rejects the call with SqliteError, its SQLite code and message; the store goes on', () =>
  withStore(async (store) => {
    await store.accounts.addToken('a'.repeat(64), 'ops');
    await assert.rejects(store.accounts.addToken('a'.repeat(64), 'other'), sqliteError('SQLITE_CONSTRAINT_PRIMARYKEY', 'UNIQUE constraint failed: tokens.hash'));
    const message = await store.messages.append(incoming('hello'));
    const bad = { messageId: message.id, state: 'lost' as 'read', surface: 'web', by: null };
    await assert.rejects(store.events.recordMessageEvent(bad), sqliteError('SQLITE_CONSTRAINT_CHECK', /^CHECK constraint failed: state IN/));
    assert.equal(await store.accounts.userForToken('a'.repeat(64)), 'ops');
  }));

test('an append or write that fails in a group commit fails alone, with its code: the others committed with it are stored', () =>
  withStore(async (store) => {
    const broken = { ...incoming('x'), text: null } as unknown as IncomingMessage;
    const first = await store.messages.append(incoming('before'));
    // made in one turn of the event loop, so they are committed in one transaction
    const [good, bad, badWrite, after] = await Promise.allSettled([
      store.messages.append(incoming('same batch')),
      store.messages.append(broken),
      store.events.recordMessageEvent({ messageId: first.id, state: 'lost' as 'read', surface: 'web', by: null }),
      store.events.recordMessageEvent({ messageId: first.id, state: 'read', surface: 'web', by: 'alice' }),
    ]);
    assert.equal(good?.status, 'fulfilled');
    assert.equal(bad?.status, 'rejected');
    if (bad?.status === 'rejected') sqliteError('SQLITE_CONSTRAINT_NOTNULL', 'NOT NULL constraint failed: messages.text')(bad.reason);
    assert.equal(badWrite?.status, 'rejected');
    if (badWrite?.status === 'rejected') sqliteError('SQLITE_CONSTRAINT_CHECK', /^CHECK constraint failed: state IN/)(badWrite.reason);
    assert.equal(after?.status, 'fulfilled');
    assert.deepEqual((await store.messages.list({ afterId: 0, limit: 10 })).map((m) => m.text), ['before', 'same batch']);
    assert.deepEqual((await store.events.listMessageEvents(first.id)).map((e) => e.state), ['read']);
  }));

test('a write that fails alone in its commit (no savepoint then) leaves nothing behind, and the next one is stored', () =>
  withStore(async (store) => {
    const broken = { ...incoming('x'), text: null } as unknown as IncomingMessage;
    await assert.rejects(store.messages.append(broken), sqliteError('SQLITE_CONSTRAINT_NOTNULL', 'NOT NULL constraint failed: messages.text'));
    const after = await store.messages.append(incoming('after'));
    assert.deepEqual((await store.messages.list({ afterId: 0, limit: 10 })).map((m) => [m.id, m.text]), [[after.id, 'after']]);
  }));

test('a RangeError thrown by the database code arrives as a RangeError', () =>
  withStore(async (store) => {
    await assert.rejects(store.events.latestMessageStates(Array.from({ length: 1001 }, (_, i) => i)), (e: unknown) => {
      assert.ok(e instanceof RangeError, String(e));
      assert.equal(e.message, 'At most 1000 messages per state query');
      return true;
    });
  }));
