/**
 * A host's inbox at the hub: its durable consumer's deliveries, each checked (the subject's
 * sender is the envelope's signer, the signature holds, the recipient is this host), opened, and
 * stored through the Messenger's one accept path before it is acknowledged to the hub. A second
 * delivery of a stored message counts as stored. Receipts from hosts this one sent to land here
 * too, and receipts for the hosts this one received from leave from here.
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { KeyObject } from 'node:crypto';
import { NetApiError } from '../messenger/errors.js';
import type { MessageEvent } from '../messenger/events.js';
import { isTitleAsSent, type IncomingMessage, type StoredMessage } from '../messenger/message.js';
import type { MessageRef } from '../messenger/receipts.js';
import { parseEndpoint } from '../messenger/address.js';
import { senderOf } from '../messenger/sender.js';
import type { HostIdentity } from '../security/host-identity.js';
import type { realmNames } from './connection.js';
import { decodeEnvelope, open, type Envelope, type EnvelopeSecret } from './envelope.js';
import { receiptsEnvelopes, type Origin, type ReceiptEvent, type Refusal } from './mail.js';
import type { HubReceiptState, HubStore, Outbox } from './outbox.js';
import type { NameRegistry } from './registry.js';
import { subjectToken } from './subject.js';

/** Deliveries asked of the hub at once, and taken (stored) at once. */
const BATCH = 64;
/** Deliveries of a message whose sender the registry does not know, before it is dropped. */
const MAX_TRIES = 100;
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
/** How long a pull request for deliveries lasts before it is renewed (nats.js's default is 30 s). */
const PULL_EXPIRES_MS = 10_000;
/** A delivery the front door turned away for now (a rate limit), or whose sender the replica does not know yet, comes again after this. */
const RETRY_MS = 2000;
/** Owed receipts (store: message_events.hub_owed) read at once when they are sent again, and how many such reads one catch-up makes at most. */
const OWED_PAGE = 500;
const OWED_PAGES = 100;
/** A catch-up after receipts could not be sent waits this long. */
const CATCH_UP_MS = 10_000;

export interface InboxOptions {
  readonly identity: HostIdentity;
  readonly box: KeyObject;
  readonly names: ReturnType<typeof realmNames>;
  readonly registry: NameRegistry;
  readonly outbox: Outbox;
  readonly store: Pick<HubStore, 'messageByOrigin' | 'owedReceipts' | 'receiptsTold'>;
  /** "max message size" here, in UTF-16 bytes. */
  readonly maxMessageBytes: number;
  receive(message: IncomingMessage): Promise<{ id: number }>;
  publish(subject: string, envelope: Envelope): Promise<void>;
  /** A stored message, for receipts of messages received before a restart. */
  message(id: number): Promise<StoredMessage | null>;
  log(line: string): void;
}

export class HubInbox {
  readonly #options: InboxOptions;
  /** Messages being stored now, by envelope id. */
  readonly #taking = new Set<string>();
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

  constructor(options: InboxOptions) {
    this.#options = options;
  }

  /**
   * Takes deliveries as they come, up to BATCH at once: each waits on the store's commit, and
   * the store commits those that wait together in one transaction, so one at a time would leave
   * the hub's throughput at one fsync per message. They are started in delivery order, and the
   * store keeps the order its requests come in.
   */
  async consume(consumer: Consumer, stopping: () => boolean): Promise<void> {
    // a pull lives PULL_EXPIRES_MS; two missed heartbeats (half of it each) and it is asked again:
    // after the server holding it dies, deliveries resume within that, not the client's default 30 s
    const messages = await consumer.consume({ max_messages: BATCH, expires: PULL_EXPIRES_MS });
    // what became of messages while the hub was away (or the daemon down) goes now
    this.catchUp();
    const taking = new Set<Promise<void>>();
    for await (const m of messages) {
      if (stopping()) break;
      const take: Promise<void> = this.#take(m)
        .catch((error: unknown) => {
          this.#options.log(`hub: a delivery could not be taken now: ${String(error)}`);
          // the connection may be closing: the hub delivers it again after the ack wait
          try {
            m.nak(RETRY_MS);
          } catch {}
        })
        .finally(() => taking.delete(take));
      taking.add(take);
      if (taking.size >= BATCH) await Promise.race(taking);
    }
    await Promise.allSettled(taking);
  }

  /**
   * A surface's event for a message: told to its sender, if it came through the hub. The store
   * keeps it owed until the hub holds the receipt; one that cannot be sent now is sent by the next
   * catch-up (when the hub is back, at the latest).
   */
  tellSender(message: MessageRef, event: MessageEvent): void {
    // only a message that came through the hub has an origin: the others cost nothing here
    if (message.origin === undefined) return;
    void this.#tell(message.id, event).catch((error: unknown) => this.#fellBehind(error));
  }

  async #tell(messageId: number, event: MessageEvent, message?: StoredMessage): Promise<void> {
    const origin = message === undefined ? await this.#originOf(messageId) : originOfStored(message);
    // a message whose sender this host cannot name (its record gone): nothing to send
    if (origin !== null) await this.sendReceipt(origin, event.state, event.surface, event.by, undefined, event.at);
    this.#toldSoon(event.id);
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
    this.#catchingUp ??= (async () => {
      for (let page = 0; page < OWED_PAGES; page++) {
        const owed = await this.#options.store.owedReceipts(OWED_PAGE);
        if (owed.length === 0) {
          if (this.#behind) this.#options.log('hub: the receipts owed to senders went out');
          this.#behind = false;
          return;
        }
        await Promise.all(owed.map(({ event, message }) => this.#tell(message.id, event, message)));
        // their marks are written in the next turn, before the next page is read
        await new Promise((resolve) => setImmediate(resolve));
      }
    })()
      .catch((error: unknown) => this.#fellBehind(error))
      .finally(() => (this.#catchingUp = undefined));
  }

  /** Receipts could not be sent (the hub away, say): they stay owed, and a catch-up follows; said once until one goes through. */
  #fellBehind(error: unknown): void {
    if (!this.#behind) this.#options.log(`hub: receipts wait for the hub, owed in the store: ${String(error)}`);
    this.#behind = true;
    if (this.#catchUpTimer !== undefined) return;
    this.#catchUpTimer = setTimeout(() => {
      this.#catchUpTimer = undefined;
      this.catchUp();
    }, CATCH_UP_MS).unref();
  }

  stop(): void {
    clearTimeout(this.#catchUpTimer);
  }

  async #originOf(messageId: number): Promise<Origin | null> {
    const known = this.#received.get(messageId);
    if (known !== undefined) return known;
    const message = await this.#options.message(messageId);
    return message === null ? null : originOfStored(message);
  }

  #remember(id: number, origin: Origin): void {
    this.#received.set(id, origin);
    if (this.#received.size > REMEMBERED) this.#received.delete(this.#received.keys().next().value as number);
  }

  /**
   * Tells a sender what became of its message, sealed to it like any message. Receipts to one
   * host told in the same turn of the event loop (a commit's worth of deliveries) travel in one
   * envelope; resolves once the hub holds it.
   */
  sendReceipt(origin: Origin, state: HubReceiptState, surface: string, by: string | null, refusal?: Refusal, at = Date.now()): Promise<void> {
    return new Promise((done, failed) => {
      const event: ReceiptEvent = { ref: origin.envelopeId, state, surface, by, at: new Date(at).toISOString(), ...(refusal === undefined ? {} : { refusal }) };
      const receipt = { event, origin, done, failed };
      const waiting = this.#receipts.get(origin.senderHost);
      if (waiting !== undefined) return void waiting.push(receipt);
      this.#receipts.set(origin.senderHost, [receipt]);
      setImmediate(() => void this.#sendReceipts(origin.senderHost));
    });
  }

  async #sendReceipts(host: string): Promise<void> {
    const receipts = this.#receipts.get(host) ?? [];
    this.#receipts.delete(host);
    await this.#publishReceipts(host, receipts, 1);
  }

  /** Publishes receipts to `host`; a failed publish (a leader election, say) is tried again a few seconds later, RECEIPT_TRIES in all. */
  async #publishReceipts(host: string, receipts: PendingReceipt[], attempt: number): Promise<void> {
    try {
      const record = this.#options.registry.host(host)?.record;
      if (record !== undefined) {
        const subject = this.#options.names.receipt(host, this.#options.identity.name);
        // all published before any is waited for: one connection keeps their order
        await Promise.all(receiptsEnvelopes(this.#options.identity, record, receipts).map((envelope) => this.#options.publish(subject, envelope)));
      }
      for (const receipt of receipts) receipt.done();
    } catch (error) {
      if (attempt < RECEIPT_TRIES) setTimeout(() => void this.#publishReceipts(host, receipts, attempt + 1), RETRY_MS).unref();
      else for (const receipt of receipts) receipt.failed(error);
    }
  }

  async #take(m: JsMsg): Promise<void> {
    const { log } = this.#options;
    const envelope = this.#checked(m);
    if (envelope === null) return m.term();
    const sender = this.#options.registry.host(envelope.senderHost);
    if (sender === null) {
      // the replica may not have the sender yet: asked again shortly, but not for ever
      if (m.info.deliveryCount < MAX_TRIES) return m.nak(RETRY_MS);
      log(`hub: dropped an envelope from ${envelope.senderHost}, a host the registry does not know`);
      return m.term();
    }
    let secret: ReturnType<typeof open>;
    try {
      secret = open(envelope, { host: this.#options.identity.name, box: this.#options.box, senderPublicKey: sender.key });
    } catch (error) {
      log(`hub: dropped an envelope from ${envelope.senderHost}: ${(error as Error).message}`);
      return m.term();
    }
    if (envelope.kind === 'receipt') {
      await this.#options.outbox.applyReceipt(secret.text, envelope.senderHost);
      return m.ack();
    }
    const origin: Origin = { envelopeId: envelope.id, senderHost: envelope.senderHost, from: envelope.from, to: envelope.to };
    /**
     * The sender told what became of its message, then the hub lets the message go (`release`):
     * a receipt that cannot be sent now leaves the message with the hub, which delivers it again.
     */
    const tellThen = async (state: HubReceiptState, release: () => void, refusal?: Refusal): Promise<void> => {
      try {
        await this.sendReceipt(origin, state, 'hub', null, refusal);
      } catch (error) {
        log(`hub: the receipt to ${origin.senderHost} could not be sent: ${String(error)}`);
        return m.nak(RETRY_MS);
      }
      release();
    };
    /** A copy of a message stored here already counts as stored: told so and acknowledged (true), else false. */
    const storedAlready = async (): Promise<boolean> => {
      if ((await this.#options.store.messageByOrigin(envelope.id)) === null) return false;
      await tellThen('stored', () => m.ack());
      return true;
    };
    /** Not taken here: the sender hears so before the hub lets the message go. */
    const refuse = async (state: 'expired' | 'refused', refusal?: Refusal): Promise<void> => {
      // a second copy of a stored message (re-published past the hub's duplicate window) is stored, not refused
      if (await storedAlready()) return;
      return tellThen(state, () => (state === 'expired' ? m.ack() : m.term()), refusal);
    };
    // a redelivery of one already stored (its acknowledgement, or its receipt, was lost): it counts
    // as stored. A first delivery is looked up by the store's own insert instead (a second copy
    // the hub took past its duplicate window is stored and shown once), which saves a read.
    if (m.info.deliveryCount > 1 && (await storedAlready())) return;
    // never shown late: its sender hears it expired
    if (envelope.expiresAt !== null && envelope.expiresAt <= Date.now()) return refuse('expired');
    const unfit = this.#unfit(secret);
    if (unfit !== null) {
      log(`hub: refused a message from ${envelope.senderHost} to ${envelope.to}: ${unfit}`);
      return refuse('refused', { status: new NetApiError('ERROR_INVALID_PARAMETER').status, message: unfit });
    }
    // one take per message at a time: a redelivery racing the first is not stored twice
    if (this.#taking.has(envelope.id)) return m.nak(RETRY_MS);
    this.#taking.add(envelope.id);
    let stored: { id: number };
    try {
      stored = await this.#options.receive({
        from: envelope.from,
        to: envelope.to,
        ...(secret.title === undefined ? {} : { title: secret.title }),
        text: secret.text,
        // a netsend host, verified by its key: the hub only carried it; relayed by a gateway from
        // the legacy wire, its sender's name is no more proven than there
        via: envelope.kind === 'relayed' ? 'smb' : 'netsend',
        // a relayed message's `user` is the legacy client's endpoint at the gateway's site
        sender: senderOf({
          ...(envelope.kind === 'relayed' ? legacyClient(secret.user) : { user: secret.user }),
          host: { name: envelope.senderHost, fingerprint: envelope.senderKey },
        }),
        priority: envelope.priority,
        ...(envelope.expiresAt === null ? {} : { expiresAt: envelope.expiresAt }),
        origin: envelope.id,
      });
    } catch (error) {
      // the front door's rate limit passes; any other refusal (no such alias, the alias's rules) is final
      if (error instanceof NetApiError && error.statusName === 'NERR_NameInUse') return m.nak(RETRY_MS);
      if (!(error instanceof NetApiError)) throw error;
      log(`hub: refused a message from ${envelope.senderHost} to ${envelope.to}: ${error.message}`);
      // its sender hears why, as a direct send would have
      return refuse('refused', { status: error.status, message: error.message });
    } finally {
      this.#taking.delete(envelope.id);
    }
    this.#remember(stored.id, origin);
    // Acknowledged once the receipt is at the hub, so that a receipt lost with a node is sent
    // again with the redelivery. Receipts of a commit's worth of deliveries travel together, so
    // this costs a round trip per batch, not per message.
    return tellThen('stored', () => m.ack());
  }

  /** Why a message's secret is not one this host takes; null when it is. */
  #unfit(secret: EnvelopeSecret): string | null {
    const bytes = secret.text.length * 2;
    if (bytes > this.#options.maxMessageBytes) return `The message is ${bytes} bytes of UTF-16, over this host's "max message size" of ${this.#options.maxMessageBytes}.`;
    if (!secret.text.isWellFormed() || (secret.title !== undefined && !isTitleAsSent(secret.title))) return 'The message\'s text or title is not well-formed (a lone surrogate, or a title that is not one line of at most 256 characters).';
    return null;
  }

  /**
   * The envelope, if it is one and the subject's sender is its signer; null (said) when it can
   * never be taken. Any envelope up to the largest one can be is read (an authenticated host's,
   * within the hub's max_payload): one over this host's "max message size" is refused after its
   * signature is checked, so that its sender hears why.
   */
  #checked(m: JsMsg): Envelope | null {
    try {
      const envelope = decodeEnvelope(m.data);
      // published under one host's name and signed as another: not taken
      if (this.#options.names.senderOf(m.subject) === subjectToken(envelope.senderHost)) return envelope;
      this.#options.log(`hub: dropped an envelope on ${m.subject}: it names ${envelope.senderHost} as its sender`);
    } catch (error) {
      // nothing a retry would mend (a name no subject can carry included)
      this.#options.log(`hub: dropped an envelope on ${m.subject}: ${(error as Error).message}`);
    }
    return null;
  }
}

/** Where a stored message came from through the hub; null for one that came another way. */
function originOfStored(message: StoredMessage): Origin | null {
  if (message.origin === undefined || message.sender.host === null) return null;
  return { envelopeId: message.origin, senderHost: message.sender.host.name, from: message.from, to: message.to };
}

/** The legacy client a relayed message came from, as its gateway sealed it ("ADDRESS:PORT"); nothing if it is not one. */
function legacyClient(endpoint: string | null): { address: string | null; port: number | null } {
  return (endpoint === null ? null : parseEndpoint(endpoint)) ?? { address: null, port: null };
}
