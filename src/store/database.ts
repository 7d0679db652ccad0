import Database from 'better-sqlite3';
import type { StoredAlias } from '../messenger/aliases.js';
import { STATE_RANK, type MessageEvent, type MessageEventInput, type MessageStates } from '../messenger/events.js';
import type { IncomingMessage, MessageQuery, Priority, StoredMessage, Via } from '../messenger/message.js';
import type { SweepCursor } from '../messenger/receipts.js';
import type { StoredCredential, UserRecord, UserSummary } from '../security/accounts.js';
import type { AuditEntry, AuditRecord } from '../security/audit.js';
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
  sender_user: string | null;
  sender_host: string | null;
  priority: string;
  expires_at: number | null;
}


/** The methods the store worker runs on request (beyond appends, which it batches). */
export const STORE_CALLS = [
  'getUser',
  'putUser',
  'deleteUser',
  'listUsers',
  'setMembership',
  'addToken',
  'userForToken',
  'listTokens',
  'deleteTokens',
  'appendAudit',
  'listAudit',
  'loadAliasPolicies',
  'putAliasPolicy',
  'findMessages',
  'getMessage',
  'recordMessageEvent',
  'listMessageEvents',
  'latestMessageStates',
  'expiredMessages',
  'waitingMessages',
] as const;
export type StoreCall = (typeof STORE_CALLS)[number];



/** A message nobody has seen yet and that is not marked expired. */
const NOT_SEEN = `NOT EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = m.id AND e.state IN ('shown', 'read', 'acknowledged', 'expired'))`;

/** Most ids one state query takes (the page size of the web inbox is far below it). */
export const MAX_STATE_QUERY = 1000;

interface EventRow {
  id: number;
  message_id: number;
  state: string;
  surface: string;
  by: string | null;
  at: number;
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
  readonly #selectAliases: Database.Statement<[], { name: string; added_by_uid: number | null }>;
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
      `INSERT INTO messages (from_name, to_name, text, received_at, via, sender_uid, sender_address, sender_user, sender_host, priority, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#selectMessages = this.#db.prepare(`SELECT * FROM messages WHERE id > ? ORDER BY id LIMIT ?`);
    this.#insertAlias = this.#db.prepare(`INSERT OR REPLACE INTO aliases (name, added_at, added_by_uid) VALUES (?, ?, ?)`);
    this.#deleteAlias = this.#db.prepare(`DELETE FROM aliases WHERE name = ?`);
    this.#selectAliases = this.#db.prepare(`SELECT name, added_by_uid FROM aliases ORDER BY added_at, name`);
    this.#insertBatch = this.#db.transaction((batch: readonly PendingMessage[]) =>
      batch.map(({ message: m, receivedAt }) =>
        Number(this.#insertMessage.run(m.from, m.to, m.text, receivedAt, m.via, m.senderUid, m.senderAddress, m.senderUser ?? null, m.senderHost ?? null, m.priority ?? 'normal', m.expiresAt ?? null)
            .lastInsertRowid),
      ),
    );
  }

  /** Commits the messages in one transaction (one fsync) and returns their ids. */
  insertMessages(batch: readonly PendingMessage[]): number[] {
    return this.#insertBatch(batch);
  }

  /** Messages after `afterId`, oldest first; only those to `recipients` (any case) when given. */
  listMessages(afterId: number, limit: number, recipients: readonly string[] | null = null): StoredMessage[] {
    if (recipients === null) return this.#selectMessages.all(afterId, limit).map(rowToMessage);
    if (recipients.length === 0) return [];
    const rows = this.#db
      .prepare(`SELECT * FROM messages WHERE id > ? AND to_name COLLATE NOCASE IN (${recipients.map(() => '?').join(', ')}) ORDER BY id LIMIT ?`)
      .all(afterId, ...recipients, limit) as MessageRow[];
    return rows.map(rowToMessage);
  }

  loadAliases(): StoredAlias[] {
    return this.#selectAliases.all().map((row) => ({ name: row.name, addedByUid: row.added_by_uid }));
  }

  saveAlias(name: string, addedByUid: number | null): void {
    this.#insertAlias.run(name, Date.now(), addedByUid);
  }

  deleteAlias(name: string): void {
    this.#deleteAlias.run(name);
  }

  getUser(name: string): UserRecord | null {
    const row = this.#db.prepare(`SELECT name, password_hash FROM users WHERE name = ?`).get(name) as { name: string; password_hash: string | null } | undefined;
    if (row === undefined) return null;
    return { name: row.name, passwordHash: row.password_hash, groups: this.#groupsOf(row.name) };
  }

  /** Creates the account, or sets its password when it exists. */
  putUser(name: string, passwordHash: string | null): void {
    this.#db
      .prepare(`INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash`)
      .run(name, passwordHash, Date.now());
  }

  /** Deletes the account with its memberships and tokens; false when there was none. */
  deleteUser(name: string): boolean {
    return this.#db.transaction(() => {
      this.#db.prepare(`DELETE FROM memberships WHERE user_name = ?`).run(name);
      this.#db.prepare(`DELETE FROM tokens WHERE user_name = ?`).run(name);
      return this.#db.prepare(`DELETE FROM users WHERE name = ?`).run(name).changes > 0;
    })();
  }

  listUsers(): UserSummary[] {
    const rows = this.#db
      .prepare(`SELECT name, password_hash IS NOT NULL AS has_password, (SELECT count(*) FROM tokens t WHERE t.user_name = u.name) AS tokens FROM users u ORDER BY name`)
      .all() as Array<{ name: string; has_password: number; tokens: number }>;
    return rows.map((row) => ({ name: row.name, groups: this.#groupsOf(row.name), tokens: row.tokens, hasPassword: row.has_password === 1 }));
  }

  setMembership(user: string, group: string, member: boolean): void {
    if (member) this.#db.prepare(`INSERT OR IGNORE INTO memberships (user_name, group_name) VALUES (?, ?)`).run(user, group);
    else this.#db.prepare(`DELETE FROM memberships WHERE user_name = ? AND group_name = ?`).run(user, group);
  }

  addToken(hash: string, user: string, hostKey: string | null = null): void {
    this.#db.prepare(`INSERT INTO tokens (hash, user_name, created_at, host_key) VALUES (?, ?, ?, ?)`).run(hash, user, Date.now(), hostKey);
  }

  /** The account's API tokens and host keys, oldest first. */
  listTokens(user: string): StoredCredential[] {
    const rows = this.#db
      .prepare(`SELECT hash, host_key, created_at FROM tokens WHERE user_name = ? ORDER BY created_at, hash`)
      .all(user) as Array<{ hash: string; host_key: string | null; created_at: number }>;
    return rows.map((row) => ({ hash: row.hash, hostKey: row.host_key, createdAt: row.created_at }));
  }

  /** Deletes the account's credentials with these hashes (all of them when null); how many went. */
  deleteTokens(user: string, hashes: readonly string[] | null): number {
    if (hashes === null) return this.#db.prepare(`DELETE FROM tokens WHERE user_name = ?`).run(user).changes;
    const remove = this.#db.prepare(`DELETE FROM tokens WHERE user_name = ? AND hash = ?`);
    return this.#db.transaction(() => hashes.reduce((sum, hash) => sum + remove.run(user, hash).changes, 0))();
  }

  userForToken(hash: string): string | null {
    const row = this.#db.prepare(`SELECT user_name FROM tokens WHERE hash = ?`).get(hash) as { user_name: string } | undefined;
    return row?.user_name ?? null;
  }

  appendAudit(entry: AuditEntry): number {
    return Number(
      this.#db
        .prepare(`INSERT INTO audit (at, event, principal, source, detail, status) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(Date.now(), entry.event, entry.principal, entry.source, entry.detail, entry.status).lastInsertRowid,
    );
  }

  listAudit(afterId: number, limit: number): AuditRecord[] {
    return this.#db.prepare(`SELECT id, at, event, principal, source, detail, status FROM audit WHERE id > ? ORDER BY id LIMIT ?`).all(afterId, limit) as AuditRecord[];
  }

  /** Every alias's policy as the JSON text it was stored as. */
  loadAliasPolicies(): Array<{ name: string; policy: string }> {
    return this.#db.prepare(`SELECT name, policy FROM alias_policies ORDER BY name`).all() as Array<{ name: string; policy: string }>;
  }

  /** Stores an alias's policy; null removes it. */
  putAliasPolicy(name: string, policy: string | null): void {
    if (policy === null) this.#db.prepare(`DELETE FROM alias_policies WHERE name = ?`).run(name);
    else this.#db.prepare(`INSERT OR REPLACE INTO alias_policies (name, policy) VALUES (?, ?)`).run(name, policy);
  }

  findMessages(query: MessageQuery): StoredMessage[] {
    const where = ['id > ?'];
    const args: Array<string | number> = [query.afterId];
    if (query.beforeId !== null) {
      where.push('id < ?');
      args.push(query.beforeId);
    }
    if (query.recipients !== null) {
      if (query.recipients.length === 0) return [];
      where.push(`to_name COLLATE NOCASE IN (${query.recipients.map(() => '?').join(', ')})`);
      args.push(...query.recipients);
    }
    if (query.text !== null && query.text !== '') {
      const pattern = `%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(`(text LIKE ? ESCAPE '\\' OR from_name LIKE ? ESCAPE '\\' OR to_name LIKE ? ESCAPE '\\')`);
      args.push(pattern, pattern, pattern);
    }
    const rows = this.#db.prepare(`SELECT * FROM messages WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`).all(...args, query.limit) as MessageRow[];
    return rows.map(rowToMessage);
  }

  getMessage(id: number): StoredMessage | null {
    const row = this.#db.prepare(`SELECT * FROM messages WHERE id = ?`).get(id) as MessageRow | undefined;
    return row === undefined ? null : rowToMessage(row);
  }

  /**
   * Messages whose time to live ran out in (`expiredAfter`, `now`] (earlier ones were dealt with
   * by an earlier sweep), received before `receivedBefore`, never shown, read, acknowledged or
   * marked expired: the `limit` that expired first, to be marked expired.
   */
  expiredMessages(expiredAfter: number, now: number, receivedBefore: number, limit: number): StoredMessage[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM messages m WHERE m.expires_at > ? AND m.expires_at <= ? AND m.received_at < ? AND ${NOT_SEEN}
         ORDER BY m.expires_at, m.id LIMIT ?`,
      )
      .all(expiredAfter, now, receivedBefore, limit) as MessageRow[];
    return rows.map(rowToMessage);
  }

  /**
   * Messages still waiting for their recipient at `now`: not expired, received before
   * `receivedBefore`, never shown, read, acknowledged or expired. A page of `limit` in
   * (expires_at, id) order after `after` (null: from the start), so successive sweeps walk them all.
   */
  waitingMessages(after: SweepCursor | null, now: number, receivedBefore: number, limit: number): StoredMessage[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM messages m WHERE m.expires_at > ? AND (m.expires_at, m.id) > (?, ?) AND m.received_at < ? AND ${NOT_SEEN}
         ORDER BY m.expires_at, m.id LIMIT ?`,
      )
      .all(now, after?.expiresAt ?? now, after?.id ?? 0, receivedBefore, limit) as MessageRow[];
    return rows.map(rowToMessage);
  }

  /** Appends one event; null when there is no such message. */
  recordMessageEvent(event: MessageEventInput): MessageEvent | null {
    const at = Date.now();
    const result = this.#db
      .prepare(`INSERT INTO message_events (message_id, state, surface, "by", at) SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?)`)
      .run(event.messageId, event.state, event.surface, event.by, at, event.messageId);
    return result.changes === 0 ? null : { ...event, id: Number(result.lastInsertRowid), at };
  }

  /** Every event of a message, oldest first. */
  listMessageEvents(messageId: number): MessageEvent[] {
    return (this.#db.prepare(`SELECT * FROM message_events WHERE message_id = ? ORDER BY id`).all(messageId) as EventRow[]).map(rowToEvent);
  }

  /**
   * For each message that has events: its newest event overall, and on each surface the furthest
   * it got (the highest state, of equals the newest: `outranks`), so a state never goes back.
   */
  latestMessageStates(messageIds: readonly number[]): MessageStates[] {
    if (messageIds.length === 0) return [];
    if (messageIds.length > MAX_STATE_QUERY) throw new RangeError(`At most ${MAX_STATE_QUERY} messages per state query`);
    const rank = `CASE state ${Object.entries(STATE_RANK).map(([state, n]) => `WHEN '${state}' THEN ${n}`).join(' ')} ELSE 0 END`;
    const rows = this.#db
      .prepare(
        `SELECT * FROM (
           SELECT e.*, row_number() OVER (PARTITION BY message_id, surface ORDER BY ${rank} DESC, id DESC) AS place,
                  max(id) OVER (PARTITION BY message_id) AS newest
           FROM message_events e WHERE message_id IN (${messageIds.map(() => '?').join(', ')})
         ) WHERE place = 1 OR id = newest ORDER BY id`,
      )
      .all(...messageIds) as Array<EventRow & { place: number; newest: number }>;
    const states = new Map<number, { messageId: number; latest: MessageEvent; surfaces: Record<string, MessageEvent> }>();
    for (const row of rows) {
      const event = rowToEvent(row);
      const entry = states.get(event.messageId) ?? { messageId: event.messageId, latest: event, surfaces: {} };
      if (row.id === row.newest) entry.latest = event;
      if (row.place === 1) entry.surfaces[event.surface] = event;
      states.set(event.messageId, entry);
    }
    return [...states.values()];
  }

  close(): void {
    this.#db.close();
  }

  #groupsOf(user: string): string[] {
    return (this.#db.prepare(`SELECT group_name FROM memberships WHERE user_name = ? ORDER BY group_name`).all(user) as Array<{ group_name: string }>).map(
      (row) => row.group_name,
    );
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

function rowToEvent(row: EventRow): MessageEvent {
  return { id: row.id, messageId: row.message_id, state: row.state as MessageEvent['state'], surface: row.surface, by: row.by, at: row.at };
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
    ...(row.sender_user === null ? {} : { senderUser: row.sender_user }),
    ...(row.sender_host === null ? {} : { senderHost: row.sender_host }),
    ...(row.priority === 'normal' ? {} : { priority: row.priority as Priority }),
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
  };
}
