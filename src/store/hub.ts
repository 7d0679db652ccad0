/** The organisation hub's outbox and the origin of messages that came through it. */
import type Database from 'better-sqlite3';
import type { OutboxRow, OutgoingEntry, OutgoingState, OwedReceipt } from '../hub/outbox.js';
import { rowToMessage, type MessageRow } from './messages.js';

interface Row {
  id: number;
  envelope_id: string;
  subject: string;
  envelope: string;
  created_at: number;
  published_at: number | null;
  state: string;
  state_at: string | null;
  surfaces: string;
  sender_user: string | null;
  refusal: string | null;
}

const toOutbox = (row: Row): OutboxRow => ({
  id: row.id,
  envelopeId: row.envelope_id,
  subject: row.subject,
  envelope: row.envelope,
  published: row.published_at !== null,
  state: row.state as OutboxRow['state'],
  stateAt: row.state_at,
  surfaces: row.surfaces,
  senderUser: row.sender_user,
  refusal: row.refusal,
});

export type HubQueries = ReturnType<typeof hubQueries>;

export function hubQueries(db: Database.Database) {
  const insert = db.prepare(`INSERT INTO hub_outbox (envelope_id, subject, envelope, created_at, expires_at, sender_user) VALUES (?, ?, ?, ?, ?, ?)`);
  const byId = db.prepare<[number], Row>(`SELECT * FROM hub_outbox WHERE id = ?`);
  const byEnvelope = db.prepare<[string], Row>(`SELECT * FROM hub_outbox WHERE envelope_id = ?`);
  const waiting = db.prepare<[number], Row>(`SELECT * FROM hub_outbox WHERE published_at IS NULL ORDER BY id LIMIT ?`);
  const expire = db.prepare(`UPDATE hub_outbox SET state = 'expired', state_at = ?, published_at = ?, envelope = '' WHERE published_at IS NULL AND expires_at <= ?`);
  const countWaiting = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM hub_outbox WHERE published_at IS NULL`);
  // the sealed copy is the hub's now: dropped here
  const publish = db.prepare(`UPDATE hub_outbox SET published_at = ?, envelope = '' WHERE id = ? AND published_at IS NULL`);
  const markAll = db.transaction((ids: readonly number[], at: number) => {
    for (const id of ids) publish.run(at, id);
  });
  const setState = db.prepare(`UPDATE hub_outbox SET state = ?, state_at = ?, surfaces = ?, refusal = ?, published_at = coalesce(published_at, ?) WHERE id = ?`);
  const saveStates = db.transaction((states: readonly OutgoingState[], at: number) => {
    for (const s of states) setState.run(s.state, s.stateAt, s.surfaces, s.refusal, at, s.id);
  });
  const origin = db.prepare<[string], { id: number }>(`SELECT id FROM messages WHERE origin_id = ?`);
  const owed = db.prepare<[number, number], MessageRow & { event_id: number; event_state: string; event_surface: string; event_by: string | null; event_at: number }>(
    `SELECT e.id AS event_id, e.state AS event_state, e.surface AS event_surface, e."by" AS event_by, e.at AS event_at, m.*
       FROM message_events e JOIN messages m ON m.id = e.message_id WHERE e.hub_owed = 1 AND e.id > ? ORDER BY e.id LIMIT ?`,
  );
  const told = db.prepare(`UPDATE message_events SET hub_owed = NULL WHERE id = ?`);
  const countOwed = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM message_events WHERE hub_owed = 1`);
  const toldAll = db.transaction((ids: readonly number[]) => {
    for (const id of ids) told.run(id);
  });
  return {
    /** Keeps a sealed message until the hub holds it; committed before the sender is answered. */
    addOutgoing(entry: OutgoingEntry): number {
      return Number(insert.run(entry.envelopeId, entry.subject, entry.envelope, Date.now(), entry.expiresAt, entry.senderUser).lastInsertRowid);
    },
    getOutgoing(id: number): OutboxRow | null {
      const row = byId.get(id);
      return row === undefined ? null : toOutbox(row);
    },
    /** The entries these envelope ids name (those that are here); at most a receipt batch's worth. */
    outgoingByEnvelopes(envelopeIds: readonly string[]): OutboxRow[] {
      return envelopeIds.flatMap((envelopeId) => {
        const row = byEnvelope.get(envelopeId);
        return row === undefined ? [] : [toOutbox(row)];
      });
    },
    /** Those the hub has not acknowledged, oldest first; those past their time to live are marked expired first. */
    waitingOutgoing(limit: number): OutboxRow[] {
      const now = Date.now();
      expire.run(new Date(now).toISOString(), now, now);
      return waiting.all(limit).map(toOutbox);
    },
    countWaitingOutgoing(): number {
      return countWaiting.get()?.n ?? 0;
    },
    /** One transaction (one fsync) for a batch the hub acknowledged. */
    markPublished(ids: readonly number[]): void {
      const at = Date.now();
      markAll(ids, at);
    },
    /** Where sent messages got, as their receipts said: in one transaction. */
    saveOutgoingStates(states: readonly OutgoingState[]): void {
      saveStates(states, Date.now());
    },
    /** The local id of a message that came through the hub with this id at its sender. */
    messageByOrigin(originId: string): number | null {
      return origin.get(originId)?.id ?? null;
    },
    /** Events of messages that came through the hub whose receipts the hub may not hold yet, oldest first, after event `afterId`. */
    owedReceipts(afterId: number, limit: number): OwedReceipt[] {
      return owed.all(afterId, limit).map((row) => ({
        event: { id: row.event_id, messageId: row.id, state: row.event_state as OwedReceipt['event']['state'], surface: row.event_surface, by: row.event_by, at: row.event_at },
        message: rowToMessage(row),
      }));
    },
    countOwedReceipts(): number {
      return countOwed.get()?.n ?? 0;
    },
    /** The hub holds these events' receipts: one transaction. */
    receiptsTold(eventIds: readonly number[]): void {
      toldAll(eventIds);
    },
  };
}
