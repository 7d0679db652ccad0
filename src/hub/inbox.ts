/**
 * A host's inbox at the hub: its durable consumer's deliveries, each checked (the subject's
 * sender is the envelope's signer, the signature holds, the recipient is this host), opened, and
 * stored through the Messenger's one accept path before it is acknowledged to the hub. A second
 * delivery of a stored message counts as stored. Receipts from hosts this one sent to land here too.
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { KeyObject } from 'node:crypto';
import { NetApiError } from '../messenger/errors.js';
import type { IncomingMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import type { HostIdentity } from '../security/host-identity.js';
import type { realmNames } from './connection.js';
import { decodeEnvelope, open, type Envelope } from './envelope.js';
import { receiptEnvelope, type Origin } from './mail.js';
import type { HubReceiptState, HubStore, Outbox } from './outbox.js';
import type { NameRegistry } from './registry.js';
import { subjectToken } from './subject.js';

/** Deliveries asked of the hub at once, and taken (stored) at once. */
const BATCH = 64;
/** A delivery the front door turned away for now (a rate limit), or whose sender the replica does not know yet, comes again after this. */
const RETRY_MS = 2000;

export interface InboxOptions {
  readonly identity: HostIdentity;
  readonly box: KeyObject;
  readonly names: ReturnType<typeof realmNames>;
  readonly registry: NameRegistry;
  readonly outbox: Outbox;
  readonly store: Pick<HubStore, 'messageByOrigin'>;
  receive(message: IncomingMessage): Promise<{ id: number }>;
  publish(subject: string, envelope: Envelope): Promise<void>;
  /** A message stored from the hub, for its later receipts. */
  remember(id: number, origin: Origin): void;
  log(line: string): void;
}

export class HubInbox {
  readonly #options: InboxOptions;

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
    const messages = await consumer.consume({ max_messages: BATCH });
    const taking = new Set<Promise<void>>();
    for await (const m of messages) {
      if (stopping()) break;
      const take: Promise<void> = this.#take(m)
        .catch((error: unknown) => {
          this.#options.log(`hub: a delivery could not be taken now: ${String(error)}`);
          m.nak(RETRY_MS);
        })
        .finally(() => taking.delete(take));
      taking.add(take);
      if (taking.size >= BATCH) await Promise.race(taking);
    }
    await Promise.allSettled(taking);
  }

  /** Tells a sender what became of its message: sealed to it, like any message. */
  async sendReceipt(origin: Origin, state: HubReceiptState, surface: string, by: string | null): Promise<void> {
    const record = this.#options.registry.host(origin.senderHost)?.record;
    if (record === undefined) return;
    const envelope = receiptEnvelope(this.#options.identity, origin, record, { state, surface, by });
    await this.#options.publish(this.#options.names.receipt(origin.senderHost, this.#options.identity.name), envelope);
  }

  async #take(m: JsMsg): Promise<void> {
    const { log, names } = this.#options;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(m.data);
    } catch (error) {
      // nothing a retry would mend: dropped, and said
      log(`hub: dropped an envelope on ${m.subject}: ${(error as Error).message}`);
      return m.term();
    }
    if (names.senderOf(m.subject) !== subjectToken(envelope.senderHost)) {
      // published under one host's name and signed as another: not taken
      log(`hub: dropped an envelope on ${m.subject}: it names ${envelope.senderHost} as its sender`);
      return m.term();
    }
    const sender = this.#options.registry.host(envelope.senderHost);
    // the replica may not have the sender yet: asked again shortly
    if (sender === null) return m.nak(RETRY_MS);
    let secret: ReturnType<typeof open>;
    try {
      secret = open(envelope, { host: this.#options.identity.name, box: this.#options.box, senderPublicKey: sender.key });
    } catch (error) {
      log(`hub: dropped an envelope from ${envelope.senderHost}: ${(error as Error).message}`);
      return m.term();
    }
    if (envelope.kind === 'receipt') {
      await this.#options.outbox.applyReceipt(secret.text);
      return m.ack();
    }
    // a redelivery of one already stored (its acknowledgement was lost): it counts as stored
    if ((await this.#options.store.messageByOrigin(envelope.id)) !== null) return m.ack();
    const origin: Origin = { envelopeId: envelope.id, senderHost: envelope.senderHost, from: envelope.from, to: envelope.to };
    if (envelope.expiresAt !== null && envelope.expiresAt <= Date.now()) {
      // never shown late: its sender hears it expired
      await this.sendReceipt(origin, 'expired', 'hub', null);
      return m.ack();
    }
    let stored: { id: number };
    try {
      stored = await this.#options.receive({
        from: envelope.from,
        to: envelope.to,
        text: secret.text,
        // a netsend host, verified by its key: the hub only carried it
        via: 'netsend',
        sender: senderOf({ user: secret.user, host: { name: envelope.senderHost, fingerprint: envelope.senderKey } }),
        priority: envelope.priority,
        ...(envelope.expiresAt === null ? {} : { expiresAt: envelope.expiresAt }),
        origin: envelope.id,
      });
    } catch (error) {
      // the front door's rate limit passes; any other refusal (no such alias, the alias's rules) is final
      if (error instanceof NetApiError && error.statusName === 'NERR_NameInUse') return m.nak(RETRY_MS);
      if (!(error instanceof NetApiError)) throw error;
      log(`hub: refused a message from ${envelope.senderHost} to ${envelope.to}: ${error.message}`);
      return m.term();
    }
    this.#options.remember(stored.id, origin);
    m.ack();
    // the next delivery need not wait for this receipt to reach the hub
    void this.sendReceipt(origin, 'stored', 'hub', null).catch((error: unknown) => this.#options.log(`hub: the receipt to ${origin.senderHost} could not be sent: ${String(error)}`));
  }
}
