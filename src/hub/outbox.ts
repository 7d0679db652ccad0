/**
 * Messages this host sent through the hub, until the hub holds them, and what their recipients
 * said of them since (the receipts that come back). Kept in memory for now: a daemon that stops
 * with messages still waiting for the hub loses them (see docs/hub.md, "Not yet").
 */
import { isMessageState, type MessageState, type Receipt } from '../messenger/events.js';
import type { Envelope } from './envelope.js';

export type HubReceiptState = 'stored' | MessageState;

interface Entry {
  readonly id: number;
  readonly envelope: Envelope;
  readonly subject: string;
  published: boolean;
  state: 'queued' | HubReceiptState;
  at: string | null;
  readonly surfaces: Record<string, { state: MessageState; by: string | null; at: string }>;
}

/** How far a message got: later states win, as a receipt reads them. */
const RANK: Readonly<Record<Entry['state'], number>> = { queued: 0, stored: 1, delivered: 2, shown: 3, read: 4, expired: 5, acknowledged: 6 };
/** Entries kept for receipts once published; the oldest go first. */
const MAX_ENTRIES = 10_000;

export class Outbox {
  readonly #entries = new Map<number, Entry>();
  readonly #byEnvelope = new Map<string, number>();
  readonly #waiters = new Set<{ id: number; state: HubReceiptState; resolve: (reached: boolean) => void }>();
  #next = 1;

  add(envelope: Envelope, subject: string): Entry {
    const entry: Entry = { id: this.#next++, envelope, subject, published: false, state: 'queued', at: null, surfaces: {} };
    this.#entries.set(entry.id, entry);
    this.#byEnvelope.set(envelope.id, entry.id);
    this.#trim();
    return entry;
  }

  get(id: number): Entry | null {
    return this.#entries.get(id) ?? null;
  }

  /** Ids not yet held by the hub, oldest first. */
  waiting(): number[] {
    return [...this.#entries.values()].filter((e) => !e.published).map((e) => e.id);
  }

  pending(): number {
    return this.waiting().length;
  }

  published(id: number): void {
    const entry = this.#entries.get(id);
    if (entry !== undefined) entry.published = true;
  }

  /** A receipt from the recipient host: `{ ref, state, surface, by, at }` (JSON, opened and verified). */
  applyReceipt(text: string): void {
    let receipt: { ref?: unknown; state?: unknown; surface?: unknown; by?: unknown; at?: unknown };
    try {
      receipt = JSON.parse(text) as typeof receipt;
    } catch {
      return;
    }
    const id = typeof receipt.ref === 'string' ? this.#byEnvelope.get(receipt.ref) : undefined;
    const entry = id === undefined ? undefined : this.#entries.get(id);
    const state = receipt.state === 'stored' || isMessageState(receipt.state) ? receipt.state : null;
    if (entry === undefined || state === null) return;
    const at = typeof receipt.at === 'string' ? receipt.at : new Date().toISOString();
    entry.published = true;
    if (state !== 'stored' && typeof receipt.surface === 'string') {
      entry.surfaces[receipt.surface.slice(0, 32)] = { state, by: typeof receipt.by === 'string' ? receipt.by.slice(0, 256) : null, at };
    }
    if (RANK[state] >= RANK[entry.state]) {
      entry.state = state;
      entry.at = at;
    }
    for (const waiter of this.#waiters) {
      if (waiter.id === entry.id && RANK[entry.state] >= RANK[waiter.state]) waiter.resolve(true);
    }
  }

  /** Resolves true once the message reached `state` (or further), false after `ms`. */
  waitFor(id: number, state: HubReceiptState, ms: number): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (entry !== undefined && RANK[entry.state] >= RANK[state]) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        id,
        state,
        resolve: (reached: boolean) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), ms);
      this.#waiters.add(waiter);
    });
  }

  receipt(id: number): Receipt | null {
    const entry = this.#entries.get(id);
    if (entry === undefined) return null;
    const acknowledged = Object.entries(entry.surfaces).find(([, s]) => s.state === 'acknowledged');
    return {
      id,
      state: entry.state,
      at: entry.at,
      surfaces: { ...entry.surfaces },
      ...(acknowledged === undefined ? {} : { acknowledgedOn: acknowledged[0], ...(acknowledged[1].by ? { acknowledgedBy: acknowledged[1].by } : {}) }),
    };
  }

  #trim(): void {
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size <= MAX_ENTRIES) return;
      if (!entry.published) continue;
      this.#entries.delete(id);
      this.#byEnvelope.delete(entry.envelope.id);
    }
  }
}
