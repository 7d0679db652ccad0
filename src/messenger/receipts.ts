import type { MessageEvent, MessageEventInput, MessageStates, Receipt } from '../messenger/events.js';
import { receiptOf } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';

/** Where a sweep of waiting messages stopped: the last message it saw, in (expires_at, id) order. */
export interface SweepCursor {
  readonly expiresAt: number;
  readonly id: number;
}

export interface ReceiptStore {
  recordMessageEvent(event: MessageEventInput): Promise<MessageEvent | null>;
  /** Many events in one commit (a sweep's expired messages); each as recordMessageEvent gives it. */
  recordMessageEvents(events: readonly MessageEventInput[]): Promise<Array<MessageEvent | null>>;
  latestMessageStates(ids: readonly number[]): Promise<MessageStates[]>;
  /** Unseen messages that expired after `after` (in (expiresAt, id) order) and by `now`, received before receivedBefore; the first to expire first. */
  expiredMessages(after: SweepCursor, now: number, receivedBefore: number, limit: number): Promise<StoredMessage[]>;
  /** Unseen messages alive at now, received before receivedBefore: a page in (expires_at, id) order after `after`. */
  waitingMessages(after: SweepCursor | null, now: number, receivedBefore: number, limit: number): Promise<StoredMessage[]>;
}

/** The message an event is about: enough to record it, tell the recipient's open pages, and (its origin) tell a sender through the hub. */
export type MessageRef = Pick<StoredMessage, 'id' | 'to' | 'origin'>;

/** A surface a waiting message is offered to again; a promise it returns is the offer still under way. */
export interface RetrySink {
  deliver(message: StoredMessage): void | Promise<unknown>;
}

/** Told of an event just recorded, with its message (the web inbox's live view, the hub's sender). */
export type ReceiptListener = (event: MessageEvent, message: MessageRef) => void;

export interface ReceiptsOptions {
  store: ReceiptStore;
  /**
   * The surfaces that reach a person where they are (terminals, desktop): offered waiting
   * messages again. A message whose last offer is still under way is not offered again.
   */
  retry?: RetrySink;
  /** Told of each event recorded, with its message: the first listener (more by `subscribe`). */
  onEvent?: ReceiptListener;
  log: (line: string) => void;
  /** How often waiting messages are offered again and expired ones marked. */
  sweepMs?: number;
  now?: () => number;
}

/** A message this young may still be on its way to a surface: the sweep leaves it alone. */
const SETTLE_MS = 30_000;
/** Waiting messages offered per sweep, and expired ones marked per page: the next goes on from there. */
const SWEEP_LIMIT = 200;
/**
 * Pages of expired messages one sweep marks at most (10,000 messages): a backlog (a host that was
 * off for days) is marked a page after another, each its own read and commit, so sends go on
 * between them; the next sweep goes on where this one stopped. Bounded, because each mark is told
 * on (to open web pages, and through the hub to the message's sender).
 */
const MAX_EXPIRED_PAGES = 50;
/** At start, messages that expired this long ago while the daemon was down are still marked. */
const LOOK_BACK_MS = 7 * 24 * 3600 * 1000;

/**
 * The only writer of message events and the only publisher of state changes.
 *
 * What became of each message, for its sender: events from the surfaces (a terminal or desktop
 * showed it, the web page read it, someone acknowledged it), and store-and-forward: a message
 * nobody was there to see is offered again while its time to live lasts, then marked expired
 * rather than popped up late.
 */
export class Receipts {
  readonly #options: ReceiptsOptions;
  #retry: RetrySink | undefined;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  /** Messages that expired up to here were marked by earlier sweeps. */
  #swept: number;
  /** Where marking expired messages goes on when a sweep stopped at its limit; null: after #swept. */
  #expiredCursor: SweepCursor | null = null;
  /** Where the walk through the waiting messages goes on; null: from the start. */
  #cursor: SweepCursor | null = null;
  /** Messages whose last offer to the surfaces is still under way. */
  readonly #offering = new Set<number>();
  readonly #recording = new Set<Promise<void>>();
  #sweeping: Promise<void> | undefined;
  #stopped = false;
  readonly #listeners: ReceiptListener[] = [];

  constructor(options: ReceiptsOptions) {
    this.#options = options;
    this.#retry = options.retry;
    if (options.onEvent !== undefined) this.#listeners.push(options.onEvent);
    this.#now = options.now ?? Date.now;
    this.#swept = this.#now() - LOOK_BACK_MS;
  }

  /** The surfaces waiting messages are offered to again, once they exist (they report to this). */
  offerTo(retry: RetrySink): void {
    this.#retry = retry;
  }

  /** Tells `listener` of every event recorded from now on, after the listeners before it. */
  subscribe(listener: ReceiptListener): void {
    this.#listeners.push(listener);
  }

  /** Records an event in the background (a surface reporting); a failure is logged. */
  record(message: MessageRef, state: MessageEventInput['state'], surface: string, by: string | null): void {
    void this.#record(message, state, surface, by);
  }

  /**
   * Records an event now, for a caller that answers with it (the web's read and ack).
   * @returns the event, or null when the message is not in the store
   */
  async recordNow(message: MessageRef, state: MessageEventInput['state'], surface: string, by: string | null): Promise<MessageEvent | null> {
    const event = await this.#options.store.recordMessageEvent({ messageId: message.id, state, surface, by });
    if (event !== null) this.#tell(event, message);
    return event;
  }

  /** Records an acknowledgement now (not in the background) and gives the receipt after it. */
  async acknowledge(message: MessageRef, surface: string, by: string | null): Promise<Receipt> {
    await this.recordNow(message, 'acknowledged', surface, by);
    return this.receipt(message.id);
  }

  async receipt(messageId: number): Promise<Receipt> {
    const [states] = await this.#options.store.latestMessageStates([messageId]);
    return receiptOf(messageId, states);
  }

  start(): void {
    this.#timer = setInterval(() => void this.sweep(), this.#options.sweepMs ?? 10_000);
    this.#timer.unref();
    void this.sweep();
  }

  /** Ends the sweeps (the one under way finishes); events are still recorded until `flush`. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#sweeping;
  }

  /** Resolves once every event handed to `record` so far is in the store (or failed, logged). */
  async flush(): Promise<void> {
    while (this.#recording.size > 0) await Promise.allSettled([...this.#recording]);
  }

  /** Offers waiting messages to the surfaces again and marks the expired ones; one sweep at a time. */
  sweep(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  #record(message: MessageRef, state: MessageEventInput['state'], surface: string, by: string | null): Promise<void> {
    const recording = this.recordNow(message, state, surface, by)
      .then(() => {})
      .catch((error: unknown) => this.#options.log(`receipts: could not record message ${message.id} ${state} on ${surface}: ${String(error)}`))
      .finally(() => this.#recording.delete(recording));
    this.#recording.add(recording);
    return recording;
  }

  /**
   * Records one event for each message in one commit (a sweep's expired page, the web's "mark all
   * read"), then tells the listeners of each. @returns each message's event, null where it is gone
   */
  async recordAllNow(messages: readonly MessageRef[], state: MessageEventInput['state'], surface: string, by: string | null): Promise<Array<MessageEvent | null>> {
    if (messages.length === 0) return [];
    const events = await this.#options.store.recordMessageEvents(messages.map((message) => ({ messageId: message.id, state, surface, by })));
    events.forEach((event, i) => {
      if (event !== null) this.#tell(event, messages[i] as MessageRef);
    });
    return events;
  }

  /** Tells every listener; one that throws is logged, and the others are told all the same. */
  #tell(event: MessageEvent, message: MessageRef): void {
    for (const listener of this.#listeners) {
      try {
        listener(event, message);
      } catch (error) {
        this.#options.log(`receipts: telling of message ${message.id} ${event.state} failed: ${String(error)}`);
      }
    }
  }

  async #sweep(): Promise<void> {
    const now = this.#now();
    const settled = now - SETTLE_MS;
    // A wall clock that was ahead (and stepped back) must not leave the mark ahead of it: the
    // messages expiring in between would never be marked.
    this.#swept = Math.min(this.#swept, now - SETTLE_MS * 2);
    try {
      // The newly expired first, a page at a time, each page marked in one commit before the next
      // is read (so none is marked twice, and a backlog costs a write a page, not one a message).
      let after: SweepCursor = this.#expiredCursor ?? { expiresAt: this.#swept, id: Number.MAX_SAFE_INTEGER };
      for (let page = 0; page < MAX_EXPIRED_PAGES && !this.#stopped; page++) {
        const expired = await this.#options.store.expiredMessages(after, now, settled, SWEEP_LIMIT);
        await this.recordAllNow(expired, 'expired', 'store', null);
        const last = expired.at(-1);
        if (last !== undefined) after = { expiresAt: last.expiresAt ?? now, id: last.id };
        // cut at the limit (or stopped): the next sweep goes on from here, not over what is marked
        this.#expiredCursor = after;
        if (expired.length < SWEEP_LIMIT) {
          // Next time, start after what this sweep saw expire.
          this.#swept = now - SETTLE_MS * 2;
          this.#expiredCursor = null;
          break;
        }
      }

      // Then a page of the waiting ones, going on where the last sweep stopped and from the start
      // again after the last: messages that can never be shown (to the computer name, to someone
      // with mesg n) do not keep the others from their turn.
      const waiting = await this.#options.store.waitingMessages(this.#cursor, now, settled, SWEEP_LIMIT);
      const last = waiting.at(-1);
      this.#cursor = waiting.length < SWEEP_LIMIT || last === undefined ? null : { expiresAt: last.expiresAt ?? now, id: last.id };
      for (const message of waiting) {
        if ((message.expiresAt ?? Infinity) <= now || this.#offering.has(message.id)) continue;
        this.#offer(message);
      }
    } catch (error) {
      this.#options.log(`receipts: the sweep failed: ${String(error)}`);
    }
  }

  #offer(message: StoredMessage): void {
    if (this.#retry === undefined) return;
    let offer: void | Promise<unknown>;
    try {
      offer = this.#retry.deliver(message);
    } catch (error) {
      this.#options.log(`receipts: offering message ${message.id} again failed: ${String(error)}`);
      return;
    }
    if (!(offer instanceof Promise)) return;
    this.#offering.add(message.id);
    offer.catch(() => {}).finally(() => this.#offering.delete(message.id));
  }
}
