/**
 * The organisation's names, as WINS kept them: a replicated registry in a JetStream KV bucket.
 * Each host publishes its host record `h.HOST` (computer name, host key, box key, workgroup),
 * which its heartbeat rewrites, and one claim `c.HOST.NAME` per alias it holds, written once.
 * Every host watches the bucket and keeps a replica, so names resolve fast and still resolve
 * while the hub is away.
 *
 * Who may write what is the hub's permissions' job: a host writes only keys under its own token,
 * so no host can overwrite, delete or block another's records (`netsend hub provision`). Who owns
 * a name every replica decides alike from the same records (replica.ts): an alias is held by the
 * live claim written first. A claim is never rewritten, so its place in line survives heartbeats
 * and a host that starts later sees the same order. A host is live while its record is younger
 * than its lifetime (WINS extinction), and its claims live and die with it: a host whose record
 * lapsed withdraws its old claims before it writes its record again, and claims anew, behind
 * whoever took its names meanwhile.
 */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { NetApiError } from '../messenger/errors.js';
import type { HostIdentity } from '../security/host-identity.js';
import { claimFields, hostFields, isClaim, signed, type HostRecord, type NameClaim } from './records.js';
import { parse, RegistryReplica, signedBy, STALE_AFTER_MS } from './replica.js';
import { subjectToken } from './subject.js';

export type { HostRecord, NameClaim } from './records.js';

export interface RegistryOptions {
  readonly kv: KV;
  readonly identity: HostIdentity;
  readonly workgroup: string;
  readonly boxKey: string;
  readonly boxSig: string;
  readonly log: (line: string) => void;
}

const hostKey = (host: string) => `h.${subjectToken(host)}`;
const claimKey = (host: string, name: string) => `c.${subjectToken(host)}.${subjectToken(name)}`;
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** How long a claim waits for the replica to show it, with every claim written before it. */
const SEEN_WITHIN_MS = 5000;

export class NameRegistry {
  readonly #options: RegistryOptions;
  readonly #self: HostRecord;
  readonly #replica: RegistryReplica;
  /** Aliases this host holds, or means to hold once the hub answers. */
  readonly #own = new Set<string>();
  /** Names this host meant to hold that another holds: reported by `hub status`. */
  readonly conflicts = new Set<string>();
  #watching: { stop(): void } | undefined;
  #stopped = false;

  constructor(options: RegistryOptions) {
    this.#options = options;
    this.#replica = new RegistryReplica(options.log);
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

  /** Names that resolve in the replica: live hosts' computer names and their aliases. */
  get size(): number {
    return this.#replica.size;
  }

  /** This host's computer name and the aliases it holds, as the replica sees them. */
  ownNames(): string[] {
    return [this.#self.name, ...this.#own].filter((name) => this.owner(name)?.fingerprint === this.#self.fingerprint);
  }

  /** Starts the replica (it holds every record already there when this resolves), then publishes this host and its claims. */
  async start(): Promise<void> {
    let initial: () => void = () => {};
    const caughtUp = new Promise<void>((resolve) => (initial = resolve));
    await this.#watch(initial);
    // an empty bucket sends no entry to mark the end of the history
    const status = await this.#options.kv.status();
    if (status.values === 0) initial();
    await Promise.race([caughtUp, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
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
        this.#replica.apply(entry);
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
    return this.#replica.owner(name);
  }

  /** A live host of the realm, with the key its records are checked with. */
  host(name: string): { record: HostRecord; key: KeyObject } | null {
    return this.#replica.host(name);
  }

  hostsOf(workgroup: string): HostRecord[] {
    return this.#replica.hostsOf(workgroup);
  }

  /**
   * Claims the alias `name` for this host. @throws NetApiError NERR_DuplicateName when another
   * host holds it, as a defended NetBIOS name is refused; NERR_NetworkError when the hub cannot
   * be asked (the name is then claimed at the next heartbeat).
   */
  async claim(name: string): Promise<void> {
    // held from now on, so that a heartbeat meanwhile does not withdraw the claim being written
    this.#own.add(name);
    try {
      await this.#claim(name);
    } catch (error) {
      if (error instanceof NetApiError && error.statusName === 'NERR_DuplicateName') this.#own.delete(name);
      throw error;
    }
  }

  /** Holds `name` from the next refresh on (the hub could not be asked now). */
  keep(name: string): void {
    this.#own.add(name);
  }

  /**
   * Holds `name` from the next refresh on, the hub away now. @throws NetApiError NERR_DuplicateName
   * when the replica knows another holder, as `claim` would.
   */
  reserve(name: string): void {
    this.#refuseIfHeld(name);
    this.keep(name);
  }

  /** Gives a name back, if this host holds it. */
  async release(name: string): Promise<void> {
    this.#own.delete(name);
    this.conflicts.delete(name);
    await this.#withdraw([name]);
  }

  /**
   * The heartbeat: this host's record written again, so that it and its claims stay live; a lapse
   * (the host away past its lifetime) handled; lost claims logged.
   */
  async refresh(): Promise<void> {
    const mine = this.#replica.claimedBy(this.#self.name);
    // lapsed (or never here): names it held may have gone to others, who are ahead in line now
    const lapsed = this.host(this.#self.name)?.record.fingerprint !== this.#self.fingerprint;
    await this.#withdraw(lapsed ? mine : mine.filter((name) => !this.#own.has(name)));
    await this.#publishHost();
    for (const name of this.#own) {
      try {
        await this.#claim(name);
        this.conflicts.delete(name);
      } catch (error) {
        if (!(error instanceof NetApiError) || error.statusName !== 'NERR_DuplicateName') throw error;
        if (!this.conflicts.has(name)) this.#options.log(`hub: ${error.message}`);
        this.conflicts.add(name);
      }
    }
  }

  /** Writes this host's claim unless it has one already, and keeps it only if it is first in line once the replica has caught up with it. */
  async #claim(name: string): Promise<void> {
    this.#refuseIfHeld(name);
    const revision = this.#replica.claimOf(this.#self.name, name) ?? (await this.#writeClaim(name));
    // the watch shows the bucket in order: once it has shown this claim, it has shown every earlier one
    await this.#replica.seen(revision, SEEN_WITHIN_MS).catch((cause: unknown) => {
      throw hubError(cause);
    });
    if (this.owner(name)?.fingerprint !== this.#self.fingerprint) {
      await this.#withdraw([name]);
      this.#refuseIfHeld(name);
      throw new NetApiError('NERR_NetworkError', `The claim of ${name} was not seen by this host's replica of the registry.`);
    }
  }

  async #writeClaim(name: string): Promise<number> {
    const { kv, identity } = this.#options;
    const unsigned = { name, host: this.#self.name };
    const claim: NameClaim = { ...unsigned, sig: sign(null, signed('claim', claimFields(unsigned)), identity.privateKey).toString('base64url') };
    const key = claimKey(this.#self.name, name);
    try {
      return await kv.create(key, encode(claim));
    } catch (error) {
      // there already, from this host (no other may write the key): kept as it is, so it keeps its place
      const entry = await kv.get(key).catch((cause: unknown) => {
        throw hubError(cause);
      });
      if (entry === null) throw hubError(error);
      const existing = parse(entry) as Partial<NameClaim> | null;
      if (entry.operation === 'PUT' && isClaim(existing) && existing.name === name && signedBy(existing, createPublicKey(this.#options.identity.privateKey))) return entry.revision;
      return kv.put(key, encode(claim)).catch((cause: unknown) => {
        throw hubError(cause);
      });
    }
  }

  /** Deletes this host's claims of `names` (the replica drops them when the watch shows it). */
  async #withdraw(names: readonly string[]): Promise<void> {
    const mine = new Set(this.#replica.claimedBy(this.#self.name));
    for (const name of names) {
      if (!mine.has(name)) continue;
      await this.#options.kv.delete(claimKey(this.#self.name, name)).catch((cause: unknown) => {
        throw hubError(cause);
      });
      this.#replica.drop(this.#self.name, name);
    }
  }

  /** @throws NetApiError NERR_DuplicateName when another host holds `name`, as the replica sees it */
  #refuseIfHeld(name: string): void {
    const holder = this.owner(name);
    if (holder !== null && holder.fingerprint !== this.#self.fingerprint) {
      throw new NetApiError('NERR_DuplicateName', `The name ${name} is held by ${holder.name} elsewhere in the organisation.`);
    }
  }

  async #publishHost(): Promise<void> {
    const { kv } = this.#options;
    const key = hostKey(this.#self.name);
    try {
      await kv.create(key, encode(this.#self));
      return;
    } catch (error) {
      const entry = await kv.get(key).catch((cause: unknown) => {
        throw hubError(cause);
      });
      // created by another at the same moment, or there already
      if (entry === null || entry.operation !== 'PUT') throw hubError(error);
      const held = parse(entry) as Partial<HostRecord> | null;
      if (held?.fingerprint !== this.#self.fingerprint && Date.now() - entry.created.getTime() <= STALE_AFTER_MS) {
        throw new NetApiError('NERR_DuplicateName', `The computer name ${this.#self.name} is held by another host of the organisation (another host key).`);
      }
      // Ours (or a lapsed one): written again without a revision check. A read may come from a
      // replica that lags (after a cluster restart, for a while), and an update with its old
      // revision would fail until it caught up; only this host may write the key anyway.
      await kv.put(key, encode(this.#self)).catch((cause: unknown) => {
        throw hubError(cause);
      });
    }
  }
}

function hubError(cause: unknown): NetApiError {
  return new NetApiError('NERR_NetworkError', `The organisation hub did not answer: ${(cause as Error).message ?? String(cause)}.`, { cause });
}
