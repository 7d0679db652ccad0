import type { MessageEvent, MessageEventInput, MessageStates, Receipt } from '../messenger/events.js';
import { receiptOf } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';
import type { Sink } from '../messenger/messenger.js';

export interface ReceiptStore {
  recordMessageEvent(event: MessageEventInput): Promise<MessageEvent | null>;
  latestMessageStates(ids: readonly number[]): Promise<MessageStates[]>;
  unshownMessages(expiresAfter: number, receivedBefore: number, limit: number): Promise<StoredMessage[]>;
}

export interface ReceiptsOptions {
  store: ReceiptStore;
  /** The surfaces that reach a person where they are (terminals, desktop): offered waiting messages again. */
  retry: Sink;
  /** Told of each event, for the web inbox's live view. */
  onEvent?: (event: MessageEvent) => void;
  log: (line: string) => void;
  /** How often waiting messages are offered again and expired ones marked. */
  sweepMs?: number;
  now?: () => number;
}

/** A message this young may still be on its way to a surface: the sweep leaves it alone. */
const SETTLE_MS = 30_000;
/** Messages looked at per sweep. */
const SWEEP_LIMIT = 200;
/** At start, messages that expired this long ago while the daemon was down are still marked. */
const LOOK_BACK_MS = 7 * 24 * 3600 * 1000;

/**
 * What became of each message, for its sender: events from the surfaces (a terminal or desktop
 * showed it, the web page read it, someone acknowledged it), and store-and-forward: a message
 * nobody was there to see is offered again while its time to live lasts, then marked expired
 * rather than popped up late.
 */
export class Receipts {
  readonly #options: ReceiptsOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #swept: number;
  #sweeping: Promise<void> | undefined;

  constructor(options: ReceiptsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#swept = this.#now() - LOOK_BACK_MS;
  }

  record(messageId: number, state: MessageEventInput['state'], surface: string, by: string | null): void {
    this.#options.store
      .recordMessageEvent({ messageId, state, surface, by })
      .then((event) => event && this.#options.onEvent?.(event))
      .catch((error: unknown) => this.#options.log(`receipts: could not record message ${messageId} ${state} on ${surface}: ${String(error)}`));
  }

  /** Records an acknowledgement now (not in the background) and gives the receipt after it. */
  async acknowledge(messageId: number, surface: string, by: string | null): Promise<Receipt> {
    const event = await this.#options.store.recordMessageEvent({ messageId, state: 'acknowledged', surface, by });
    if (event !== null) this.#options.onEvent?.(event);
    return this.receipt(messageId);
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

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
  }

  /** Offers waiting messages to the surfaces again and marks the expired ones; one sweep at a time. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #sweep(): Promise<void> {
    const now = this.#now();
    try {
      const waiting = await this.#options.store.unshownMessages(this.#swept, now - SETTLE_MS, SWEEP_LIMIT);
      for (const message of waiting) {
        if ((message.expiresAt ?? Infinity) <= now) this.record(message.id, 'expired', 'store', null);
        else this.#options.retry.deliver(message);
      }
      // Next time, start after what this sweep saw expire (unless it was cut at the limit).
      if (waiting.length < SWEEP_LIMIT) this.#swept = Math.max(this.#swept, now - SETTLE_MS * 2);
    } catch (error) {
      this.#options.log(`receipts: the sweep failed: ${String(error)}`);
    }
  }
}
