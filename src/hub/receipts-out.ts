/**
 * Receipts to the hosts messages came from through the hub: what became of each message (stored,
 * shown, read, acknowledged, expired, refused), sealed to its sender's host like a message. Those
 * for one host that arise in the same turn of the event loop travel in one envelope. An event of a
 * stored message is owed in the store (message_events.hub_owed) until the hub holds its receipt,
 * so that one the hub could not take (away, electing a leader) or a daemon that stopped first
 * sends it later.
 */
import type { MessageEvent } from '../messenger/events.js';
import type { StoredMessage } from '../messenger/message.js';
import type { MessageRef } from '../messenger/receipts.js';
import type { HostIdentity } from '../security/host-identity.js';
import type { realmNames } from './connection.js';
import { HubEnvelopeError, type Envelope } from './envelope.js';
import { receiptsEnvelopes, type Origin, type ReceiptEvent, type Refusal } from './mail.js';
import type { HubReceiptState, HubStore } from './outbox.js';
import type { HostRecord, NameRegistry } from './registry.js';

/** Received messages remembered for their receipts without a store read. */
const REMEMBERED = 4096;
/** A receipt waiting for its envelope, and its caller's callbacks. */
type PendingReceipt = { event: ReceiptEvent; origin: Origin; done: () => void; failed: (error: unknown) => void };
/**
 * Publishes of a batch of receipts before they are given up (logged). A message is acknowledged
 * to the hub only once its receipt is there, so a 'stored' receipt given up is sent again with the
 * message's next delivery.
 */
const RECEIPT_TRIES = 3;
/** Owed receipts (store: message_events.hub_owed) read at once when they are sent again, and how many such reads one catch-up makes at most. */
const OWED_PAGE = 500;
const OWED_PAGES = 100;
/** A catch-up after receipts could not be sent waits this long. */
const CATCH_UP_MS = 10_000;
/** A failed publish of receipts is tried again after this. */
const RETRY_MS = 2000;

export interface SenderReceiptsOptions {
  readonly identity: HostIdentity;
  readonly names: ReturnType<typeof realmNames>;
  readonly registry: Pick<NameRegistry, 'known' | 'replayed'>;
  readonly store: Pick<HubStore, 'owedReceipts' | 'receiptsTold'>;
  /** Publishes an envelope; rejects when the hub did not take it. */
  publish(subject: string, envelope: Envelope): Promise<void>;
  /** A stored message, for receipts of messages received before a restart. */
  message(id: number): Promise<StoredMessage | null>;
  log(line: string): void;
}

/**
 * A receipt that cannot be sealed now: its sender's host is not in the registry (`final` once the
 * replica has read the whole registry: it was forgotten), or its record's box key is broken (final).
 */
export class UnsendableReceipt extends Error {
  override readonly name = 'UnsendableReceipt';
  readonly final: boolean;
  constructor(message: string, final: boolean) {
    super(message);
    this.final = final;
  }
}

export class SenderReceipts {
  readonly #options: SenderReceiptsOptions;
  /** The newest messages received through the hub, for their receipts; older ones are read back from the store. */
  readonly #received = new Map<number, Origin>();
  /** Receipts waiting for their envelope, by the host they go to. */
  readonly #receipts = new Map<string, PendingReceipt[]>();
  /** Events whose receipts the hub now holds, to be written down together. */
  #told: number[] = [];
  /** The catch-up of owed receipts under way or planned, if any; whether one failed since the last that went through (said once). */
  #catchingUp: Promise<void> | undefined;
  #catchUpTimer: NodeJS.Timeout | undefined;
  #behind = false;
  #stopped = false;

  constructor(options: SenderReceiptsOptions) {
    this.#options = options;
  }

  /**
   * A surface's event for a message: told to its sender, if it came through the hub. The store
   * keeps it owed until the hub holds the receipt; one that cannot be sent now is sent by the next
   * catch-up (when the hub is back, at the latest).
   */
  tell(message: MessageRef, event: MessageEvent): void {
    // only a message that came through the hub has an origin: the others cost nothing here
    if (message.origin === undefined) return;
    void this.#tell(message.id, event)
      .then(() => this.#toldSoon(event.id))
      .catch((error: unknown) => this.#fellBehind(error));
  }

  /** Sends one event's receipt; resolves once the hub holds it, or when it can never be sent (said). */
  async #tell(messageId: number, event: MessageEvent, message?: StoredMessage): Promise<void> {
    const origin = message === undefined ? await this.#originOf(messageId) : originOfStored(message);
    // a message whose sender this host cannot name: nothing to send
    if (origin === null) return;
    try {
      await this.send(origin, event.state, event.surface, event.by, undefined, event.at);
    } catch (error) {
      if (!(error instanceof UnsendableReceipt && error.final)) throw error;
      this.#options.log(`hub: the receipt of message ${messageId} cannot be sent: ${error.message}`);
    }
  }

  /** Writes down, once a turn of the event loop, which events' receipts the hub holds; one not written down is only sent again. */
  #toldSoon(eventId: number): void {
    this.#told.push(eventId);
    if (this.#told.length > 1) return;
    setImmediate(() => {
      const ids = this.#told.splice(0);
      this.#options.store.receiptsTold(ids).catch((error: unknown) => this.#options.log(`hub: could not note receipts as sent: ${String(error)}`));
    });
  }

  /**
   * Sends the receipts the store holds owed, oldest first, a page at a time, until none is left
   * or one cannot be sent (then again CATCH_UP_MS later). One catch-up at a time. A receipt that
   * was on its way already goes twice: a receipt moves its message forward, never back.
   */
  catchUp(): void {
    if (this.#stopped) return;
    this.#catchingUp ??= (async () => {
      // Events whose sender's host the replica has not read yet are passed over (the cursor
      // moves on), and a later catch-up sends them; so is what is left past OWED_PAGES.
      let after = 0;
      let passedOver = false;
      for (let page = 0; page < OWED_PAGES && !this.#stopped; page++) {
        const owed = await this.#options.store.owedReceipts(after, OWED_PAGE);
        if (owed.length === 0) {
          if (passedOver) return this.#later();
          if (this.#behind) this.#options.log('hub: the receipts owed to senders went out');
          this.#behind = false;
          return;
        }
        after = owed.at(-1)?.event.id ?? after;
        const sent = await Promise.allSettled(owed.map(({ event, message }) => this.#tell(message.id, event, message)));
        const told = owed.filter((_, i) => sent[i]?.status === 'fulfilled').map(({ event }) => event.id);
        // written before the next page is read; a store that cannot write them stops the catch-up
        if (told.length > 0) await this.#options.store.receiptsTold(told);
        const failed = sent.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
        const failure = failed.find((reason) => !(reason instanceof UnsendableReceipt));
        if (failure !== undefined) throw failure;
        passedOver ||= failed.length > 0;
      }
      this.#later();
    })()
      .catch((error: unknown) => this.#fellBehind(error))
      .finally(() => (this.#catchingUp = undefined));
  }

  /** Receipts could not be sent (the hub away, say): they stay owed, and a catch-up follows; said once until one goes through. */
  #fellBehind(error: unknown): void {
    if (!this.#behind) this.#options.log(`hub: receipts wait for the hub, owed in the store: ${String(error)}`);
    this.#behind = true;
    this.#later();
  }

  /** A catch-up CATCH_UP_MS from now (one at a time), unless stopped. */
  #later(): void {
    if (this.#catchUpTimer !== undefined || this.#stopped) return;
    this.#catchUpTimer = setTimeout(() => {
      this.#catchUpTimer = undefined;
      this.catchUp();
    }, CATCH_UP_MS).unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#catchUpTimer);
  }

  async #originOf(messageId: number): Promise<Origin | null> {
    const known = this.#received.get(messageId);
    if (known !== undefined) return known;
    const message = await this.#options.message(messageId);
    return message === null ? null : originOfStored(message);
  }

  /** A message just stored from the hub, and where it came from: its receipts need no store read. */
  remember(id: number, origin: Origin): void {
    this.#received.set(id, origin);
    if (this.#received.size > REMEMBERED) this.#received.delete(this.#received.keys().next().value as number);
  }

  /**
   * Tells a sender what became of its message, sealed to it like any message. Receipts to one
   * host told in the same turn of the event loop (a commit's worth of deliveries) travel in one
   * envelope; resolves once the hub holds it.
   */
  send(origin: Origin, state: HubReceiptState, surface: string, by: string | null, refusal?: Refusal, at = Date.now()): Promise<void> {
    return new Promise((done, failed) => {
      const event: ReceiptEvent = { ref: origin.envelopeId, state, surface, by, at: new Date(at).toISOString(), ...(refusal === undefined ? {} : { refusal }) };
      const receipt = { event, origin, done, failed };
      const waiting = this.#receipts.get(origin.senderHost);
      if (waiting !== undefined) return void waiting.push(receipt);
      this.#receipts.set(origin.senderHost, [receipt]);
      setImmediate(() => void this.#sendTo(origin.senderHost));
    });
  }

  async #sendTo(host: string): Promise<void> {
    const receipts = this.#receipts.get(host) ?? [];
    this.#receipts.delete(host);
    await this.#publishReceipts(host, receipts, 1);
  }

  /** Publishes receipts to `host`; a failed publish (a leader election, say) is tried again a few seconds later, RECEIPT_TRIES in all. */
  async #publishReceipts(host: string, receipts: PendingReceipt[], attempt: number): Promise<void> {
    if (this.#stopped) return void receipts.forEach((receipt) => receipt.failed(new Error('the hub connection is closing')));
    let envelopes: Envelope[];
    try {
      const record = this.#recordOf(host);
      // a receipt for a message an earlier key sent (the host made anew, or its name taken over)
      // is not the new key's business; the others in the batch still go
      const [theirs, others] = [receipts.filter((r) => r.origin.senderKey === record.fingerprint), receipts.filter((r) => r.origin.senderKey !== record.fingerprint)];
      for (const receipt of others) receipt.failed(new UnsendableReceipt(`${host} is held by another host key than the one that sent message ${receipt.origin.envelopeId}`, true));
      receipts = theirs;
      envelopes = this.#sealed(record, receipts);
    } catch (error) {
      // nothing a publish again would mend
      for (const receipt of receipts) receipt.failed(error);
      return;
    }
    try {
      const subject = this.#options.names.receipt(host, this.#options.identity.name);
      // all published before any is waited for: one connection keeps their order
      await Promise.all(envelopes.map((envelope) => this.#options.publish(subject, envelope)));
      for (const receipt of receipts) receipt.done();
    } catch (error) {
      if (attempt < RECEIPT_TRIES) setTimeout(() => void this.#publishReceipts(host, receipts, attempt + 1), RETRY_MS).unref();
      else for (const receipt of receipts) receipt.failed(error);
    }
  }

  /**
   * `host`'s newest record, live or not: a host away past its lifetime gets its receipts in its
   * inbox when it is back. @throws UnsendableReceipt when the replica has none
   */
  #recordOf(host: string): HostRecord {
    const { registry } = this.#options;
    const record = registry.known(host);
    if (record === null) throw new UnsendableReceipt(`${host} is not in the registry${registry.replayed ? '' : ' read so far'}`, registry.replayed);
    return record;
  }

  /** @throws UnsendableReceipt when the record cannot be sealed to */
  #sealed(record: HostRecord, receipts: PendingReceipt[]): Envelope[] {
    try {
      return receiptsEnvelopes(this.#options.identity, record, receipts);
    } catch (error) {
      if (error instanceof HubEnvelopeError) throw new UnsendableReceipt(`${record.name}'s record cannot be sealed to: ${error.message}`, true);
      throw error;
    }
  }
}

/** Where a stored message came from through the hub; null for one that came another way. */
function originOfStored(message: StoredMessage): Origin | null {
  if (message.origin === undefined || message.sender.host === null) return null;
  return { envelopeId: message.origin, senderHost: message.sender.host.name, senderKey: message.sender.host.fingerprint, from: message.from, to: message.to };
}
