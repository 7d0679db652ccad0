/** The message event log's queries (what became of each message), and the sweeps' reads of it. */
import type Database from 'better-sqlite3';
import { STATE_RANK, type MessageEvent, type MessageEventInput, type MessageStates } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';
import type { SweepCursor } from '../messenger/receipts.js';
import { rowToMessage, type MessageRow } from './messages.js';

/** Most ids one state query takes (the page size of the web inbox is far below it). */
export const MAX_STATE_QUERY = 1000;

/** A message nobody has seen yet and that is not marked expired. */
const NOT_SEEN = `NOT EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = m.id AND e.state IN ('shown', 'read', 'acknowledged', 'expired'))`;

/**
 * The sweeps' two walks, in (expires_at, id) order from a cursor. Each starts its range on the
 * expiry index at the cursor, so a page costs the same at any depth of the walk (the plan is
 * checked in sqlite.test.ts).
 */
export const EXPIRED_SQL = `SELECT * FROM messages m WHERE m.expires_at >= ? AND (m.expires_at, m.id) > (?, ?) AND m.expires_at <= ? AND m.received_at < ? AND ${NOT_SEEN}
   ORDER BY m.expires_at, m.id LIMIT ?`;
/** The lower bound is the later of "alive at now" and the cursor. */
export const WAITING_SQL = `SELECT * FROM messages m WHERE m.expires_at >= ? AND (m.expires_at, m.id) > (?, ?) AND m.received_at < ? AND ${NOT_SEEN}
   ORDER BY m.expires_at, m.id LIMIT ?`;

interface EventRow {
  id: number;
  message_id: number;
  state: string;
  surface: string;
  by: string | null;
  at: number;
}

export type EventQueries = ReturnType<typeof eventQueries>;

export function eventQueries(db: Database.Database) {
  // an event of a message that came through the hub is owed to its sender's host (store/hub.ts)
  const insert = db.prepare(
    `INSERT INTO message_events (message_id, state, surface, "by", at, hub_owed) SELECT ?, ?, ?, ?, ?, CASE WHEN origin_id IS NULL THEN NULL ELSE 1 END FROM messages WHERE id = ?`,
  );
  const ofMessage = db.prepare<[number], EventRow>(`SELECT * FROM message_events WHERE message_id = ? ORDER BY id`);
  const expired = db.prepare<[number, number, number, number, number, number], MessageRow>(EXPIRED_SQL);
  const waiting = db.prepare<[number, number, number, number, number], MessageRow>(WAITING_SQL);
  const recordAll = db.transaction((events: readonly MessageEventInput[]) => events.map((event) => queries.recordMessageEvent(event)));
  const rank = `CASE state ${Object.entries(STATE_RANK).map(([state, n]) => `WHEN '${state}' THEN ${n}`).join(' ')} ELSE 0 END`;

  const queries = {
    /** Appends one event; null when there is no such message. */
    recordMessageEvent(event: MessageEventInput): MessageEvent | null {
      const at = Date.now();
      const result = insert.run(event.messageId, event.state, event.surface, event.by, at, event.messageId);
      return result.changes === 0 ? null : { ...event, id: Number(result.lastInsertRowid), at };
    },

    /** Appends many events in one transaction (one commit, whatever their number). */
    recordMessageEvents(events: readonly MessageEventInput[]): Array<MessageEvent | null> {
      return recordAll(events);
    },

    /** Every event of a message, oldest first. */
    listMessageEvents(messageId: number): MessageEvent[] {
      return ofMessage.all(messageId).map(rowToEvent);
    },

    /**
     * For each message that has events: its newest event overall, and on each surface the furthest
     * it got (the highest state, of equals the newest: `outranks`), so a state never goes back.
     */
    latestMessageStates(messageIds: readonly number[]): MessageStates[] {
      if (messageIds.length === 0) return [];
      if (messageIds.length > MAX_STATE_QUERY) throw new RangeError(`At most ${MAX_STATE_QUERY} messages per state query`);
      const rows = db
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
    },

    /**
     * Messages whose time to live ran out after `after` (in (expiresAt, id) order; earlier ones
     * were dealt with before) and by `now`, received before `receivedBefore`, never shown, read,
     * acknowledged or marked expired: the `limit` that expired first, to be marked expired.
     */
    expiredMessages(after: SweepCursor, now: number, receivedBefore: number, limit: number): StoredMessage[] {
      return expired.all(after.expiresAt, after.expiresAt, after.id, now, receivedBefore, limit).map(rowToMessage);
    },

    /**
     * Messages still waiting for their recipient at `now`: not expired, received before
     * `receivedBefore`, never shown, read, acknowledged or expired. A page of `limit` in
     * (expires_at, id) order after `after` (null: from the start), so successive sweeps walk them all.
     */
    waitingMessages(after: SweepCursor | null, now: number, receivedBefore: number, limit: number): StoredMessage[] {
      // expires_at is whole ms: alive at now is expires_at >= now + 1
      const from = Math.max(now + 1, after?.expiresAt ?? 0);
      return waiting.all(from, after?.expiresAt ?? now, after?.id ?? 0, receivedBefore, limit).map(rowToMessage);
    },
  };
  return queries;
}

function rowToEvent(row: EventRow): MessageEvent {
  return { id: row.id, messageId: row.message_id, state: row.state as MessageEvent['state'], surface: row.surface, by: row.by, at: row.at };
}
