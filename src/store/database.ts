import Database from 'better-sqlite3';
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, realpathSync } from 'node:fs';
import { accountQueries, type AccountQueries } from './accounts.js';
import { aliasQueries, policyQueries, type AliasQueries, type PolicyQueries } from './aliases.js';
import { auditQueries, type AuditQueries } from './audit.js';
import { StoreLockedError } from './errors.js';
import { eventQueries, type EventQueries } from './events.js';
import { hubQueries, type HubQueries } from './hub.js';
import { messageQueries, type MessageQueries } from './messages.js';
import { MIGRATIONS } from './migrations.js';

export { StoreLockedError } from './errors.js';
export { MAX_STATE_QUERY } from './events.js';
export type { PendingMessage } from './messages.js';

/** The database's queries by area; the store (sqlite.ts) runs them on request, and commits writes together. */
export interface StoreAreas {
  readonly messages: MessageQueries;
  readonly events: EventQueries;
  readonly accounts: AccountQueries;
  readonly audit: AuditQueries;
  readonly policies: PolicyQueries;
  readonly aliases: AliasQueries;
  readonly hub: HubQueries;
}
export type StoreArea = keyof StoreAreas;

// Every area's queries are also methods of the database itself (Object.assign in the
// constructor), as they were before the split: src/messenger/receipts.test.ts names them flat.
export interface SqliteDatabase extends MessageQueries, EventQueries, AccountQueries, AuditQueries, PolicyQueries, AliasQueries, HubQueries {}

/**
 * The WAL of the database at `path`, opened to be synced. SQLite keeps it beside the file a
 * symlink leads to, and the migration's write transaction has made it; in exclusive locking mode
 * it is the same file until the connection closes (a checkpoint starts it over in place).
 */
function openLog(path: string): number {
  const fd = openSync(`${realpathSync(path)}-wal`, 'r+');
  const stat = fstatSync(fd);
  if (!stat.isFile() || stat.nlink === 0 || stat.size === 0) {
    closeSync(fd);
    throw new Error(`The write-ahead log of ${path} is not where SQLite keeps it`);
  }
  return fd;
}

/**
 * The inbox, event log, accounts, audit log, aliases and policies in SQLite, synchronous
 * (better-sqlite3), on the daemon's thread; the store (sqlite.ts) commits writes together (group
 * commit). The queries live in one module per area (messages.ts, events.ts, …).
 *
 * WAL with `synchronous = NORMAL`, and the log's fsync taken by the store itself (`syncLog`): a
 * commit is on disk once the log sync that follows it is done. This is what `synchronous = FULL`
 * does inside each commit (SQLite syncs the WAL after writing it, and syncs again around each
 * checkpoint, as NORMAL does too); taken out of the commit, the wait for the disk runs in libuv's
 * thread pool, off the event loop, and one sync serves every commit made before it. A database
 * that is not in WAL mode (in memory, or a file system without it) keeps `synchronous = FULL`.
 *
 * Exclusive locking mode keeps the database locked for the life of the connection: a second
 * daemon on the same data dir cannot open it, and the kernel drops the lock if this one dies. It
 * also keeps the WAL file from being deleted before the connection closes, so the descriptor the
 * store syncs stays the log's.
 */
export class SqliteDatabase {
  readonly #db: Database.Database;
  /** The WAL's descriptor, when the store syncs the log itself (WAL mode). */
  #log: number | undefined;
  readonly areas: StoreAreas;

  constructor(path: string) {
    this.#db = new Database(path, { timeout: 0 });
    try {
      this.#db.pragma('locking_mode = EXCLUSIVE');
      const wal = this.#db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
      this.#db.pragma(`synchronous = ${wal ? 'NORMAL' : 'FULL'}`);
      this.#migrate();
      if (wal) this.#log = openLog(path);
    } catch (error) {
      this.#db.close();
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_BUSY') {
        throw new StoreLockedError(`The database ${path} is in use by another process.`, { cause: error });
      }
      throw error;
    }
    // the statements are prepared once the schema is there
    this.areas = Object.freeze({
      messages: messageQueries(this.#db),
      events: eventQueries(this.#db),
      accounts: accountQueries(this.#db),
      audit: auditQueries(this.#db),
      policies: policyQueries(this.#db),
      aliases: aliasQueries(this.#db),
      hub: hubQueries(this.#db),
    });
    for (const queries of Object.values(this.areas)) Object.assign(this, queries);
  }

  close(): void {
    this.#db.close();
    if (this.#log !== undefined) closeSync(this.#log);
    this.#log = undefined;
  }

  /** How commits reach the disk: `store` when the store syncs the WAL itself (`syncLog`), `sqlite` when each commit does (synchronous = FULL). */
  get durability(): { journalMode: string; synchronous: number; logSyncedBy: 'store' | 'sqlite' } {
    return {
      journalMode: this.#db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.#db.pragma('synchronous', { simple: true }) as number,
      logSyncedBy: this.#log === undefined ? 'sqlite' : 'store',
    };
  }

  /** Rows changed since the connection opened: a statement that moved it committed something. */
  totalChanges(): number {
    this.#totalChanges ??= this.#db.prepare<[], number>('SELECT total_changes()').pluck();
    return this.#totalChanges.get() as number;
  }

  #totalChanges: Database.Statement<[], number> | undefined;

  /** Puts every commit made so far on disk, in the thread pool; `done` runs on the event loop. */
  syncLog(done: (error: Error | null) => void): void {
    if (this.#log === undefined) queueMicrotask(() => done(null));
    else fdatasync(this.#log, done);
  }

  /** syncLog, blocking: for the last commits at close. */
  syncLogNow(): void {
    if (this.#log !== undefined) fdatasyncSync(this.#log);
  }

  /**
   * Runs each of `writes` in one transaction, so one commit (one fsync) serves them all; each of
   * two or more in a savepoint of its own, so one that throws undoes only its own changes and the
   * others stand.
   * @throws when the commit itself fails, or the only write throws (either way, nothing is stored)
   */
  commitTogether(writes: ReadonlyArray<() => unknown>): Array<{ value: unknown } | { error: unknown }> {
    // One write: a transaction of its own, which undoes it (and nothing else) if it throws. Called
    // inside a transaction, the same function runs its write in a savepoint: each of several.
    this.#one ??= this.#db.transaction((write: () => unknown) => write());
    const one = this.#one;
    if (writes.length === 1) return [{ value: one(writes[0] as () => unknown) }];
    if (this.#together === undefined) {
      this.#together = this.#db.transaction((all: ReadonlyArray<() => unknown>) =>
        all.map((write) => {
          try {
            return { value: one(write) };
          } catch (error) {
            // an error that ended the whole transaction (disk full, I/O): nothing after it may commit alone
            if (!this.#db.inTransaction) throw error;
            return { error };
          }
        }),
      );
    }
    return this.#together(writes);
  }

  #one: ((write: () => unknown) => unknown) | undefined;
  #together: ((writes: ReadonlyArray<() => unknown>) => Array<{ value: unknown } | { error: unknown }>) | undefined;

  #migrate(): void {
    // BEGIN IMMEDIATE takes the write lock now, so a second daemon fails here, before doing anything.
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const applied = this.#db.pragma('user_version', { simple: true }) as number;
      if (applied > MIGRATIONS.length) {
        throw new Error(`The database schema (version ${applied}) is newer than this netsend (${MIGRATIONS.length})`);
      }
      for (let version = applied; version < MIGRATIONS.length; version++) this.#db.exec(MIGRATIONS[version] ?? '');
      this.#db.pragma(`user_version = ${MIGRATIONS.length}`);
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}
