/**
 * The connection to the organisation hub (a NATS JetStream cluster) and what netsend keeps there:
 * the message stream and the name registry's KV bucket, made on first use. The client reconnects
 * on its own for as long as the daemon runs; this part reports how it stands.
 */
import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, nkeyAuthenticator, PermissionViolationError, type Authenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamClient, type Consumer } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { subjectToken } from './subject.js';

export interface HubSettings {
  readonly servers: readonly string[];
  readonly credentialsFile: string;
  readonly tlsCaFile: string;
  readonly realm: string;
  /** This host's computer name: its inbox subject and consumer. */
  readonly computerName: string;
}

/** How long closing waits for a drain. */
const CLOSE_MS = 2000;
/** How long one publish waits for the hub's acknowledgement. */
const PUBLISH_TIMEOUT_MS = 5000;

export type HubState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** How long a host (and every name it holds) lives without a heartbeat (WINS' extinction), and how often a host renews its record. */
export const HOST_LIFETIME_MS = 15 * 60_000;
export const HEARTBEAT_MS = 5 * 60_000;
/** The stream keeps a message at most this long: the longest time to live a sender may give (each message's own is checked at the receiver). */
const STREAM_MAX_AGE_MS = 366 * 24 * 3600_000;

/** Subjects and names of one realm. A NetBIOS name becomes a safe subject token (subject.ts). */
export function realmNames(realm: string) {
  return {
    stream: `NETSEND_${realm}`,
    /** The registry: host records h.HOST and alias claims c.HOST.NAME (registry.ts). */
    bucket: `netsend_${realm}_registry`,
    /**
     * Messages and receipts for one host, from one host: netsend.REALM.TO.msg.FROM / .rcpt.FROM.
     * A host's consumer takes netsend.REALM.SELF.>; the sender in the subject lets the hub's
     * permissions allow each host to publish only as itself (netsend.REALM.*.*.SELF).
     */
    inbox: (host: string) => `netsend.${realm}.${subjectToken(host)}.>`,
    message: (to: string, from: string) => `netsend.${realm}.${subjectToken(to)}.msg.${subjectToken(from)}`,
    receipt: (to: string, from: string) => `netsend.${realm}.${subjectToken(to)}.rcpt.${subjectToken(from)}`,
    /** The sending host a subject names (its last token), for the receiver to hold against the envelope's signer. */
    senderOf: (subject: string) => subject.split('.').at(-1) ?? '',
    consumer: (host: string) => `host_${subjectToken(host)}`,
    /** Where the hub's replies to this host go: the only subjects its credentials may subscribe to. */
    inboxPrefix: (host: string) => `_INBOX_${subjectToken(host)}`,
  };
}

/**
 * The authenticator for `hub credentials file`: a JWT .creds file (operator mode), or an nkey
 * seed file, which `netsend hub provision` writes (one SU… line).
 */
export function hubAuthenticator(file: Uint8Array): Authenticator {
  const text = new TextDecoder().decode(file);
  if (text.includes('-----BEGIN NATS USER JWT-----')) return credsAuthenticator(file);
  const seed = text.split('\n').map((line) => line.trim()).find((line) => /^SU[A-Z2-7]{50,}$/.test(line));
  if (seed === undefined) throw new Error('The hub credentials file holds neither a NATS .creds JWT nor an nkey user seed (SU…).');
  return nkeyAuthenticator(new TextEncoder().encode(seed));
}

/** What every connection to the hub shares: this host's name, credentials, CA and reply inbox. */
export async function hubConnectionOptions(settings: HubSettings): Promise<ConnectionOptions> {
  const creds = settings.credentialsFile === '' ? undefined : await readFile(settings.credentialsFile);
  return {
    servers: [...settings.servers],
    name: `netsend ${settings.computerName}`,
    // replies come only to this host's prefix, so provisioned permissions can keep others' apart
    inboxPrefix: realmNames(settings.realm).inboxPrefix(settings.computerName),
    // no stack captured ahead for every request (two Errors per publish, on the hot path): a
    // failed call is reported with netsend's own words of what it was doing
    noAsyncTraces: true,
    ...(creds === undefined ? {} : { authenticator: hubAuthenticator(creds) }),
    ...(settings.tlsCaFile === '' ? {} : { tls: { caFile: settings.tlsCaFile } }),
  };
}

/** Whether the hub's permissions refused it (nats.js reports a refused request as a RequestError caused by the violation). */
export const isPermissionViolation = (error: unknown): boolean =>
  error instanceof PermissionViolationError || (error instanceof Error && error.cause instanceof PermissionViolationError);

/** A refusal from the hub's permissions, said so that an administrator knows what to run. */
function orSetupHint(error: unknown, what: string): unknown {
  if (!isPermissionViolation(error)) return error;
  return new Error(`The hub has no ${what} yet and this host may not create it: run "netsend hub setup" with the admin credentials (docs/hub.md).`, { cause: error });
}

/** The realm's message stream, made if missing: work-queue retention, one non-overlapping consumer per host. */
export async function ensureRealmStream(nc: NatsConnection, realm: string, replicas: number): Promise<void> {
  const names = realmNames(realm);
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  try {
    await jsm.streams.info(names.stream);
  } catch {
    await jsm.streams
      .add({
        name: names.stream,
        subjects: [`netsend.${realm}.>`],
        retention: RetentionPolicy.Workqueue,
        num_replicas: replicas,
        max_age: STREAM_MAX_AGE_MS * 1_000_000,
        duplicate_window: 2 * 60_000 * 1_000_000,
      })
      .catch((error: unknown) => {
        throw orSetupHint(error, `stream ${names.stream}`);
      });
  }
}

/** Why a registry bucket made elsewhere (`nats kv add`, nats.js) is not used. */
const ROLLUPS_ALLOWED = (bucket: string) =>
  `The registry bucket ${bucket} takes rollup headers, with which any host could empty it (it was not made by netsend): delete its stream KV_${bucket} and run "netsend hub setup" again.`;

/** The largest registry record (a host record is under 1 KiB). */
const MAX_RECORD_BYTES = 8 * 1024;

/**
 * The name registry's bucket: one value per key, and no age limit, because a claim keeps its
 * place in line only while it is never rewritten (a host's records live as long as its heartbeat
 * says, registry.ts). An existing bucket is opened (a provisioned host may read its stream's
 * info, not create it).
 */
export async function openRegistryBucket(nc: NatsConnection, realm: string, replicas: number): Promise<KV> {
  const bucket = realmNames(realm).bucket;
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const info = await jsm.streams.info(`KV_${bucket}`).catch(() => null);
  if (info !== null) {
    if (info.config.allow_rollup_hdrs === true) throw new Error(ROLLUPS_ALLOWED(bucket));
    return new Kvm(nc).open(bucket, { allow_direct: info.config.allow_direct === true });
  }
  // Made here rather than by Kvm.create, which turns rollup headers on: permissions name
  // subjects, not headers, and a host allowed its own key could publish to it with
  // `Nats-Rollup: all` and empty the whole registry (tried on nats-server 2.9.10: it did). The
  // rest is a KV bucket as nats.js makes one: one value a key, no age limit, discard new.
  await jsm.streams
    .add({
      name: `KV_${bucket}`,
      subjects: [`$KV.${bucket}.>`],
      retention: RetentionPolicy.Limits,
      max_msgs_per_subject: 1,
      max_msg_size: MAX_RECORD_BYTES,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      allow_direct: true,
      allow_rollup_hdrs: false,
      num_replicas: replicas,
    })
    .catch((error: unknown) => {
      throw orSetupHint(error, `bucket ${bucket}`);
    });
  return new Kvm(nc).open(bucket, { allow_direct: true });
}

export class HubConnection {
  readonly #settings: HubSettings;
  readonly #log: (line: string) => void;
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #state: HubState = 'connecting';
  /** Called at the client's next reconnect. */
  readonly #reconnectListeners = new Set<() => void>();

  private constructor(settings: HubSettings, log: (line: string) => void) {
    this.#settings = settings;
    this.#log = log;
  }

  /**
   * Connects to the first server that answers, or throws (the caller tries again, and can stop
   * trying): once connected, the client reconnects on its own for as long as the daemon runs.
   */
  static async open(settings: HubSettings, log: (line: string) => void): Promise<HubConnection> {
    const hub = new HubConnection(settings, log);
    hub.#nc = await connect({ ...(await hubConnectionOptions(settings)), maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
    hub.#state = 'connected';
    void hub.#follow(hub.#nc);
    return hub;
  }

  get state(): HubState {
    return this.#state;
  }

  /** The server in use now, when connected. */
  get server(): string | null {
    return this.#state === 'connected' ? (this.#nc?.getServer() ?? null) : null;
  }

  get nc(): NatsConnection {
    if (this.#nc === undefined) throw new Error('The hub connection is not open');
    return this.#nc;
  }

  /**
   * Publishes to the stream and waits for the hub's acknowledgement; false, sending nothing, when
   * the hub is away. `id` is JetStream's message id (an envelope's, or its bundle's): a publish
   * repeated after a lost acknowledgement is dropped as a duplicate.
   */
  async publish(subject: string, data: string | Uint8Array, id: string): Promise<boolean> {
    if (this.#state !== 'connected') return false;
    await this.jetstream().publish(subject, data, { msgID: id, timeout: PUBLISH_TIMEOUT_MS });
    return true;
  }

  jetstream(): JetStreamClient {
    // one client for the connection: a publish need not make its own
    this.#js ??= jetstream(this.nc, { timeout: 5000 });
    return this.#js;
  }

  /** The realm's message stream (ensureRealmStream). */
  async ensureStream(replicas: number): Promise<void> {
    await ensureRealmStream(this.nc, this.#settings.realm, replicas);
  }

  /** Calls `listener` once, at the client's next reconnect (to another server, or to the same one again); returns what cancels that. */
  onNextReconnect(listener: () => void): () => void {
    const once = () => {
      this.#reconnectListeners.delete(once);
      listener();
    };
    this.#reconnectListeners.add(once);
    return () => this.#reconnectListeners.delete(once);
  }

  /**
   * This host's durable consumer of its messages and receipts, made if it is not there. Any other
   * failure (a timeout while the cluster elects a leader, say) is thrown, for the caller to try again.
   */
  async inbox(): Promise<Consumer> {
    const names = realmNames(this.#settings.realm);
    const durable = names.consumer(this.#settings.computerName);
    const jsm = await jetstreamManager(this.nc, { timeout: 5000 });
    try {
      await jsm.consumers.info(names.stream, durable);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
      await jsm.consumers.add(names.stream, {
        durable_name: durable,
        filter_subject: names.inbox(this.#settings.computerName),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: 30_000 * 1_000_000,
        max_ack_pending: 256,
      });
    }
    return this.jetstream().consumers.get(names.stream, durable);
  }

  /** The name registry's bucket (openRegistryBucket). */
  async registryBucket(replicas: number): Promise<KV> {
    return openRegistryBucket(this.nc, this.#settings.realm, replicas);
  }

  /**
   * Drains (what was sent reaches the hub) and closes. A drain needs a server: with the hub away
   * it would wait for one, so the connection is closed at once then, and a drain that takes longer
   * than CLOSE_MS is cut short; the daemon's stop never waits on the hub.
   */
  async close(): Promise<void> {
    const connected = this.#state === 'connected';
    this.#state = 'closed';
    const nc = this.#nc;
    if (nc === undefined) return;
    if (connected) await Promise.race([nc.drain().catch(() => {}), new Promise((resolve) => setTimeout(resolve, CLOSE_MS).unref())]);
    await nc.close().catch(() => {});
  }

  async #follow(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.#state = 'reconnecting';
        this.#log(`hub: disconnected from ${status.server}; reconnecting`);
      } else if (status.type === 'reconnect') {
        this.#state = 'connected';
        this.#log(`hub: connected to ${status.server}`);
        for (const listener of [...this.#reconnectListeners]) listener();
      }
    }
  }
}

/** A try that ran this long before it failed was not failing at once: the pauses start over after it. */
const RAN_A_WHILE_MS = 60_000;

/**
 * Runs `task` until it succeeds or `stopped()` holds, pausing longer after each failure (up to
 * 10 s); `failed` hears each failure, and ends the tries by throwing. Undefined when stopped.
 * A task that fails only after running a while (the inbox's consumer, ending after days) is
 * tried again after the shortest pause, as at first, not after the longest.
 */
export async function untilDone<T>(
  task: () => Promise<T>,
  stopped: () => boolean,
  failed: (error: unknown, attempt: number) => void,
  now: () => number = performance.now.bind(performance),
): Promise<T | undefined> {
  for (let attempt = 0; !stopped(); attempt++) {
    const started = now();
    try {
      return await task();
    } catch (error) {
      if (now() - started >= RAN_A_WHILE_MS) attempt = 0;
      failed(error, attempt);
      if (!stopped()) await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 10_000)));
    }
  }
  return undefined;
}
