/**
 * The organisation hub as one host sees it: its names in the realm's registry, its messages to
 * hosts elsewhere (sealed to the recipient host, signed by this one, published with their id so
 * JetStream drops a duplicate), and its inbox (a durable consumer: a message is acknowledged to
 * the hub only once it is stored here). Receipts travel back the same way.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { HubStatus } from '../control/services.js';
import type { Receipt } from '../messenger/events.js';
import { NetApiError } from '../messenger/errors.js';
import type { IncomingMessage } from '../messenger/message.js';
import { senderOf } from '../messenger/sender.js';
import type { OutgoingMessage, SendReport } from '../messenger/outgoing.js';
import { SUFFIX } from '../protocols/netbios-name/index.js';
import type { NameResolver } from '../resolve/resolver.js';
import type { HostIdentity } from '../security/host-identity.js';
import { HubConnection, HEARTBEAT_MS, realmNames, type HubSettings, type HubState } from './connection.js';
import { decodeEnvelope, encodeEnvelope, open, type Envelope } from './envelope.js';
import { messageEnvelope, receiptEnvelope, type Origin } from './mail.js';
import type { HubKeys } from './keys.js';
import { Outbox, type HubReceiptState } from './outbox.js';
import { NameRegistry } from './registry.js';
import { subjectToken } from './subject.js';

/** How long `send` waits for the recipient's "stored" before it answers "queued". */
const STORED_WAIT_MS = 2000;
/** How long one publish waits for the hub's acknowledgement. */
const PUBLISH_TIMEOUT_MS = 5000;

export interface HubOptions {
  readonly settings: HubSettings;
  readonly identity: HostIdentity;
  readonly keys: HubKeys;
  readonly workgroup: string;
  /** R3 needs three servers; a single dev server takes R1. */
  readonly replicas: number;
  log(line: string): void;
}

/** What the hub asks of the Messenger, which exists after the hub (the hub resolves its names). */
export interface HubMessenger {
  /** Stores a message that came through the hub (the Messenger's one accept path): resolves once committed. */
  receive(message: IncomingMessage): Promise<{ id: number }>;
  /** This host's aliases, claimed in the realm once the hub is joined. */
  aliases(): string[];
}


export class Hub {
  readonly #options: HubOptions;
  readonly outbox = new Outbox();
  #connection: HubConnection | undefined;
  #registry: NameRegistry | undefined;
  #ready: Promise<void> | undefined;
  #messenger: HubMessenger | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** Messages received through the hub, for receipts back to their sender: local id → envelope. */
  readonly #received = new Map<number, Origin>();
  readonly #seen = new Map<string, number>();
  /** Aliases added before the hub was joined: claimed once it is. */
  readonly #pendingClaims = new Set<string>();

  constructor(options: HubOptions) {
    this.#options = options;
  }

  /** Connects in the background: the daemon starts whether or not the hub answers. */
  start(messenger: HubMessenger): void {
    this.#messenger = messenger;
    this.#ready = this.#connect().catch((error: unknown) => {
      if (!this.#stopping) this.#options.log(`hub: cannot join the hub: ${String(error)}`);
    });
  }

  /** Resolves once the hub is joined (or given up on): for tests and the first claims. */
  ready(): Promise<void> {
    return this.#ready ?? Promise.resolve();
  }

  get registry(): NameRegistry | undefined {
    return this.#registry;
  }

  status(): HubStatus {
    return {
      state: this.#connection?.state ?? 'starting',
      server: this.#connection?.server ?? null,
      realm: this.#options.settings.realm,
      pending: this.outbox.pending(),
      registry: this.#registry?.size ?? 0,
      claims: this.#registry?.ownNames() ?? [],
      conflicts: [...(this.#registry?.conflicts ?? [])],
    };
  }

  /** `name resolve order`'s hub: a name another host of the realm holds is reached through the hub. */
  readonly resolver: NameResolver = {
    resolve: async (name, suffix) => {
      const owner = suffix === SUFFIX.messenger ? this.ownerOf(name) : null;
      return owner === null ? null : { address: '', port: 0, viaHub: owner };
    },
  };

  /**
   * Claims an alias of this host in the realm. The hub away, the claim waits for it (and a clash
   * found then is logged and shown by `hub status`).
   * @throws NetApiError NERR_DuplicateName when another host of the realm holds it
   */
  async claim(name: string): Promise<void> {
    const registry = this.#registry;
    if (registry === undefined) {
      this.#pendingClaims.add(name);
      return;
    }
    try {
      await registry.claim(name);
    } catch (error) {
      if (!(error instanceof NetApiError) || error.statusName !== 'NERR_NetworkError') throw error;
      registry.keep(name);
    }
  }

  async release(name: string): Promise<void> {
    this.#pendingClaims.delete(name);
    await this.#registry?.release(name).catch((error: unknown) => this.#options.log(`hub: releasing ${name} failed: ${String(error)}`));
  }

  /** The host that holds `name` elsewhere in the realm, from the replica. */
  ownerOf(name: string): string | null {
    const owner = this.#registry?.owner(name);
    return owner === null || owner === undefined || owner.name === this.#options.identity.name ? null : owner.name;
  }

  /**
   * Sends through the hub to the host that holds `message.to`. Resolves once the hub holds it
   * durably (or, the hub away, once it waits in the outbox), saying whether the recipient has
   * stored it yet.
   */
  async send(message: OutgoingMessage, host: string): Promise<SendReport> {
    const record = this.#registry?.host(host)?.record;
    if (record === undefined) throw new NetApiError('NERR_NameNotFound', `No host ${host} is known to the organisation hub.`);
    const envelope = messageEnvelope(this.#options.identity, message, record);
    const max = this.#connection?.state === 'connected' ? this.#connection.nc.info?.max_payload : undefined;
    const bytes = encodeEnvelope(envelope).length;
    if (max !== undefined && bytes > max) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', `The message is too long for the hub: ${bytes} bytes sealed, and its servers take at most ${max} (max_payload; see docs/hub.md).`);
    }
    const entry = this.outbox.add(envelope, realmNames(this.#options.settings.realm).message(host, this.#options.identity.name));
    await this.#publish(entry.id).catch(() => {});
    const stored = await this.outbox.waitFor(entry.id, 'stored', STORED_WAIT_MS);
    return { secure: true, hub: stored ? 'stored' : 'queued', receipt: { host: `hub:${host}`, message: entry.id } };
  }

  /** What became of a message this host sent through the hub (its outbox id). */
  receipt(id: number): Receipt {
    const receipt = this.outbox.receipt(id);
    if (receipt === null) throw new NetApiError('ERROR_NOT_FOUND', `No message ${id} was sent through the hub from here.`);
    return receipt;
  }

  /** A surface's event for a message that came through the hub: told to its sender. */
  tellSender(messageId: number, state: HubReceiptState, surface: string, by: string | null): void {
    const origin = this.#received.get(messageId);
    if (origin === undefined) return;
    void this.#sendReceipt(origin, state, surface, by).catch((error: unknown) => this.#options.log(`hub: a receipt for ${origin.senderHost} failed: ${String(error)}`));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    this.#registry?.stop();
    await this.#connection?.close();
  }

  async #connect(): Promise<void> {
    const { settings, log } = this.#options;
    const connection = await HubConnection.open(settings, log);
    this.#connection = connection;
    // Right after a stream or bucket is made, and during a leader election, the cluster answers
    // with timeouts or "jetstream is not enabled": the join is tried again until it holds.
    for (let attempt = 0; !this.#stopping; attempt++) {
      try {
        await this.#join(connection);
        break;
      } catch (error) {
        if (error instanceof NetApiError && error.statusName === 'NERR_DuplicateName') throw error;
        if (attempt === 3) log(`hub: joining the realm is taking a while (${String(error)}); still trying`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5000)));
      }
    }
    if (this.#stopping) return;
    log(`hub: joined realm ${settings.realm} at ${connection.server ?? settings.servers.join(', ')}`);
    void this.#consume().catch((error: unknown) => log(`hub: the inbox stopped: ${String(error)}`));
    await this.#drain();
  }

  /** The stream, the registry (claiming this host's names) and the heartbeat. */
  async #join(connection: HubConnection): Promise<void> {
    const { identity, keys, workgroup, replicas, log } = this.#options;
    await connection.ensureStream(replicas);
    const registry = new NameRegistry({ kv: await connection.registryBucket(replicas), identity, workgroup, boxKey: keys.boxPublic, boxSig: keys.boxSig, log });
    for (const name of [...(this.#messenger?.aliases() ?? []), ...this.#pendingClaims]) {
      if (name !== identity.name) registry.keep(name);
    }
    try {
      await registry.start();
    } catch (error) {
      registry.stop();
      throw error;
    }
    this.#registry = registry;
    this.#pendingClaims.clear();
    this.#timer = setInterval(() => void registry.refresh().catch((error: unknown) => log(`hub: refreshing this host's names failed: ${String(error)}`)), HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** Publishes what waits in the outbox, oldest first. */
  async #drain(): Promise<void> {
    for (const id of this.outbox.waiting()) await this.#publish(id).catch(() => {});
  }

  async #publish(id: number): Promise<void> {
    const entry = this.outbox.get(id);
    if (entry === null || entry.published || this.#connection?.state !== 'connected') return;
    await this.#connection.jetstream().publish(entry.subject, encodeEnvelope(entry.envelope), { msgID: entry.envelope.id, timeout: PUBLISH_TIMEOUT_MS });
    this.outbox.published(id);
  }

  async #consume(): Promise<void> {
    const consumer = await (this.#connection as HubConnection).inbox();
    const messages = await consumer.consume({ max_messages: 64 });
    for await (const m of messages) {
      if (this.#stopping) break;
      await this.#handle(m).catch((error: unknown) => {
        this.#options.log(`hub: a delivery could not be taken: ${String(error)}`);
        m.nak(5000);
      });
    }
  }

  async #handle(m: JsMsg): Promise<void> {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(m.data);
    } catch (error) {
      // nothing any retry would mend: dropped, and said
      this.#options.log(`hub: dropped an envelope on ${m.subject}: ${(error as Error).message}`);
      return m.term();
    }
    if (realmNames(this.#options.settings.realm).senderOf(m.subject) !== subjectToken(envelope.senderHost)) {
      // published under one host's name and signed by another: not taken
      this.#options.log(`hub: dropped an envelope on ${m.subject}: it names ${envelope.senderHost} as its sender`);
      return m.term();
    }
    const sender = this.#registry?.host(envelope.senderHost);
    if (sender === undefined || sender === null) {
      // the replica may not have the sender yet: ask again shortly
      return m.nak(2000);
    }
    const secret = open(envelope, { host: this.#options.identity.name, box: this.#options.keys.box, senderPublicKey: sender.key });
    if (envelope.kind === 'receipt') {
      this.outbox.applyReceipt(secret.text);
      return m.ack();
    }
    const known = this.#seen.get(envelope.id);
    if (known !== undefined) return m.ack(); // a redelivery of one already stored: it counts as stored
    const origin = { envelopeId: envelope.id, senderHost: envelope.senderHost, from: envelope.from, to: envelope.to };
    if (envelope.expiresAt !== null && envelope.expiresAt <= Date.now()) {
      // never shown late: the sender hears it expired
      await this.#sendReceipt(origin, 'expired', 'hub', null);
      return m.ack();
    }
    const stored = await (this.#messenger as HubMessenger).receive({
      from: envelope.from,
      to: envelope.to,
      text: secret.text,
      // a netsend host, verified by its key: the hub only carried it
      via: 'netsend',
      sender: senderOf({ user: secret.user, host: { name: envelope.senderHost, fingerprint: envelope.senderKey } }),
      priority: envelope.priority,
      ...(envelope.expiresAt === null ? {} : { expiresAt: envelope.expiresAt }),
    });
    this.#seen.set(envelope.id, stored.id);
    this.#received.set(stored.id, origin);
    m.ack();
    await this.#sendReceipt(origin, 'stored', 'hub', null).catch(() => {});
  }

  async #sendReceipt(origin: Origin, state: HubReceiptState, surface: string, by: string | null): Promise<void> {
    const record = this.#registry?.host(origin.senderHost)?.record;
    if (record === undefined || this.#connection?.state !== 'connected') return;
    const envelope = receiptEnvelope(this.#options.identity, origin, record, { state, surface, by });
    await this.#connection.jetstream().publish(realmNames(this.#options.settings.realm).receipt(origin.senderHost, this.#options.identity.name), encodeEnvelope(envelope), {
      msgID: envelope.id,
      timeout: PUBLISH_TIMEOUT_MS,
    });
  }
}
