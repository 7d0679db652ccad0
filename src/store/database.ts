import Database from 'better-sqlite3';
import type { IncomingMessage, StoredMessage, Via } from '../messenger/message.js';
import { MIGRATIONS } from './migrations.js';

/** The database is held by another process: another daemon runs on this data dir. */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  readonly code = 'NETSEND_STORE_LOCKED';
}

interface MessageRow {
  id: number;
  from_name: string;
  to_name: string;
  text: string;
  received_at: number;
  via: string;
  sender_uid: number | null;
  sender_address: string | null;
}

export interface PendingMessage {
  readonly message: IncomingMessage;
  /** ms since the epoch, taken when the message arrived */
  readonly receivedAt: number;
}

/**
 * The inbox and alias table in SQLite, synchronous (better-sqlite3). It runs in the store's
 * worker thread, so its fsyncs never hold up the daemon's event loop.
 *
 * WAL with `synchronous = FULL`: a commit is on disk when it returns. Exclusive locking mode
 * keeps the database locked for the life of the connection: a second daemon on the same data
 * dir cannot open it, and the kernel drops the lock if this one dies.
 */
export class SqliteDatabase {
  readonly #db: Database.Database;
  readonly #insertMessage: Database.Statement;
  readonly #selectMessages: Database.Statement<[number, number], MessageRow>;
  readonly #insertAlias: Database.Statement;
  readonly #deleteAlias: Database.Statement;
  readonly #selectAliases: Database.Statement<[], { name: string }>;
  readonly #insertBatch: (batch: readonly PendingMessage[]) => number[];

  constructor(path: string) {
    this.#db = new Database(path, { timeout: 0 });
    try {
      this.#db.pragma('locking_mode = EXCLUSIVE');
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#migrate();
    } catch (error) {
      this.#db.close();
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_BUSY') {
        throw new StoreLockedError(`The database ${path} is in use by another process.`, { cause: error });
      }
      throw error;
    }
    this.#insertMessage = this.#db.prepare(
      `INSERT INTO messages (from_name, to_name, text, received_at, via, sender_uid, sender_address)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#selectMessages = this.#db.prepare(`SELECT * FROM messages WHERE id > ? ORDER BY id LIMIT ?`);
    this.#insertAlias = this.#db.prepare(`INSERT OR REPLACE INTO aliases (name, added_at, added_by_uid) VALUES (?, ?, ?)`);
    this.#deleteAlias = this.#db.prepare(`DELETE FROM aliases WHERE name = ?`);
    this.#selectAliases = this.#db.prepare(`SELECT name FROM aliases ORDER BY added_at, name`);
    this.#insertBatch = this.#db.transaction((batch: readonly PendingMessage[]) =>
      batch.map(({ message: m, receivedAt }) =>
        Number(this.#insertMessage.run(m.from, m.to, m.text, receivedAt, m.via, m.senderUid, m.senderAddress).lastInsertRowid),
      ),
    );
  }

  /** Commits the messages in one transaction (one fsync) and returns their ids. */
  insertMessages(batch: readonly PendingMessage[]): number[] {
    return this.#insertBatch(batch);
  }

  listMessages(afterId: number, limit: number): StoredMessage[] {
    return this.#selectMessages.all(afterId, limit).map(rowToMessage);
  }

  loadAliases(): string[] {
    return this.#selectAliases.all().map((row) => row.name);
  }

  saveAlias(name: string, addedByUid: number | null): void {
    this.#insertAlias.run(name, Date.now(), addedByUid);
  }

  deleteAlias(name: string): void {
    this.#deleteAlias.run(name);
  }

  close(): void {
    this.#db.close();
  }

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

function rowToMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    from: row.from_name,
    to: row.to_name,
    text: row.text,
    receivedAt: new Date(row.received_at),
    via: row.via as Via,
    senderUid: row.sender_uid,
    senderAddress: row.sender_address,
  };
}
