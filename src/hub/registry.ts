/**
 * The organisation's names, as WINS kept them: a replicated registry in a JetStream KV bucket.
 * Each host publishes a host record (its computer name, host key, box key, workgroup) and one
 * claim per name it holds; every host watches the bucket and keeps a replica, so names resolve
 * fast and still resolve while the hub is away.
 *
 * One owner per name: a claim is created only if the key is new (JetStream's expected-sequence
 * check), so of hosts claiming a name at once exactly one wins, the same on every host. A claim
 * not refreshed within the bucket's age limit expires (WINS extinction): a host that vanished
 * gives its names back. Records are signed with the host key; a replica keeps only records that
 * verify, so a host cannot publish claims for another, and a replica keeps the first live record
 * of each name: a host that overwrites another's live claim (the hub's permissions cannot stop a
 * write to a name's key) is not believed by replicas that saw the first (docs/hub.md, "Not yet").
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { KV, KvEntry } from '@nats-io/kv';
import { NetApiError } from '../messenger/errors.js';
import type { HostIdentity } from '../security/host-identity.js';
import { CLAIM_LIFETIME_MS } from './connection.js';
import { claimFields, hostFields, isClaim, signed, validName, verifiedHost, type HostRecord, type NameClaim } from './records.js';
import { nameFromToken, subjectToken } from './subject.js';

export type { HostRecord, NameClaim } from './records.js';

export interface RegistryOptions {
  readonly kv: KV;
  readonly identity: HostIdentity;
  readonly workgroup: string;
  readonly boxKey: string;
  readonly boxSig: string;
  readonly log: (line: string) => void;
}

const hostKey = (name: string) => `h.${subjectToken(name)}`;
const nameKey = (name: string) => `n.${subjectToken(name)}`;
const nameFromKey = (key: string): string | null => {
  try {
    return nameFromToken(key.slice(2));
  } catch {
    return null;
  }
};
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

export class NameRegistry {
  readonly #options: RegistryOptions;
  readonly #self: HostRecord;
  readonly #hosts = new Map<string, { record: HostRecord; key: KeyObject }>();
  readonly #claims = new Map<string, NameClaim>();
  /** When each record was last written (the hub's time): JetStream ages a record out without telling the watchers. */
  readonly #written = new Map<string, number>();
  /** Names this host holds (or means to hold once the hub answers), with their kind. */
  readonly #own = new Map<string, NameClaim['kind']>();
  /** Names this host meant to hold that another holds: reported by `hub status`. */
  readonly conflicts = new Set<string>();
  #watching: { stop(): void } | undefined;
  #stopped = false;

  constructor(options: RegistryOptions) {
    this.#options = options;
    const { identity } = options;
    const spki = createPublicKey(identity.privateKey).export({ format: 'der', type: 'spki' });
    const unsigned = {
      name: identity.name,
      workgroup: options.workgroup,
      hostKey: spki.toString('base64url'),
      fingerprint: identity.fingerprint,
      boxKey: options.boxKey,
      boxSig: options.boxSig,
    };
    this.#self = { ...unsigned, sig: sign(null, signed('host', hostFields(unsigned)), identity.privateKey).toString('base64url') };
  }

  get self(): HostRecord {
    return this.#self;
  }

  /** Claims, as the replica holds them. */
  get size(): number {
    return [...this.#claims.keys()].filter((name) => this.#alive(nameKey(name))).length;
  }

  ownNames(): string[] {
    return [...this.#own.keys()].filter((name) => this.#claims.get(name)?.host === this.#self.name);
  }

  /** Starts the replica (it holds every record already there when this resolves), then publishes this host. */
  async start(): Promise<void> {
    let initial: () => void = () => {};
    const caughtUp = new Promise<void>((resolve) => (initial = resolve));
    await this.#watch(initial);
    // an empty bucket sends no entry to mark the end of the history
    const status = await this.#options.kv.status();
    if (status.values === 0) initial();
    await Promise.race([caughtUp, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await this.#publishHost();
    this.#own.set(this.#self.name, 'computer');
    await this.refresh();
  }

  stop(): void {
    this.#stopped = true;
    this.#watching?.stop();
  }

  /** Follows the bucket; a watch that ends (the hub restarted, a network error) is started again, the replica kept meanwhile. */
  async #watch(caughtUp: () => void, attempt = 0): Promise<void> {
    const watch = await this.#options.kv.watch({ key: '>' });
    this.#watching = watch;
    void (async () => {
      for await (const entry of watch) {
        this.#apply(entry);
        if (entry.delta === 0) caughtUp();
      }
    })()
      .catch((error: unknown) => this.#options.log(`hub: the registry watch ended: ${String(error)}`))
      .finally(() => {
        if (this.#stopped) return;
        const again = () => void this.#watch(() => {}, attempt + 1).catch(() => setTimeout(again, 5000).unref());
        setTimeout(again, Math.min(1000 * 2 ** attempt, 30_000)).unref();
      });
  }

  /** The host that holds `name`, if any host of the realm does. */
  owner(name: string): HostRecord | null {
    // a computer name is its host record's: the hub's permissions bind h.NAME to its host
    const computer = this.host(name);
    if (computer !== null) return computer.record;
    const claim = this.#claims.get(name);
    if (claim === undefined || !this.#alive(nameKey(name))) return null;
    return this.host(claim.host)?.record ?? null;
  }

  host(name: string): { record: HostRecord; key: KeyObject } | null {
    return this.#alive(hostKey(name)) ? (this.#hosts.get(name) ?? null) : null;
  }

  hostsOf(workgroup: string): HostRecord[] {
    return [...this.#hosts.values()].map((h) => h.record).filter((record) => record.workgroup === workgroup && this.#alive(hostKey(record.name)));
  }

  /**
   * Claims `name` for this host. @throws NetApiError NERR_DuplicateName when another host holds
   * it, as a defended NetBIOS name is refused; NERR_NetworkError when the hub cannot be asked.
   */
  async claim(name: string, kind: NameClaim['kind'] = 'alias'): Promise<void> {
    const existing = this.#claims.get(name);
    if (existing !== undefined && existing.host !== this.#self.name && this.#alive(nameKey(name))) {
      throw new NetApiError('NERR_DuplicateName', `The name ${name} is held by ${existing.host} elsewhere in the organisation.`);
    }
    await this.#claim(name, kind);
    this.#own.set(name, kind);
  }

  /** Holds `name` from the next refresh on (the hub could not be asked now). */
  keep(name: string, kind: NameClaim['kind'] = 'alias'): void {
    this.#own.set(name, kind);
  }

  /**
   * Holds `name` from the next refresh on, the hub away now. @throws NetApiError NERR_DuplicateName
   * when the replica knows another holder, as `claim` would.
   */
  reserve(name: string): void {
    const holder = this.owner(name);
    if (holder !== null && holder.name !== this.#self.name) throw new NetApiError('NERR_DuplicateName', `The name ${name} is held by ${holder.name} elsewhere in the organisation.`);
    this.keep(name);
  }

  /** Gives a name back, if this host holds it. */
  async release(name: string): Promise<void> {
    this.#own.delete(name);
    this.conflicts.delete(name);
    if (this.#claims.get(name)?.host !== this.#self.name) return;
    await this.#options.kv.delete(nameKey(name));
  }

  /** The heartbeat: every record of this host written again, so none reaches the age limit; lost claims are logged. */
  async refresh(): Promise<void> {
    await this.#publishHost();
    for (const [name, kind] of this.#own) {
      try {
        await this.#claim(name, kind);
        this.conflicts.delete(name);
      } catch (error) {
        if (!(error instanceof NetApiError) || error.statusName !== 'NERR_DuplicateName') throw error;
        if (!this.conflicts.has(name)) this.#options.log(`hub: ${error.message}`);
        this.conflicts.add(name);
      }
    }
  }

  /** Creates the claim if the name is free; rewrites it (refreshing its age) if it is ours. */
  async #claim(name: string, kind: NameClaim['kind']): Promise<void> {
    const unsigned = { name, host: this.#self.name, kind };
    const claim: NameClaim = { ...unsigned, sig: sign(null, signed('claim', claimFields(unsigned)), this.#options.identity.privateKey).toString('base64url') };
    await this.#createOrKeep(nameKey(name), claim, (held) => (held as Partial<NameClaim>).host === this.#self.name, () =>
      new NetApiError('NERR_DuplicateName', `The name ${name} is held by another host of the organisation.`),
    );
  }

  async #publishHost(): Promise<void> {
    await this.#createOrKeep(hostKey(this.#self.name), this.#self, (held) => (held as Partial<HostRecord>).fingerprint === this.#self.fingerprint, () =>
      new NetApiError('NERR_DuplicateName', `The computer name ${this.#self.name} is held by another host of the organisation (another host key).`),
    );
  }

  async #createOrKeep(key: string, value: unknown, ours: (held: unknown) => boolean, taken: () => NetApiError): Promise<void> {
    const { kv } = this.#options;
    try {
      await kv.create(key, encode(value));
      return;
    } catch (error) {
      const entry = await kv.get(key).catch((cause: unknown) => {
        throw hubError(cause);
      });
      // created by another at the same moment, or there already: the first revision wins
      if (entry === null || entry.operation !== 'PUT') throw hubError(error);
      if (!ours(parse(entry))) throw taken();
      // Ours already: written again without a revision check. A read may come from a replica that
      // lags (after a cluster restart, for a while), and an update with its old revision would
      // fail until it caught up; writing our own record again takes nothing from another host.
      await kv.put(key, encode(value)).catch((cause: unknown) => {
        throw hubError(cause);
      });
    }
  }

  #alive(key: string): boolean {
    const written = this.#written.get(key);
    return written !== undefined && Date.now() - written <= STALE_AFTER_MS;
  }

  /** One record from the bucket: believed only if well-formed and signed, and only if no live record of another holds its key. */
  #apply(entry: KvEntry): void {
    try {
      this.#applyRecord(entry);
    } catch (error) {
      // a hostile or broken record costs its own key, never the watch
      this.#options.log(`hub: ignored registry record ${entry.key.slice(0, 80)}: ${String(error)}`);
    }
  }

  #applyRecord(entry: KvEntry): void {
    const [prefix] = entry.key.split('.', 1);
    if (entry.operation !== 'PUT') {
      // a deleted (or expired and purged) record: the key names its token, which maps back to the name
      this.#written.set(entry.key, entry.created.getTime());
      const name = nameFromKey(entry.key);
      if (name !== null && prefix === 'n') this.#claims.delete(name);
      else if (name !== null && prefix === 'h') this.#hosts.delete(name);
      return;
    }
    const value = parse(entry);
    if (prefix === 'h') {
      const host = verifiedHost(value);
      if (host === null || !validName(host.record.name) || entry.key !== hostKey(host.record.name)) return;
      const held = this.#hosts.get(host.record.name);
      // first come: another key may not take a live host's name
      if (held !== undefined && held.record.fingerprint !== host.record.fingerprint && this.#alive(entry.key)) return;
      this.#hosts.set(host.record.name, host);
    } else if (prefix === 'n') {
      const claim = value as Partial<NameClaim>;
      if (!isClaim(claim) || !validName(claim.name) || entry.key !== nameKey(claim.name)) return;
      // a computer name is claimed by its own host only
      if (claim.kind === 'computer' && claim.name !== claim.host) return;
      const signer = this.#hosts.get(claim.host);
      if (signer === undefined || !verify(null, signed('claim', claimFields(claim)), signer.key, Buffer.from(claim.sig, 'base64url'))) return;
      const held = this.#claims.get(claim.name);
      // first come: a live claim of another host is not overwritten
      if (held !== undefined && held.host !== claim.host && this.#alive(entry.key) && this.host(held.host) !== null) return;
      this.#claims.set(claim.name, claim);
    } else {
      return;
    }
    this.#written.set(entry.key, entry.created.getTime());
  }
}

/** A record older than its lifetime is gone at the hub, whether or not a watcher was told; a minute's grace for clocks. */
const STALE_AFTER_MS = CLAIM_LIFETIME_MS + 60_000;

function parse(entry: KvEntry): unknown {
  try {
    return entry.json();
  } catch {
    return null;
  }
}

function hubError(cause: unknown): NetApiError {
  return new NetApiError('NERR_NetworkError', `The organisation hub did not answer: ${(cause as Error).message ?? String(cause)}.`, { cause });
}
