/** The inbox's queries: appends (in batches, one transaction each), pages, search, one message. */
import type Database from 'better-sqlite3';
import type { IncomingMessage, MessageQuery, Priority, StoredMessage, Via } from '../messenger/message.js';

export interface MessageRow {
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

export interface PendingMessage {
  readonly message: IncomingMessage;
  /** ms since the epoch, taken when the message arrived */
  readonly receivedAt: number;
}

export type MessageQueries = ReturnType<typeof messageQueries>;

export function messageQueries(db: Database.Database) {
  const insert = db.prepare(
    `INSERT INTO messages (from_name, to_name, text, received_at, via, sender_uid, sender_address, sender_user, sender_host, priority, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const page = db.prepare<[number, number], MessageRow>(`SELECT * FROM messages WHERE id > ? ORDER BY id LIMIT ?`);
  const one = db.prepare<[number], MessageRow>(`SELECT * FROM messages WHERE id = ?`);
  const insertBatch = db.transaction((batch: readonly PendingMessage[]) =>
    batch.map(({ message: m, receivedAt }) =>
      Number(insert.run(m.from, m.to, m.text, receivedAt, m.via, m.senderUid, m.senderAddress, m.senderUser ?? null, m.senderHost ?? null, m.priority ?? 'normal', m.expiresAt ?? null).lastInsertRowid),
    ),
  );

  return {
    /** Commits the messages in one transaction (one fsync) and returns their ids. */
    insertMessages(batch: readonly PendingMessage[]): number[] {
      return insertBatch(batch);
    },

    /** Messages after `afterId`, oldest first; only those to `recipients` (any case) when given. */
    listMessages(afterId: number, limit: number, recipients: readonly string[] | null = null): StoredMessage[] {
      if (recipients === null) return page.all(afterId, limit).map(rowToMessage);
      if (recipients.length === 0) return [];
      const rows = db
        .prepare(`SELECT * FROM messages WHERE id > ? AND to_name COLLATE NOCASE IN (${recipients.map(() => '?').join(', ')}) ORDER BY id LIMIT ?`)
        .all(afterId, ...recipients, limit) as MessageRow[];
      return rows.map(rowToMessage);
    },

    /** Newest first: the web inbox's pages, search and recipient filter. */
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
      const rows = db.prepare(`SELECT * FROM messages WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`).all(...args, query.limit) as MessageRow[];
      return rows.map(rowToMessage);
    },

    getMessage(id: number): StoredMessage | null {
      const row = one.get(id);
      return row === undefined ? null : rowToMessage(row);
    },
  };
}

export function rowToMessage(row: MessageRow): StoredMessage {
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
