/**
 * A host's inbox at the hub: its durable consumer's deliveries, each checked (the subject's
 * sender is the envelope's signer, the signature holds, the recipient is this host), opened, and
 * stored through the Messenger's one accept path before it is acknowledged to the hub. A second
 * delivery of a stored message counts as stored. Receipts from hosts this one sent to land here
 * too; receipts for the hosts this one received from leave through receipts-out.ts.
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { KeyObject } from 'node:crypto';
import { NetApiError } from '../messenger/errors.js';
import { isTitleAsSent, type IncomingMessage } from '../messenger/message.js';
import { parseEndpoint } from '../messenger/address.js';
import { senderOf } from '../messenger/sender.js';
import { decodeBundle, isBundle, openBundle, type RawBundle } from './bundle.js';
import { untilDone, type HubConnection } from './connection.js';
import { decodeEnvelope, open, unseal, type Envelope, type EnvelopeSecret, type SealedItem } from './envelope.js';
import type { Origin, Refusal } from './mail.js';
import type { HubReceiptState, HubStore, Outbox } from './outbox.js';
import { SenderReceipts, UnsendableReceipt, type SenderReceiptsOptions } from './receipts-out.js';
import type { NameRegistry } from './registry.js';
import { subjectToken } from './subject.js';

/** Deliveries asked of the hub at once, and taken (stored) at once; and the most messages taken at once, bundles counted by what they carry. */
const BATCH = 64;
const MAX_TAKING = 4 * BATCH;
/** Deliveries of a message whose sender the registry does not know, before it is dropped. */
const MAX_TRIES = 100;
/** How long a pull request for deliveries lasts before it is renewed (nats.js's default is 30 s). */
const PULL_EXPIRES_MS = 10_000;
/**
 * How often the server says a pull is alive while it has nothing to deliver (nats.js's default
 * is half the pull's life): two missed, and the inbox is taken anew. One small message per idle
 * host every 2 s is the server's cost; a pull that died with a server is found after 4-6 s, not 10-15 s.
 */
const PULL_HEARTBEAT_MS = 2_000;
/** A pull no server took (503: the consumer has no leader, as in an election) is made again after this. */
const UNANSWERED_PULL_MS = 500;
/**
 * How long pulls made again (a pull that died or no server took, a connection that moved) may
 * hear nothing at all before the consumer is looked up again: longer than a leader election,
 * during which a lookup would only wait out its requests' timeouts.
 */
const SILENT_LOOKUP_MS = 15_000;
/** A delivery the front door turned away for now (a rate limit), or whose sender the replica does not know yet, comes again after this. */
const RETRY_MS = 2000;
/** Failed sends of a message's receipt, before the message is let go all the same (its sender keeps 'queued'), and how many messages are counted. */
const RECEIPT_FAILURES = 10;
const FAILURES_KEPT = 1024;
/** Messages remembered as stored and told (#storedAndTold): more than a few bundles' worth. */
const STORED_KEPT = 4096;

/** What the inbox needs, and what its receipts to senders need (receipts-out.ts). */
export interface InboxOptions extends SenderReceiptsOptions {
  readonly box: KeyObject;
  readonly registry: NameRegistry;
  readonly outbox: Outbox;
  readonly store: Pick<HubStore, 'messageByOrigin' | 'owedReceipts' | 'receiptsTold'>;
  /** "max message size" here, in UTF-16 bytes. */
  readonly maxMessageBytes: number;
  receive(message: IncomingMessage): Promise<{ id: number }>;
}

/** Where the inbox's consumer comes from (connection.ts): looked up (made if missing), and told of the connection's next reconnect. */
export type ConsumerSource = Pick<HubConnection, 'inbox' | 'onNextReconnect'>;

/** Why a consumption of the inbox ended: to pull again at once on the same consumer, or for its consumer to be looked up (made) again. */
export type ConsumptionEnd = 'retake' | 'ended';
/** How a consumption ended, and whether it heard from the server at all (a delivery or a heartbeat). */
export interface Consumption {
  readonly why: ConsumptionEnd;
  readonly heard: boolean;
}

/** What a delivery is told once its messages are taken: acknowledged, asked again after RETRY_MS, or never again. */
type Disposition = 'ack' | 'nak' | 'term';

export class HubInbox {
  readonly #options: InboxOptions;
  /** Messages whose receipt could not be sent, and how often, by envelope id. */
  readonly #receiptFailures = new Map<string, number>();
  /** Messages being stored now, by envelope id. */
  readonly #taking = new Set<string>();
  /**
   * The newest messages stored here whose "stored" receipt the hub holds, by envelope id: a bundle
   * delivered again (one of its messages had to wait) costs no store read or receipt for them.
   */
  readonly #storedAndTold = new Set<string>();

  /** Receipts to the hosts messages came from. */
  readonly receipts: SenderReceipts;

  constructor(options: InboxOptions) {
    this.#options = options;
    this.receipts = new SenderReceipts(options);
  }

  /**
   * The inbox, consumed until `stopping()`. A pull that died with its server (two heartbeats
   * missed), that no server took (the consumer has no leader yet), or a connection that moved to
   * another server, is pulled again on the same consumer without waiting on a request, so
   * deliveries resume soon after the consumer has a leader. nats.js alone would pull again only
   * once its consumer's info answered, 5-15 s after each try that did not, as while the cluster
   * elects a leader: 17 s without deliveries after a server died. After SILENT_LOOKUP_MS of pulls
   * that heard nothing, or when the consumption ends otherwise (its consumer deleted, say), the
   * consumer is looked up (and made) again, with a growing pause after each failure.
   */
  async keepConsuming(source: ConsumerSource, stopping: () => boolean): Promise<void> {
    const consumeOnce = async () => {
      while (!stopping()) {
        const consumer = await source.inbox();
        // since when pulls heard nothing at all: after SILENT_LOOKUP_MS the consumer may be gone (deleted while no pull waited)
        for (let silentSince: number | undefined; !stopping(); ) {
          const started = performance.now();
          const retake = new AbortController();
          const cancel = source.onNextReconnect(() => retake.abort());
          let ended: Consumption;
          try {
            ended = await this.consume(consumer, stopping, retake.signal);
          } finally {
            cancel();
          }
          if (ended.why === 'ended' && !stopping()) throw new Error('its consumer ended');
          if (ended.heard) silentSince = undefined;
          else if (performance.now() - (silentSince ??= started) >= SILENT_LOOKUP_MS) break;
        }
      }
    };
    await untilDone(consumeOnce, stopping, (error) => this.#options.log(`hub: the inbox stopped (${String(error)}); taking it again`));
  }

  /**
   * Takes deliveries as they come, up to BATCH at once: each waits on the store's commit, and
   * the store commits those that wait together in one transaction, so one at a time would leave
   * the hub's throughput at one fsync per message. They are started in delivery order, and the
   * store keeps the order its requests come in.
   */
  async consume(consumer: Consumer, stopping: () => boolean, retake?: AbortSignal): Promise<Consumption> {
    const messages = await consumer.consume({ max_messages: BATCH, expires: PULL_EXPIRES_MS, idle_heartbeat: PULL_HEARTBEAT_MS });
    // Ends this consumption (what was delivered still goes through), for the caller to pull again
    // at once ('retake'): when `retake` says so, when two heartbeats are missed (the pull died
    // with the server that held it), and shortly after a pull no server took (the consumer has
    // no leader yet). nats.js would wait for more heartbeats missed, then pull again only once
    // its consumer's info answered, 5-15 s after each try that did not. A consumer deleted under
    // it, or limits its pulls exceed, end it too, for the caller to look the consumer up again.
    let why: ConsumptionEnd | undefined;
    let heard = false;
    let unanswered: NodeJS.Timeout | undefined;
    const end = (reason: ConsumptionEnd) => {
      if (why !== undefined) return;
      why = reason;
      messages.close().catch(() => {});
    };
    const retakeNow = () => end('retake');
    if (retake?.aborted === true) retakeNow();
    retake?.addEventListener('abort', retakeNow, { once: true });
    void (async () => {
      for await (const status of messages.status()) {
        if (status.type === 'heartbeat') heard = true;
        else if (status.type === 'heartbeats_missed') retakeNow();
        else if (status.type === 'no_responders') unanswered ??= setTimeout(retakeNow, UNANSWERED_PULL_MS);
        else if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found') end('ended');
        else if (status.type === 'exceeded_limits') {
          this.#options.log(`hub: the inbox's pulls exceed the consumer's limits (${status.description}); looking it up again`);
          end('ended');
        }
      }
    })();
    // what became of messages while the hub was away (or the daemon down) goes now
    this.receipts.catchUp();
    /** Deliveries being taken, and how many messages each carries. */
    const taking = new Map<Promise<void>, number>();
    let messagesTaken = 0;
    try {
      for await (const m of messages) {
        heard = true;
        if (stopping()) break;
        const parcel = this.#checked(m);
        const weight = parcel === null ? 1 : 'items' in parcel ? parcel.items.length : 1;
        const take: Promise<void> = this.#take(m, parcel)
          .catch((error: unknown) => {
            this.#options.log(`hub: a delivery could not be taken now: ${String(error)}`);
            // the connection may be closing: the hub delivers it again after the ack wait
            try {
              m.nak(RETRY_MS);
            } catch {}
          })
          .finally(() => {
            taking.delete(take);
            messagesTaken -= weight;
          });
        taking.set(take, weight);
        messagesTaken += weight;
        while (taking.size >= BATCH || messagesTaken >= MAX_TAKING) await Promise.race(taking.keys());
      }
    } finally {
      retake?.removeEventListener('abort', retakeNow);
      clearTimeout(unanswered);
      await Promise.allSettled(taking.keys());
    }
    return { why: why ?? 'ended', heard };
  }

  /**
   * One delivery: an envelope, or a bundle of them (bundle.ts), from a host the registry knows,
   * whose signature holds. Each message in it is taken on its own; the delivery is acknowledged
   * once every one is stored or refused (its sender told), and asked again if any one must wait
   * (the ones stored meanwhile then count as stored).
   */
  async #take(m: JsMsg, parcel: Envelope | RawBundle | null): Promise<void> {
    const { log } = this.#options;
    if (parcel === null) return m.term();
    const what = 'items' in parcel ? `a bundle of ${parcel.items.length}` : 'an envelope';
    const sender = this.#options.registry.host(parcel.senderHost);
    if (sender === null) {
      // the replica may not have the sender yet: asked again shortly, but not for ever
      if (m.info.deliveryCount < MAX_TRIES) return m.nak(RETRY_MS);
      log(`hub: dropped ${what} from ${parcel.senderHost}, a host the registry does not know`);
      return m.term();
    }
    const keys = { host: this.#options.identity.name, box: this.#options.box };
    let opened: Array<{ item: SealedItem; secret: EnvelopeSecret } | Error>;
    try {
      opened =
        'items' in parcel
          ? openBundle(parcel, sender.key).map((item) => {
              try {
                return { item, secret: unseal(item, keys) };
              } catch (error) {
                return error as Error;
              }
            })
          : [{ item: parcel, secret: open(parcel, { ...keys, senderPublicKey: sender.key }) }];
    } catch (error) {
      log(`hub: dropped ${what} from ${parcel.senderHost}: ${(error as Error).message}`);
      return m.term();
    }
    // every message's take is waited for, whatever becomes of the others: the delivery's bound holds until then
    const taken = await Promise.allSettled(
      opened.map((one): Disposition | Promise<Disposition> => {
        if (!(one instanceof Error)) return this.#takeOne(one.item, one.secret, m.info.deliveryCount);
        log(`hub: dropped an envelope from ${parcel.senderHost}: ${one.message}`);
        return 'term';
      }),
    );
    const failed = taken.find((result) => result.status === 'rejected');
    // the store failing, say: the hub delivers it again after the ack wait
    if (failed !== undefined) throw failed.reason;
    const dispositions = taken.map((result) => (result as PromiseFulfilledResult<Disposition>).value);
    if (dispositions.includes('nak')) return m.nak(RETRY_MS);
    return dispositions.every((disposition) => disposition === 'term') ? m.term() : m.ack();
  }

  /** One message, its signature checked and its secret opened: what the delivery that carries it should be told. */
  async #takeOne(envelope: SealedItem, secret: EnvelopeSecret, deliveryCount: number): Promise<Disposition> {
    const { log } = this.#options;
    if (envelope.kind === 'receipt') {
      await this.#options.outbox.applyReceipt(secret.text, envelope.senderHost);
      return 'ack';
    }
    const origin: Origin = { envelopeId: envelope.id, senderHost: envelope.senderHost, senderKey: envelope.senderKey, from: envelope.from, to: envelope.to };
    /**
     * The sender told what became of its message, then the hub may let the message go
     * (`release`): a receipt that cannot be sent now leaves the message with the hub, which
     * delivers it again, until its receipt has failed RECEIPT_FAILURES times; one that can never
     * be sent holds nothing up.
     */
    const tellThen = async (state: HubReceiptState, release: Disposition, refusal?: Refusal): Promise<Disposition> => {
      try {
        await this.receipts.send(origin, state, 'hub', null, refusal);
      } catch (error) {
        const failures = (this.#receiptFailures.get(envelope.id) ?? 0) + 1;
        const givenUp = (error instanceof UnsendableReceipt && error.final) || failures >= RECEIPT_FAILURES;
        log(`hub: the receipt to ${origin.senderHost} could not be sent${givenUp ? ', and is given up' : ''}: ${String(error)}`);
        if (!givenUp) {
          this.#receiptFailures.set(envelope.id, failures);
          if (this.#receiptFailures.size > FAILURES_KEPT) this.#receiptFailures.delete(this.#receiptFailures.keys().next().value as string);
          return 'nak';
        }
      }
      this.#receiptFailures.delete(envelope.id);
      return release;
    };
    /** A copy of a message stored here already counts as stored: its sender is told so. Null when it is not stored. */
    const storedAlready = async (): Promise<Disposition | null> => {
      if (this.#storedAndTold.has(envelope.id)) return 'ack';
      return (await this.#options.store.messageByOrigin(envelope.id)) === null ? null : tellThen('stored', 'ack');
    };
    /** Not taken here: the sender hears so before the hub lets the message go. */
    const refuse = async (state: 'expired' | 'refused', refusal?: Refusal): Promise<Disposition> =>
      // a second copy of a stored message (re-published past the hub's duplicate window) is stored, not refused
      (await storedAlready()) ?? tellThen(state, state === 'expired' ? 'ack' : 'term', refusal);
    // a redelivery of one already stored (its acknowledgement, or its receipt, was lost): it counts
    // as stored. A first delivery is looked up by the store's own insert instead (a second copy
    // the hub took past its duplicate window, or in another bundle, is stored and shown once),
    // which saves a read.
    if (deliveryCount > 1) {
      const stored = await storedAlready();
      if (stored !== null) return stored;
    }
    // never shown late: its sender hears it expired
    if (envelope.expiresAt !== null && envelope.expiresAt <= Date.now()) return refuse('expired');
    const unfit = this.#unfit(secret);
    if (unfit !== null) {
      log(`hub: refused a message from ${envelope.senderHost} to ${envelope.to}: ${unfit}`);
      return refuse('refused', { status: new NetApiError('ERROR_INVALID_PARAMETER').status, message: unfit });
    }
    // one take per message at a time: a redelivery racing the first is not stored twice
    if (this.#taking.has(envelope.id)) return 'nak';
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
      if (error instanceof NetApiError && error.statusName === 'NERR_NameInUse') return 'nak';
      if (!(error instanceof NetApiError)) throw error;
      log(`hub: refused a message from ${envelope.senderHost} to ${envelope.to}: ${error.message}`);
      // its sender hears why, as a direct send would have
      return refuse('refused', { status: error.status, message: error.message });
    } finally {
      this.#taking.delete(envelope.id);
    }
    this.receipts.remember(stored.id, origin);
    // Acknowledged once the receipt is at the hub, so that a receipt lost with a node is sent
    // again with the redelivery. Receipts of a commit's worth of deliveries travel together, so
    // this costs a round trip per batch, not per message.
    const disposition = await tellThen('stored', 'ack');
    if (disposition === 'ack') {
      this.#storedAndTold.add(envelope.id);
      if (this.#storedAndTold.size > STORED_KEPT) this.#storedAndTold.delete(this.#storedAndTold.values().next().value as string);
    }
    return disposition;
  }

  /** Why a message's secret is not one this host takes; null when it is. */
  #unfit(secret: EnvelopeSecret): string | null {
    const bytes = secret.text.length * 2;
    if (bytes > this.#options.maxMessageBytes) return `The message is ${bytes} bytes of UTF-16, over this host's "max message size" of ${this.#options.maxMessageBytes}.`;
    if (!secret.text.isWellFormed() || (secret.title !== undefined && !isTitleAsSent(secret.title))) return 'The message\'s text or title is not well-formed (a lone surrogate, or a title that is not one line of at most 256 characters).';
    return null;
  }

  /**
   * The envelope or bundle, if it is one and the subject's sender is its signer; null (said)
   * when it can never be taken. Any envelope up to the largest one can be is read (an
   * authenticated host's, within the hub's max_payload): one over this host's "max message size"
   * is refused after its signature is checked, so that its sender hears why.
   */
  #checked(m: JsMsg): Envelope | RawBundle | null {
    try {
      const parcel = isBundle(m.data) ? decodeBundle(m.data) : decodeEnvelope(m.data);
      // published under one host's name and signed as another: not taken
      if (this.#options.names.senderOf(m.subject) === subjectToken(parcel.senderHost)) return parcel;
      this.#options.log(`hub: dropped an envelope on ${m.subject}: it names ${parcel.senderHost} as its sender`);
    } catch (error) {
      // nothing a retry would mend (a name no subject can carry included)
      this.#options.log(`hub: dropped an envelope on ${m.subject}: ${(error as Error).message}`);
    }
    return null;
  }
}

/** The legacy client a relayed message came from, as its gateway sealed it ("ADDRESS:PORT"); nothing if it is not one. */
function legacyClient(endpoint: string | null): { address: string | null; port: number | null } {
  return (endpoint === null ? null : parseEndpoint(endpoint)) ?? { address: null, port: null };
}
