/**
 * When the store answers (sqlite.ts, database.ts): a write only after the log sync that follows
 * its commit, one sync for the writes beside it, reads after the writes before them, and a failed
 * sync failing the store for good. fs.fdatasync is held back or failed here to show the order.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { IncomingMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { SqliteStore } from './sqlite.js';

const incoming = (text: string): IncomingMessage => ({ from: 'BOB', to: 'ALICE', text, via: 'local', sender: senderOf({ uid: 1000 }) });
const realFdatasync = fs.fdatasync;

/** Log syncs asked for and not yet let through; `release` lets the oldest finish (with `error`, if given). */
function holdSyncs() {
  const held: Array<{ fd: number; done: (error: NodeJS.ErrnoException | null) => void }> = [];
  fs.fdatasync = ((fd: number, done: (error: NodeJS.ErrnoException | null) => void) => {
    held.push({ fd, done });
  }) as unknown as typeof fs.fdatasync;
  syncBuiltinESMExports();
  return {
    get count() {
      return held.length;
    },
    /** The file the oldest held sync is for. */
    get file() {
      return held[0] === undefined ? undefined : fs.readlinkSync(`/proc/self/fd/${held[0].fd}`);
    },
    release(error: NodeJS.ErrnoException | null = null) {
      const sync = held.shift();
      assert.ok(sync, 'a log sync was asked for');
      if (error === null) realFdatasync(sync.fd, sync.done);
      else sync.done(error);
    },
  };
}

afterEach(() => {
  fs.fdatasync = realFdatasync;
  syncBuiltinESMExports();
});

async function withFileStore(run: (store: SqliteStore, path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-durable-'));
  const store = await SqliteStore.open(join(dir, 'netsend.db'));
  try {
    await run(store, join(dir, 'netsend.db'));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether `promise` has settled after the event loop has turned a few times (commits run at a turn's end). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test('an append is answered only after the log sync that follows its commit, and the appends of one turn share one sync', () =>
  withFileStore(async (store) => {
    const syncs = holdSyncs();
    const appends = Promise.all(['one', 'two', 'three'].map((text) => store.messages.append(incoming(text))));
    assert.equal(await settled(appends), false, 'committed, but not on disk yet: no answer');
    assert.equal(syncs.count, 1, 'one sync for the three');
    assert.match(syncs.file ?? '', /netsend\.db-wal$/, 'the sync is of the write-ahead log');
    syncs.release();
    assert.deepEqual((await appends).map((m) => m.text), ['one', 'two', 'three']);
  }));

test('appends made while a sync is under way wait for the next one; a read made after them waits with them', () =>
  withFileStore(async (store) => {
    const syncs = holdSyncs();
    const first = store.messages.append(incoming('first'));
    await settled(first);
    const second = store.messages.append(incoming('second'));
    const read = store.messages.list({ afterId: 0, limit: 10 });
    assert.equal(await settled(second), false);
    assert.equal(syncs.count, 1, 'the second commit waits for the sync under way to end before its own');
    syncs.release();
    await first;
    assert.equal(await settled(read), false, 'the read comes after the second append, which is not on disk yet');
    assert.equal(syncs.count, 1);
    syncs.release();
    await second;
    assert.deepEqual((await read).map((m) => m.text), ['first', 'second']);
  }));

test('a call that changes rows (an API token added) is answered after a log sync; a read that changes nothing is answered at once', () =>
  withFileStore(async (store) => {
    const syncs = holdSyncs();
    const added = store.accounts.addToken('b'.repeat(64), 'ops');
    assert.equal(await settled(added), false);
    syncs.release();
    await added;
    assert.equal(await settled(store.accounts.userForToken('b'.repeat(64))), true);
    assert.equal(syncs.count, 0);
  }));

test('a log sync that fails fails every caller waiting for it and the store after it: nothing is answered as stored', () =>
  withFileStore(async (store) => {
    const syncs = holdSyncs();
    const append = store.messages.append(incoming('lost?'));
    await settled(append);
    syncs.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await assert.rejects(append, /The store could not put its log on disk: Error: EIO/);
    await assert.rejects(store.messages.append(incoming('after')), /could not put its log on disk/);
    await assert.rejects(store.messages.list({ afterId: 0, limit: 1 }), /could not put its log on disk/);
  }));

test('close answers what is pending once it is on disk, even with a sync under way', () =>
  withFileStore(async (store, path) => {
    const syncs = holdSyncs();
    const first = store.messages.append(incoming('first'));
    await settled(first);
    const second = store.messages.append(incoming('second'));
    const closed = store.close();
    syncs.release();
    await closed;
    assert.deepEqual([(await first).text, (await second).text], ['first', 'second']);
    const reopened = await SqliteStore.open(path);
    try {
      assert.deepEqual((await reopened.messages.list({ afterId: 0, limit: 10 })).map((m) => m.text), ['first', 'second']);
    } finally {
      await reopened.close();
    }
  }));
