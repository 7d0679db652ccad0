/**
 * The organisation hub as one host sees it: its names in the realm's registry, its messages to
 * hosts elsewhere (sealed to the recipient host, signed by this one as they are published, alone
 * or bundled, with an id by which JetStream drops a duplicate), and its inbox (a durable consumer:
 * a message is acknowledged to the hub only once it is stored here). Receipts travel back the
 * same way.
 */
import type { HubStatus } from '../control/services.js';
import type { MessageEvent, Receipt } from '../messenger/events.js';
import type { MessageRef } from '../messenger/receipts.js';
import { NetApiError } from '../messenger/errors.js';
import type { IncomingMessage, StoredMessage } from '../messenger/message.js';
import type { OutgoingMessage, SendReport } from '../messenger/outgoing.js';
import { SUFFIX } from '../protocols/netbios-name/index.js';
import type { NameResolver } from '../resolve/resolver.js';
import type { HostIdentity } from '../security/host-identity.js';
import { HubConnection, HEARTBEAT_MS, realmNames, untilDone, type HubSettings } from './connection.js';
import { encodeEnvelope, signatureFieldBytes, type SealedItem } from './envelope.js';
import { HubInbox } from './inbox.js';
import type { SenderReceipts } from './receipts-out.js';
import { messageEnvelope } from './mail.js';
import type { HubKeys } from './keys.js';
import { Outbox, type HubStore, type OutgoingEntry, type Publish } from './outbox.js';
import { parcelsOf, type PublishEntry } from './parcels.js';
import { readsBundles } from './records.js';
import { NameRegistry } from './registry.js';

/** How long `send` waits for the recipient's "stored" before it answers "queued". */
const STORED_WAIT_MS = 2000;
/**
 * How long `send` and `broadcast` wait for the hub to take a message before they answer that it
 * waits in the outbox. The outbox goes on sending it; without this bound a send made while the
 * stream elects a leader waited for every publish the outbox tried (5 s each) and took up to 30 s.
 */
const HUB_TAKE_WAIT_MS = 5000;
/** How often the outbox is looked at for what the hub has not taken (after a reconnect, a failed publish). */
const DRAIN_INTERVAL_MS = 3000;

export interface HubOptions {
  readonly settings: HubSettings;
  readonly identity: HostIdentity;
  readonly keys: HubKeys;
  readonly workgroup: string;
  /** R3 needs three servers; a single dev server takes R1. */
  readonly replicas: number;
  /** The outbox's store, and the origin of received messages. */
  readonly store: HubStore;
  /** A stored message, for receipts of messages received before a restart. */
  message(id: number): Promise<StoredMessage | null>;
  /** How long a message sent without its own time to live may wait for its recipient; the longest text taken ("max message size", UTF-16 bytes). */
  readonly messageTtlSeconds: number;
  readonly maxMessageBytes: number;
  log(line: string): void;
}

/** What the hub asks of the Messenger, which exists after the hub (the hub resolves its names). */
export interface HubMessenger {
  /** Stores a message that came through the hub (the Messenger's one accept path): resolves once committed. */
  receive(message: IncomingMessage): Promise<{ id: number }>;
  /** The same, for a broadcast to this host's workgroup. */
  receiveBroadcast(message: IncomingMessage): Promise<{ id: number }>;
  /** This host's aliases, claimed in the realm once the hub is joined. */
  aliases(): string[];
}

export class Hub {
  readonly #options: HubOptions;
  readonly #outbox: Outbox;
  #connection: HubConnection | undefined;
  #registry: NameRegistry | undefined;
  #messenger: HubMessenger | undefined;
  /** The heartbeat and the outbox's look for what the hub has not taken. */
  readonly #timers: NodeJS.Timeout[] = [];
  #stopping = false;
  #receipts: SenderReceipts | undefined;
  /** Joined the realm (the stream, this host's consumer and names); and why not, while not. */
  #joined = false;
  #error: string | null = null;
  /** Aliases added before the hub was joined: claimed once it is. */
  readonly #pendingClaims = new Set<string>();

  constructor(options: HubOptions) {
    this.#options = options;
    this.#outbox = new Outbox(options.store);
  }

  /** Connects in the background: the daemon starts whether or not the hub answers. */
  start(messenger: HubMessenger): void {
    this.#messenger = messenger;
    void this.#connect().catch((error: unknown) => {
      if (!this.#stopping) this.#options.log(`hub: cannot join the hub: ${String(error)}`);
    });
  }

  async status(): Promise<HubStatus> {
    return {
      state: this.#connection?.state ?? 'starting',
      joined: this.#joined,
      error: this.#error,
      server: this.#connection?.server ?? null,
      realm: this.#options.settings.realm,
      pending: await this.#outbox.pending(),
      owed: await this.#options.store.countOwedReceipts(),
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
   * Claims an alias of this host in the realm; the hub away, at the next heartbeat after it is
   * back. @throws NetApiError NERR_DuplicateName when another host of the realm holds it
   */
  async claim(name: string): Promise<void> {
    const registry = this.#registry;
    if (registry === undefined) {
      this.#pendingClaims.add(name);
      return;
    }
    if (this.#connection?.state !== 'connected') return registry.reserve(name);
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
   * durably, saying whether the recipient has stored it yet; or, the hub not taking it within
   * HUB_TAKE_WAIT_MS (away, busy, electing a leader), once it waits in the outbox.
   */
  async send(message: OutgoingMessage, host: string, kind: 'message' | 'relayed' = 'message'): Promise<SendReport> {
    const record = this.#registry?.host(host)?.record;
    // the name moved since it was looked up (a cached answer): "not found" makes the router look again
    if (record === undefined || this.ownerOf(message.to) !== host) {
      throw new NetApiError('NERR_NameNotFound', `No host of the organisation holds ${message.to} now.`);
    }
    const envelope = messageEnvelope(this.#options.identity, { ...message, ttlSeconds: message.ttlSeconds ?? this.#options.messageTtlSeconds }, record, kind);
    const entry = this.#entry(envelope, host, message.user);
    const max = this.#connection?.state === 'connected' ? this.#connection.nc.info?.max_payload : undefined;
    // as it will be published on its own, signed (a bundle takes no more than the hub's max_payload, and an envelope too big for one goes alone)
    const bytes = Buffer.byteLength(entry.envelope, 'utf8') + signatureFieldBytes(this.#options.identity.privateKey);
    if (max !== undefined && bytes > max) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', `The message is too long for the hub: ${bytes} bytes sealed, and its servers take at most ${max} (max_payload; see docs/hub.md).`);
    }
    // committed before anything is published: a daemon that dies now sends it when it starts again
    const id = await this.#outbox.add(entry);
    const kept = { ...entry, id };
    const taken = this.#taken(kept);
    // its receipt listened for from before it is published, so the store need not be looked at
    const reached = await this.#outbox.waitFor(kept, 'stored', STORED_WAIT_MS, taken);
    if (reached === 'refused') {
      // the recipient host said no, as it would have to a direct send: the sender hears it so (and the router does not try again)
      const { refusal } = await this.receipt(id, { name: null, administrator: true });
      const words = `${refusal?.message ?? 'The recipient host refused the message.'} (said by ${host}, through the hub)`;
      throw NetApiError.fromStatus(refusal?.status ?? new NetApiError('NERR_NetworkError').status, words, { final: true });
    }
    const stored = reached !== null && reached !== 'expired';
    return { secure: true, hub: stored ? 'stored' : (await taken) ? 'queued' : 'outbox', receipt: { host: `hub:${host}`, message: id } };
  }

  /** Publishes outbox entry `entry`: true once the hub holds it, false when it still waits in the outbox after HUB_TAKE_WAIT_MS (or at once, the hub away). */
  #taken(entry: OutgoingEntry & PublishEntry & { id: number }): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, HUB_TAKE_WAIT_MS, false)));
    return Promise.race([this.#outbox.publish(entry, this.#publish, () => this.#drain()), late]).finally(() => clearTimeout(timer));
  }

  /**
   * NET SEND * or /DOMAIN:NAME across sites: the message to every other host of that workgroup in
   * the realm, each sealed to its host and kept in the outbox like any message.
   * @returns how many hosts it went to
   */
  async broadcast(message: OutgoingMessage, workgroup: string): Promise<number> {
    const hosts = this.#registry?.hostsOf(workgroup).filter((host) => host.name !== this.#options.identity.name) ?? [];
    const entries: Array<OutgoingEntry & PublishEntry & { id: number }> = [];
    for (const host of hosts) {
      const envelope = messageEnvelope(this.#options.identity, { ...message, to: workgroup, ttlSeconds: message.ttlSeconds ?? this.#options.messageTtlSeconds }, host);
      const entry = this.#entry(envelope, host.name, message.user);
      entries.push({ ...entry, id: await this.#outbox.add(entry) });
    }
    // each waits until the hub holds it (or, the hub away, in the outbox), not for the whole drain
    await Promise.all(entries.map((entry) => this.#taken(entry)));
    return hosts.length;
  }

  /** The outbox's entry for an envelope to `host`: its JSON to keep, and the envelope itself to publish from. */
  #entry(envelope: SealedItem, host: string, user: string | null | undefined): OutgoingEntry & PublishEntry {
    const subject = realmNames(this.#options.settings.realm).message(host, this.#options.identity.name);
    return { envelopeId: envelope.id, subject, envelope: JSON.stringify(envelope), sealed: Object.freeze(envelope), expiresAt: envelope.expiresAt, senderUser: user ?? null };
  }

  /** What became of a message this host sent through the hub (its outbox id). */
  async receipt(id: number, asker: { name: string | null; administrator: boolean }): Promise<Receipt> {
    const receipt = await this.#outbox.receipt(id, asker);
    // another's is "not found" too, so ids reveal nothing
    if (receipt === null) throw new NetApiError('ERROR_NOT_FOUND', `No message ${id} of yours was sent through the hub from here.`);
    return receipt;
  }

  /** A surface's event for a message that came through the hub: told to its sender. */
  tellSender(message: MessageRef, event: MessageEvent): void {
    // not joined yet: the store keeps it owed, and it goes once the inbox consumes
    this.#receipts?.tell(message, event);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers) clearInterval(timer);
    await this.#outbox.drained();
    this.#receipts?.stop();
    this.#registry?.stop();
    await this.#connection?.close();
  }

  async #connect(): Promise<void> {
    const { settings, log } = this.#options;
    const stopped = () => this.#stopping;
    // the first server: tried again until one answers or the daemon stops (said once, then when it changes)
    const connection = await untilDone(() => HubConnection.open(settings, log), stopped, (error) => {
      const why = error instanceof Error ? error.message : String(error);
      if (why !== this.#error) log(`hub: cannot reach ${settings.servers.join(', ')} (${why}); trying again`);
      this.#error = why;
    });
    if (connection === undefined) return;
    this.#connection = connection;
    if (this.#stopping) return connection.close();
    // Right after a stream or bucket is made, and during a leader election, the cluster answers
    // with timeouts or "jetstream is not enabled": the join is tried again until it holds.
    // A computer name held under another host key (this host's data dir was made anew, say) is
    // tried again too: the old record ages out within the claim lifetime. `hub status` says why.
    await untilDone(() => this.#join(connection), stopped, (error, attempt) => {
      const why = error instanceof Error ? error.message : String(error);
      if (attempt === 3 || (why !== this.#error && error instanceof NetApiError && error.statusName === 'NERR_DuplicateName')) {
        log(`hub: cannot join the realm yet (${why}); still trying`);
      }
      this.#error = why;
    });
    const registry = this.#registry;
    if (this.#stopping || registry === undefined) return;
    this.#error = null;
    this.#joined = true;
    log(`hub: joined realm ${settings.realm} at ${connection.server ?? settings.servers.join(', ')}`);
    const inbox = new HubInbox({
      identity: this.#options.identity,
      box: this.#options.keys.box,
      names: realmNames(settings.realm),
      registry,
      outbox: this.#outbox,
      store: this.#options.store,
      receive: (message) =>
        // a broadcast names the workgroup, which is no alias
        message.to === this.#options.workgroup ? (this.#messenger as HubMessenger).receiveBroadcast(message) : (this.#messenger as HubMessenger).receive(message),
      // a receipt is published as it is sealed; one the hub does not take stays owed in the store
      publish: async (subject, envelope) => {
        if (!(await this.#connection?.publish(subject, encodeEnvelope(envelope), envelope.id))) throw new Error('the hub is away');
      },
      message: this.#options.message,
      maxMessageBytes: this.#options.maxMessageBytes,
      log,
    });
    this.#receipts = inbox.receipts;
    void inbox.keepConsuming(connection, () => this.#stopping);
    // what waits in the outbox goes now, and after any reconnect or failed publish, within seconds
    this.#timers.push(setInterval(() => void this.#drain(), DRAIN_INTERVAL_MS).unref());
    await this.#drain();
  }

  /** Publishes outbox entries, bundled for hosts that read bundles (parcels.ts); for each, whether the hub holds it (false when it is away). */
  readonly #publish: Publish = async (entries) => {
    const connection = this.#connection;
    if (connection?.state !== 'connected') return entries.map(() => ({ status: 'fulfilled', value: false }));
    const parcels = parcelsOf(entries, {
      sender: this.#options.identity,
      readsBundles: (host) => {
        const record = this.#registry?.host(host)?.record;
        return record !== undefined && readsBundles(record);
      },
      maxBytes: connection.nc.info?.max_payload,
    });
    const sent = await Promise.allSettled(parcels.map((parcel) => connection.publish(parcel.subject, parcel.data, parcel.id)));
    const results: Array<PromiseSettledResult<boolean>> = entries.map(() => ({ status: 'fulfilled', value: false }));
    parcels.forEach((parcel, k) => {
      for (const i of parcel.entries) results[i] = sent[k] as PromiseSettledResult<boolean>;
    });
    return results;
  };

  #drain(): Promise<void> {
    // a failure is logged by the outbox, once until its reason changes (a drain is tried every few seconds, and by sends)
    return this.#outbox.drain(this.#publish, () => !this.#stopping, this.#options.log).catch(() => {});
  }

  /** The stream, this host's consumer, the registry (claiming this host's names) and the heartbeat. */
  async #join(connection: HubConnection): Promise<void> {
    const { identity, keys, workgroup, replicas, log } = this.#options;
    await connection.ensureStream(replicas);
    await connection.inbox();
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
    // stopped while joining: nothing of it may outlive the daemon
    if (this.#stopping) return registry.stop();
    this.#registry = registry;
    this.#pendingClaims.clear();
    this.#timers.push(setInterval(() => void registry.refresh().catch((error: unknown) => log(`hub: refreshing this host's names failed: ${String(error)}`)), HEARTBEAT_MS).unref());
  }
}
