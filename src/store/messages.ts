/** The inbox's queries: appends (one in the store's group commit, or a batch in a transaction of its own), pages, search, one message. */
import type Database from 'better-sqlite3';
import { endpointText } from '../messenger/address.js';
import type { IncomingMessage, MessageQuery, Priority, StoredMessage, Via } from '../messenger/message.js';
import { hostLine, peerOf, type Sender } from '../messenger/sender.js';

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
  origin_id: string | null;
  title: string | null;
}

export interface PendingMessage {
  readonly message: IncomingMessage;
  /** ms since the epoch, taken when the message arrived */
  readonly receivedAt: number;
}

export type MessageQueries = ReturnType<typeof messageQueries>;

export function messageQueries(db: Database.Database) {
  const insert = db.prepare(
    `INSERT INTO messages (from_name, to_name, text, received_at, via, sender_uid, sender_address, sender_user, sender_host, priority, expires_at, origin_id, title)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (origin_id) WHERE origin_id IS NOT NULL DO NOTHING`,
  );
  const byOrigin = db.prepare<[string], { id: number }>(`SELECT id FROM messages WHERE origin_id = ?`);
  const page = db.prepare<[number, number], MessageRow>(`SELECT * FROM messages WHERE id > ? ORDER BY id LIMIT ?`);
  const one = db.prepare<[number], MessageRow>(`SELECT * FROM messages WHERE id = ?`);
  const insertOne = ({ message: m, receivedAt }: PendingMessage): { id: number; duplicate: boolean } => {
    const c = senderColumns(m.sender);
    const origin = m.origin ?? null;
    const result = insert.run(m.from, m.to, m.text, receivedAt, m.via, c.sender_uid, c.sender_address, c.sender_user, c.sender_host, m.priority ?? 'normal', m.expiresAt ?? null, origin, m.title ?? null);
    // a second copy of a message that came through the hub: the one already stored
    if (result.changes === 0 && origin !== null) return { id: byOrigin.get(origin)?.id ?? 0, duplicate: true };
    return { id: Number(result.lastInsertRowid), duplicate: false };
  };
  const insertBatch = db.transaction((batch: readonly PendingMessage[]) => batch.map(insertOne));

  return {
    /** Stores one message, in the caller's transaction (the store's group commit): its id, and whether it was stored already (its origin). */
    insertMessage(pending: PendingMessage): { id: number; duplicate: boolean } {
      return insertOne(pending);
    },

    /** Commits the messages in one transaction (one fsync): their ids, and whether each was stored already. */
    insertMessages(batch: readonly PendingMessage[]): Array<{ id: number; duplicate: boolean }> {
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
        where.push(`(text LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\' OR from_name LIKE ? ESCAPE '\\' OR to_name LIKE ? ESCAPE '\\')`);
        args.push(pattern, pattern, pattern, pattern);
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
    ...(row.title === null || row.title === undefined ? {} : { title: row.title }),
    text: row.text,
    receivedAt: new Date(row.received_at),
    via: row.via as Via,
    sender: senderFromColumns(row),
    ...(row.priority === 'normal' ? {} : { priority: row.priority as Priority }),
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
    ...(row.origin_id === null || row.origin_id === undefined ? {} : { origin: row.origin_id }),
  };
}

/** The columns a sender is stored in (no migration: the packed forms of the first schema). */
export type SenderColumns = Pick<MessageRow, 'sender_uid' | 'sender_address' | 'sender_user' | 'sender_host'>;

/** A sender as its columns hold it: the address as "ADDRESS:PORT", the host as "NAME SHA256:…". */
export function senderColumns(sender: Sender): SenderColumns {
  const { uid, address, port, user, host } = sender;
  return {
    sender_uid: uid,
    sender_address: address === null ? null : endpointText({ address, port }),
    sender_user: user,
    sender_host: host === null ? null : hostLine(host),
  };
}

/** The sender a row's columns hold: the one place the packed forms are read back. */
export function senderFromColumns(row: SenderColumns): Sender {
  const host = row.sender_host;
  // a host name may have spaces; its fingerprint has none, and comes last
  const space = host === null ? -1 : host.lastIndexOf(' ');
  return {
    uid: row.sender_uid,
    ...peerOf(row.sender_address),
    user: row.sender_user,
    host: !host ? null : space < 0 ? { name: host, fingerprint: '' } : { name: host.slice(0, space), fingerprint: host.slice(space + 1) },
  };
}
