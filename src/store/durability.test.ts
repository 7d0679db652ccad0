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

async function withFileStore(run: (store: SqliteStore, path: string) => Promise<void>, open: (dir: string) => string = (dir) => join(dir, 'netsend.db')): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-durable-'));
  const path = open(dir);
  const store = await SqliteStore.open(path);
  try {
    await run(store, path);
  } finally {
    await store.close().catch(() => undefined);
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

test('a file store is in WAL mode with synchronous = NORMAL and syncs the log itself; one in memory leaves each commit to SQLite (FULL)', async () => {
  await withFileStore(async (store) => assert.deepEqual(store.durability, { journalMode: 'wal', synchronous: 1, logSyncedBy: 'store' }));
  const memory = await SqliteStore.open(':memory:');
  assert.deepEqual(memory.durability, { journalMode: 'memory', synchronous: 2, logSyncedBy: 'sqlite' });
  await memory.close();
});

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

test('appends made while a sync is under way wait for the next one; a read sees the writes made before it, no later ones, and is answered once they are on disk', () =>
  withFileStore(async (store) => {
    const syncs = holdSyncs();
    const first = store.messages.append(incoming('first'));
    await settled(first);
    const second = store.messages.append(incoming('second'));
    const read = store.messages.list({ afterId: 0, limit: 10 });
    assert.equal(await settled(second), false);
    assert.equal(syncs.count, 1, 'the second commit waits for the sync under way to end before its own');
    // made in a later turn than the read: committed after it runs, before it is answered
    const third = store.messages.append(incoming('third'));
    await settled(third);
    syncs.release();
    await first;
    assert.equal(await settled(read), false, 'the read comes after the second append, which is not on disk yet');
    assert.equal(syncs.count, 1);
    syncs.release();
    await second;
    assert.deepEqual((await read).map((m) => m.text), ['first', 'second'], 'what there was when it was made, not the third');
    await third;
  }));

test('a read made while a sync is under way is answered when it ends; one made with nothing waiting is answered at once', () =>
  withFileStore(async (store) => {
    const syncs = holdSyncs();
    const first = store.messages.append(incoming('first'));
    await settled(first);
    const read = store.messages.list({ afterId: 0, limit: 10 });
    assert.equal(await settled(read), false, 'it sees the first message, whose sync is under way');
    syncs.release();
    assert.deepEqual((await read).map((m) => m.text), ['first']);
    assert.equal(await settled(store.messages.list({ afterId: 0, limit: 10 })), true);
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
    await assert.rejects(store.close(), /could not put its log on disk/, 'close says the store failed');
  }));

test('a read queued behind writes when a sync fails is rejected, not answered', () =>
  withFileStore(async (store) => {
    const syncs = holdSyncs();
    const append = store.messages.append(incoming('one'));
    const read = store.messages.list({ afterId: 0, limit: 10 });
    await settled(append);
    syncs.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await assert.rejects(append, /could not put its log on disk/);
    await assert.rejects(read, /could not put its log on disk/);
  }));

test('writes waiting for a sync under way when it fails are rejected and never committed; a call queued behind them is rejected, not run', () =>
  withFileStore(async (store) => {
    const syncs = holdSyncs();
    const first = store.messages.append(incoming('first'));
    await settled(first);
    const waiting = store.messages.append(incoming('waiting'));
    const read = store.messages.list({ afterId: 0, limit: 10 });
    assert.equal(await settled(waiting), false);
    syncs.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await assert.rejects(first, /could not put its log on disk/);
    await assert.rejects(waiting, /could not put its log on disk/);
    await assert.rejects(read, /could not put its log on disk/);
    assert.equal(syncs.count, 0, 'nothing more was committed, so nothing more was synced');
  }));

test('a read made between two writes of one turn sees the first and not the second', () =>
  withFileStore(async (store) => {
    const before = store.messages.append(incoming('before'));
    const read = store.messages.list({ afterId: 0, limit: 10 });
    const after = store.messages.append(incoming('after'));
    assert.deepEqual((await read).map((m) => m.text), ['before']);
    await Promise.all([before, after]);
    assert.deepEqual((await store.messages.list({ afterId: 0, limit: 10 })).map((m) => m.text), ['before', 'after']);
  }));

test('a store opened through a symlink syncs the log SQLite writes, beside the file the link leads to', () =>
  withFileStore(
    async (store) => {
      const syncs = holdSyncs();
      const append = store.messages.append(incoming('through a link'));
      await settled(append);
      assert.match(syncs.file ?? '', /real\/netsend\.db-wal$/);
      syncs.release();
      await append;
    },
    (dir) => {
      fs.mkdirSync(join(dir, 'real'));
      fs.mkdirSync(join(dir, 'links'));
      // a stale log beside the link must not be the one synced
      fs.writeFileSync(join(dir, 'links', 'netsend.db-wal'), 'stale');
      fs.symlinkSync(join(dir, 'real', 'netsend.db'), join(dir, 'links', 'netsend.db'));
      return join(dir, 'links', 'netsend.db');
    },
  ));

test('after SQLite checkpoints and starts its log over, the store still syncs the live log', () =>
  withFileStore(async (store) => {
    // about 6,000 pages: past the automatic checkpoint at 1,000, so the log is started over in place
    for (let i = 0; i < 30; i++) await Promise.all(Array.from({ length: 50 }, () => store.messages.append(incoming('x'.repeat(12_000)))));
    const syncs = holdSyncs();
    const append = store.messages.append(incoming('after'));
    await settled(append);
    assert.match(syncs.file ?? '', /netsend\.db-wal$/, 'not a deleted file');
    syncs.release();
    await append;
  }));

test('close answers what is pending (a call made after a write among it) once it is on disk, even with a sync under way, and syncs before it answers', () =>
  withFileStore(async (store, path) => {
    const syncs = holdSyncs();
    const first = store.messages.append(incoming('first'));
    await settled(first);
    const second = store.messages.append(incoming('second'));
    const token = store.accounts.addToken('c'.repeat(64), 'ops');
    const syncedAtClose: string[] = [];
    const realSyncNow = fs.fdatasyncSync;
    fs.fdatasyncSync = (fd: number) => {
      syncedAtClose.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
      realSyncNow(fd);
    };
    syncBuiltinESMExports();
    const closed = store.close();
    assert.equal(store.close(), closed, 'a second close is the first');
    syncs.release();
    try {
      await closed;
    } finally {
      fs.fdatasyncSync = realSyncNow;
    }
    assert.match(syncedAtClose.join(), /netsend\.db-wal$/, 'close synced the log before answering');
    assert.deepEqual([(await first).text, (await second).text], ['first', 'second']);
    await token;
    const reopened = await SqliteStore.open(path);
    try {
      assert.deepEqual((await reopened.messages.list({ afterId: 0, limit: 10 })).map((m) => m.text), ['first', 'second']);
    } finally {
      await reopened.close();
    }
  }));
