/**
 * SqliteStore (sqlite.ts, database.ts): one contract run against an in-memory database
 * and a file database, then what only a file can show (reopen, lock, migrations).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { IncomingMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import { EXPIRED_SQL, WAITING_SQL } from './events.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteStore, StoreLockedError } from './sqlite.js';

const incoming = (text: string, fields: Partial<IncomingMessage> = {}): IncomingMessage => ({
  from: 'BOB', to: 'ALICE', text, via: 'local', sender: senderOf({ uid: 1000 }), ...fields,
});

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-sqlite-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The two stores every contract test runs against, each opened fresh and closed after. */
const backends: Array<[string, (run: (store: SqliteStore) => Promise<void>) => Promise<void>]> = [
  [
    'an in-memory SqliteStore',
    async (run) => {
      const store = await SqliteStore.open(':memory:');
      try {
        await run(store);
      } finally {
        await store.close();
      }
    },
  ],
  [
    'a file SqliteStore',
    (run) =>
      withTempDir(async (dir) => {
        const store = await SqliteStore.open(join(dir, 'netsend.db'));
        try {
          await run(store);
        } finally {
          await store.close();
        }
      }),
  ],
];

for (const [label, withStore] of backends) {
  describe(label, () => {
    test('append resolves with increasing ids, a receivedAt of now and the message as given', () =>
      withStore(async (store) => {
        const before = Date.now();
        const first = await store.messages.append(incoming('one'));
        const second = await store.messages.append(incoming('two', { via: 'smb', sender: senderOf({ address: '10.0.0.9', port: 40000 }) }));
        const after = Date.now();
        assert.deepEqual({ ...first, receivedAt: null }, { ...incoming('one'), id: first.id, receivedAt: null });
        assert.ok(first.id >= 1 && second.id > first.id, `ids ${first.id}, ${second.id}`);
        for (const m of [first, second]) {
          assert.ok(m.receivedAt instanceof Date);
          assert.ok(m.receivedAt.getTime() >= before && m.receivedAt.getTime() <= after, m.receivedAt.toISOString());
        }
        assert.deepEqual([second.sender.address, second.sender.port], ['10.0.0.9', 40000]);
        assert.equal(second.sender.uid, null);
      }));

    test('list gives back every field, oldest first, including the exact receivedAt and odd text', () =>
      withStore(async (store) => {
        const text = 'line 1\r\nNUL\u0000 é 中 😀 \'quote" ; DROP TABLE messages;';
        const a = await store.messages.append(incoming(text, { from: 'REMOTE', to: 'HELPDESK', via: 'mailslot', sender: senderOf({ address: '10.0.0.9', port: 138 }) }));
        const b = await store.messages.append(incoming(''));
        assert.deepEqual(await store.messages.list({ afterId: 0, limit: 10 }), [a, b]);
      }));

    test('list pages with afterId and limit', () =>
      withStore(async (store) => {
        for (let i = 1; i <= 7; i++) await store.messages.append(incoming(`m${i}`));
        const texts = async (afterId: number, limit: number) => (await store.messages.list({ afterId, limit })).map((m) => m.text);
        assert.deepEqual(await texts(0, 3), ['m1', 'm2', 'm3']);
        assert.deepEqual(await texts(3, 3), ['m4', 'm5', 'm6']);
        assert.deepEqual(await texts(6, 3), ['m7']);
        assert.deepEqual(await texts(7, 3), []);
        assert.deepEqual(await texts(0, 0), [], 'limit 0 gives nothing');
        let afterId = 0;
        const seen: string[] = [];
        let pages = 0;
        for (; pages < 10; pages++) {
          const page = await store.messages.list({ afterId, limit: 2 });
          if (page.length === 0) break;
          seen.push(...page.map((m) => m.text));
          afterId = page.at(-1)?.id ?? afterId;
        }
        assert.equal(pages, 4, 'seven messages in pages of two: four pages, then an empty one');
        assert.deepEqual(seen, ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'], 'walking the pages sees each message once');
      }));

    test('500 appends started in the same tick all resolve, numbered 1 to 500 in call order, and list back in pages', () =>
      withStore(async (store) => {
        const stored = await Promise.all(Array.from({ length: 500 }, (_, i) => store.messages.append(incoming(`burst ${i}`))));
        assert.deepEqual(stored.map((m) => m.id), Array.from({ length: 500 }, (_, i) => i + 1), 'a new database numbers them 1..500, in the order append was called');
        assert.deepEqual(stored.map((m) => m.text), Array.from({ length: 500 }, (_, i) => `burst ${i}`));
        assert.ok(stored.every((m) => m.receivedAt instanceof Date && m.sender.uid === 1000), 'every one resolves with a receivedAt and the given fields');
        assert.deepEqual(await store.messages.list({ afterId: 0, limit: 1000 }), stored);
        assert.deepEqual((await store.messages.list({ afterId: 490, limit: 5 })).map((m) => m.text), ['burst 490', 'burst 491', 'burst 492', 'burst 493', 'burst 494']);
        assert.deepEqual(await store.messages.list({ afterId: 500, limit: 5 }), []);
      }));

    test('saveAlias and deleteAlias resolve, also for a repeated save and an unknown delete', () =>
      withStore(async (store) => {
        assert.deepEqual(store.aliases.addedAliases, [], 'a new database has no added aliases');
        await store.aliases.saveAlias('CAROL', 1000);
        await store.aliases.saveAlias('CAROL', null);
        await store.aliases.saveAlias('DAVE', null);
        await store.aliases.deleteAlias('DAVE');
        await store.aliases.deleteAlias('NOBODY');
      }));

    test('after close every call rejects saying the store is closed, and close again resolves', () =>
      withStore(async (store) => {
        await store.messages.append(incoming('before'));
        await store.close();
        await assert.rejects(store.messages.append(incoming('late')), /The store is closed/);
        await assert.rejects(store.messages.list({ afterId: 0, limit: 1 }), /The store is closed/);
        await assert.rejects(store.aliases.saveAlias('LATE', null), /The store is closed/);
        await store.close();
      }));
  });
}

describe('what only separate or file databases show', () => {
  test('two in-memory SqliteStores are separate databases and do not lock each other', async () => {
    const a = await SqliteStore.open(':memory:');
    const b = await SqliteStore.open(':memory:');
    try {
      await a.messages.append(incoming('only in a'));
      assert.deepEqual(await b.messages.list({ afterId: 0, limit: 10 }), []);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a file SqliteStore keeps messages, aliases and alias deletions across close and reopen', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'netsend.db');
      const first = await SqliteStore.open(path);
      const kept = await Promise.all([first.messages.append(incoming('kept 1')), first.messages.append(incoming('kept 2'))]);
      await first.aliases.saveAlias('CAROL', 1000);
      await first.aliases.saveAlias('ADAM', null);
      await first.aliases.saveAlias('GONE', null);
      await first.aliases.deleteAlias('GONE');
      await first.close();

      const second = await SqliteStore.open(path);
      try {
        assert.deepEqual([...second.aliases.addedAliases].map((a) => a.name).sort(), ['ADAM', 'CAROL']);
        assert.ok(Object.isFrozen(second.aliases.addedAliases));
        assert.deepEqual(await second.messages.list({ afterId: 0, limit: 10 }), kept);
        const next = await second.messages.append(incoming('after reopen'));
        assert.ok(next.id > (kept[1]?.id ?? Infinity), 'ids keep increasing after a reopen');
        await second.aliases.deleteAlias('ADAM');
      } finally {
        await second.close();
      }

      const third = await SqliteStore.open(path);
      try {
        assert.deepEqual(third.aliases.addedAliases.map((a) => a.name), ['CAROL'], 'an alias deleted after a reopen stays deleted');
      } finally {
        await third.close();
      }
    }));

  test('a second SqliteStore on the same file is refused with StoreLockedError while the first is open; after close it opens', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'netsend.db');
      const first = await SqliteStore.open(path);
      await first.messages.append(incoming('held'));
      await assert.rejects(SqliteStore.open(path), (e: unknown) => {
        assert.ok(e instanceof StoreLockedError, String(e));
        assert.equal(e.code, 'NETSEND_STORE_LOCKED');
        assert.equal(e.name, 'StoreLockedError');
        assert.equal(e.message, `The database ${path} is in use by another process.`);
        return true;
      });
      assert.equal((await first.messages.append(incoming('still mine'))).text, 'still mine', 'the refused open did not disturb the first');
      await first.close();
      const second = await SqliteStore.open(path);
      try {
        assert.deepEqual((await second.messages.list({ afterId: 0, limit: 10 })).map((m) => m.text), ['held', 'still mine']);
      } finally {
        await second.close();
      }
    }));

  test('reopening a file SqliteStore runs no migration twice: user_version stays at the number of migrations', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'netsend.db');
      for (let round = 1; round <= 3; round++) {
        const store = await SqliteStore.open(path);
        await store.messages.append(incoming(`round ${round}`));
        await store.close();
        const db = new Database(path, { readonly: true });
        try {
          assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length, `after open ${round}`);
          assert.deepEqual(db.prepare('SELECT text FROM messages ORDER BY id').pluck().all(), Array.from({ length: round }, (_, i) => `round ${i + 1}`));
        } finally {
          db.close();
        }
      }
    }));

  test('a database of migration 4 keeps its tokens and host key bindings on upgrade; they read as API tokens (only hashes were kept)', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'netsend.db');
      const db = new Database(path);
      db.exec(MIGRATIONS.slice(0, 4).join(';\n'));
      db.pragma('user_version = 4');
      db.prepare(`INSERT INTO users (name, password_hash, created_at) VALUES ('ops', NULL, 1)`).run();
      db.prepare(`INSERT INTO tokens (hash, user_name, created_at) VALUES (?, 'ops', 2), (?, 'ops', 3)`).run('a'.repeat(64), 'b'.repeat(64));
      db.close();
      const store = await SqliteStore.open(path);
      try {
        assert.equal(await store.accounts.userForToken('b'.repeat(64)), 'ops');
        assert.deepEqual(await store.accounts.listTokens('ops'), [
          { hash: 'a'.repeat(64), hostKey: null, createdAt: 2 },
          { hash: 'b'.repeat(64), hostKey: null, createdAt: 3 },
        ]);
        await store.accounts.addToken('c'.repeat(64), 'ops', `SHA256:${'A'.repeat(43)}`);
        assert.equal((await store.accounts.listTokens('ops')).at(-1)?.hostKey, `SHA256:${'A'.repeat(43)}`);
        assert.equal(await store.accounts.deleteTokens('ops', ['a'.repeat(64), 'd'.repeat(64)]), 1);
        assert.equal(await store.accounts.deleteTokens('OPS', null), 2, 'account names compare without case');
      } finally {
        await store.close();
      }
    }));

  test('a file SqliteStore refuses a database from a newer netsend (user_version above its migrations)', () =>
    withTempDir(async (dir) => {
      const path = join(dir, 'netsend.db');
      const db = new Database(path);
      db.pragma(`user_version = ${MIGRATIONS.length + 5}`);
      db.close();
      await assert.rejects(SqliteStore.open(path), (e: unknown) => {
        assert.ok(e instanceof Error && !(e instanceof StoreLockedError), String(e));
        assert.equal(e.message, `The database schema (version ${MIGRATIONS.length + 5}) is newer than this netsend (${MIGRATIONS.length})`);
        return true;
      });
    }));
});

test("a recipient's messages, newest first or after an id, are read through the recipient index, not by scanning the inbox", () => {
  const db = new Database(':memory:');
  try {
    db.exec(MIGRATIONS.join(';\n'));
    const plan = (sql: string, ...args: unknown[]) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((row) => row.detail).join('; ');
    // the queries of store/messages.ts for an account that sees its own alias and the workgroup
    const newest = plan(`SELECT * FROM messages WHERE id > ? AND to_name COLLATE NOCASE IN (?, ?) ORDER BY id DESC LIMIT ?`, 0, 'ALICE', 'WORKGROUP', 50);
    const after = plan(`SELECT * FROM messages WHERE id > ? AND to_name COLLATE NOCASE IN (?, ?) ORDER BY id LIMIT ?`, 10, 'ALICE', 'WORKGROUP', 50);
    for (const detail of [newest, after]) {
      assert.match(detail, /USING INDEX messages_by_recipient/, detail);
      assert.doesNotMatch(detail, /^SCAN messages(?! USING)/, detail);
    }
  } finally {
    db.close();
  }
});

test("the sweeps' pages start their range on the expiry index at the cursor, so a page costs the same at any depth", () => {
  const db = new Database(':memory:');
  try {
    db.exec(MIGRATIONS.join(';\n'));
    // bound as the sweep binds them: whole numbers, one per parameter
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...sql.split('?').slice(1).map(() => 1)) as Array<{ detail: string }>).map((row) => row.detail);
    for (const sql of [EXPIRED_SQL, WAITING_SQL]) {
      const steps = plan(sql);
      // a SEARCH with a lower bound on expires_at; no SCAN of messages, no sort (the index gives the order)
      assert.match(steps[0] ?? '', /^SEARCH m USING INDEX messages_by_expiry \(expires_at>\?/, steps.join('; '));
      assert.ok(!steps.some((step) => /^SCAN m\b|USE TEMP B-TREE/.test(step)), steps.join('; '));
    }
  } finally {
    db.close();
  }
});
