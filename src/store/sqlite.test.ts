import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { IncomingMessage } from '../messenger/message.js';
import { SqliteStore, StoreLockedError } from './sqlite.js';

const message = (text: string): IncomingMessage => ({ from: 'BOB', to: 'ALICE', text, via: 'local', senderUid: 1000, senderAddress: null });

test('SqliteStore: appends in one tick are committed together, listed oldest first and paged', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ns-store-'));
  const store = await SqliteStore.open(join(dir, 'netsend.db'));
  try {
    const stored = await Promise.all(Array.from({ length: 500 }, (_, i) => store.append(message(`m${i}`))));
    assert.deepEqual(stored.map((m) => m.id), Array.from({ length: 500 }, (_, i) => i + 1));
    assert.ok(stored.every((m) => m.receivedAt instanceof Date && m.senderUid === 1000));
    const page = await store.list({ afterId: 490, limit: 5 });
    assert.deepEqual(page.map((m) => m.text), ['m490', 'm491', 'm492', 'm493', 'm494']);
    assert.deepEqual(await store.list({ afterId: 500, limit: 5 }), []);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('SqliteStore: a second open of the same database is refused while the first holds it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ns-store-'));
  const path = join(dir, 'netsend.db');
  try {
    const first = await SqliteStore.open(path);
    await first.append(message('kept'));
    await first.saveAlias('CAROL', 1000);
    await assert.rejects(SqliteStore.open(path), (e: unknown) => e instanceof StoreLockedError && e.code === 'NETSEND_STORE_LOCKED');
    await first.close();
    const second = await SqliteStore.open(path);
    assert.deepEqual(second.addedAliases.map((a) => a.name), ['CAROL']);
    assert.deepEqual((await second.list({ afterId: 0, limit: 10 })).map((m) => m.text), ['kept']);
    await second.deleteAlias('CAROL');
    await second.close();
    const third = await SqliteStore.open(path);
    assert.deepEqual(third.addedAliases, []);
    await third.close();
    await assert.rejects(third.append(message('late')), /closed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
