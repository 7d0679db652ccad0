/**
 * Messages this host sent through the hub: kept in the store (sealed, as the hub will see them)
 * before the sender is answered, until the hub holds them; and what their recipients said of them
 * since (the receipts that come back). A daemon killed with messages the hub has not taken sends
 * them when it starts again.
 */
import { isMessageState, type MessageState, type Receipt } from '../messenger/events.js';
import { subjectToken } from './subject.js';

export type HubReceiptState = 'stored' | MessageState;
type OutboxState = 'queued' | HubReceiptState;

/** A message to keep until the hub holds it. */
export interface OutgoingEntry {
  readonly envelopeId: string;
  readonly subject: string;
  /** The sealed envelope, JSON. */
  readonly envelope: string;
  readonly expiresAt: number | null;
  /** Who sent it (login or account name): only they, and administrators, read its receipt. */
  readonly senderUser: string | null;
}

/** One sent message as the store keeps it. */
export interface OutboxRow {
  readonly id: number;
  readonly envelopeId: string;
  readonly subject: string;
  /** The sealed envelope, JSON. */
  readonly envelope: string;
  readonly published: boolean;
  readonly state: OutboxState;
  readonly stateAt: string | null;
  /** JSON: surface → { state, by, at }, as the recipient's receipts said. */
  readonly surfaces: string;
  readonly senderUser: string | null;
}

/** The store's side of the outbox (store/hub.ts), and the origin of received messages. */
export interface HubStore {
  addOutgoing(entry: OutgoingEntry): Promise<number>;
  getOutgoing(id: number): Promise<OutboxRow | null>;
  outgoingByEnvelope(envelopeId: string): Promise<OutboxRow | null>;
  waitingOutgoing(limit: number): Promise<OutboxRow[]>;
  countWaitingOutgoing(): Promise<number>;
  markPublished(ids: readonly number[]): Promise<void>;
  saveOutgoingState(id: number, state: string, stateAt: string | null, surfaces: string): Promise<void>;
  messageByOrigin(originId: string): Promise<number | null>;
}

type Surfaces = Record<string, { state: MessageState; by: string | null; at: string }>;

/** How far a message got: later states win, as a receipt reads them. */
const RANK: Readonly<Record<OutboxState, number>> = { queued: 0, stored: 1, delivered: 2, shown: 3, read: 4, expired: 5, acknowledged: 6 };

/** Publishes one entry to the hub; false when the hub is away (nothing sent). */
export type Publish = (subject: string, envelope: string, envelopeId: string) => Promise<boolean>;

/** The outbox is read this many at a time while it drains. */
const DRAIN_BATCH = 100;

/** Whether a message in state `now` has got as far as `wanted`: an expired one got nowhere. */
const reaches = (now: OutboxState, wanted: HubReceiptState): boolean => (now === 'expired' ? wanted === 'expired' : RANK[now] >= RANK[wanted]);

export class Outbox {
  readonly #store: HubStore;
  #draining: Promise<void> | undefined;
  #applying: Promise<void> = Promise.resolve();
  readonly #waiters = new Set<{ id: number; state: HubReceiptState; resolve: (reached: boolean) => void }>();

  constructor(store: HubStore) {
    this.#store = store;
  }

  add(entry: OutgoingEntry): Promise<number> {
    return this.#store.addOutgoing(entry);
  }

  get(id: number): Promise<OutboxRow | null> {
    return this.#store.getOutgoing(id);
  }

  waiting(limit: number): Promise<OutboxRow[]> {
    return this.#store.waitingOutgoing(limit);
  }

  pending(): Promise<number> {
    return this.#store.countWaitingOutgoing();
  }

  /**
   * Publishes what waits, oldest first, while `go` holds, until the outbox is empty (what is added
   * meanwhile goes too); one drain at a time. A batch is published pipelined on the one
   * connection, which keeps its order; a batch with a failure ends the drain (the next one sends
   * it again, and the hub drops what it already holds by its id).
   */
  drain(publish: Publish, go: () => boolean, log: (line: string) => void = () => {}): Promise<void> {
    this.#draining ??= (async () => {
      for (let round = 0; round < 10_000 && go(); round++) {
        const waiting = await this.#store.waitingOutgoing(DRAIN_BATCH);
        if (waiting.length === 0) return;
        const sent = await Promise.allSettled(waiting.map((entry) => publish(entry.subject, entry.envelope, entry.envelopeId)));
        // marked in one write: the hub acknowledged each of these
        const held = waiting.filter((_, i) => {
          const result = sent[i];
          return result?.status === 'fulfilled' && result.value;
        });
        if (held.length > 0) await this.#store.markPublished(held.map((entry) => entry.id));
        if (held.length < waiting.length) {
          const failed = sent.find((result) => result.status === 'rejected');
          if (failed !== undefined) log(`hub: ${waiting.length - held.length} message(s) wait in the outbox: ${String(failed.reason)}`);
          return;
        }
      }
    })().finally(() => (this.#draining = undefined));
    return this.#draining;
  }

  /** Resolves once a drain under way has ended. */
  async drained(): Promise<void> {
    await this.#draining?.catch(() => {});
  }

  /**
   * A receipt from `host` (opened and verified): `{ ref, state, surface, by, at }` in JSON. Taken
   * only from the host the message went to; one receipt at a time, so none overwrites another's surface.
   */
  applyReceipt(text: string, host: string): Promise<void> {
    const applied = this.#applying.then(() => this.#applyReceipt(text, host));
    this.#applying = applied.catch(() => {});
    return applied;
  }

  async #applyReceipt(text: string, host: string): Promise<void> {
    let receipt: { ref?: unknown; state?: unknown; surface?: unknown; by?: unknown; at?: unknown };
    try {
      receipt = JSON.parse(text) as typeof receipt;
    } catch {
      return;
    }
    const entry = typeof receipt.ref === 'string' ? await this.#store.outgoingByEnvelope(receipt.ref) : null;
    const state = receipt.state === 'stored' || isMessageState(receipt.state) ? receipt.state : null;
    // the subject names the host it went to (…TO.msg.FROM)
    if (entry === null || state === null || entry.subject.split('.')[2] !== subjectToken(host)) return;
    const at = typeof receipt.at === 'string' ? receipt.at.slice(0, 40) : new Date().toISOString();
    const surfaces = parseSurfaces(entry.surfaces);
    if (state !== 'stored' && typeof receipt.surface === 'string') {
      surfaces[receipt.surface.slice(0, 32)] = { state, by: typeof receipt.by === 'string' ? receipt.by.slice(0, 256) : null, at };
    }
    const ahead = RANK[state] >= RANK[entry.state];
    await this.#store.saveOutgoingState(entry.id, ahead ? state : entry.state, ahead ? at : entry.stateAt, JSON.stringify(surfaces));
    const reached = ahead ? state : entry.state;
    for (const waiter of this.#waiters) {
      if (waiter.id === entry.id && reaches(reached, waiter.state)) waiter.resolve(true);
    }
  }

  /** Resolves true once the message reached `state` (or further), false after `ms`. */
  async waitFor(id: number, state: HubReceiptState, ms: number): Promise<boolean> {
    let settle: (reached: boolean) => void = () => {};
    const reached = new Promise<boolean>((resolve) => (settle = resolve));
    const waiter = { id, state, resolve: (value: boolean) => settle(value) };
    // registered before the look, so a receipt that lands in between is not missed
    this.#waiters.add(waiter);
    const timer = setTimeout(() => waiter.resolve(false), ms);
    const entry = await this.#store.getOutgoing(id);
    if (entry !== null && reaches(entry.state, state)) waiter.resolve(true);
    try {
      return await reached;
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(waiter);
    }
  }

  /** What became of message `id`, for its sender or an administrator; null for anyone else, as for no message. */
  async receipt(id: number, asker: { name: string | null; administrator: boolean }): Promise<Receipt | null> {
    const entry = await this.#store.getOutgoing(id);
    if (entry === null || (!asker.administrator && (entry.senderUser === null || entry.senderUser !== asker.name))) return null;
    const surfaces = parseSurfaces(entry.surfaces);
    const acknowledged = Object.entries(surfaces).find(([, s]) => s.state === 'acknowledged');
    return {
      id,
      state: entry.state,
      at: entry.stateAt,
      surfaces,
      ...(acknowledged === undefined ? {} : { acknowledgedOn: acknowledged[0], ...(acknowledged[1].by ? { acknowledgedBy: acknowledged[1].by } : {}) }),
    };
  }
}

function parseSurfaces(json: string): Surfaces {
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'object' && value !== null ? (value as Surfaces) : {};
  } catch {
    return {};
  }
}
