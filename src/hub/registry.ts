/**
 * The organisation's names, as WINS kept them: a replicated registry in a JetStream KV bucket.
 * Each host publishes its host record `h.HOST` (computer name, host key, box key, workgroup),
 * which its heartbeat rewrites, and one claim `c.HOST.NAME` per alias it holds, written once.
 * Every host watches the bucket and keeps a replica, so names resolve fast and still resolve
 * while the hub is away.
 *
 * Who may write what is the hub's permissions' job: a host writes only keys under its own token,
 * so no host can overwrite, delete or block another's records (`netsend hub provision`). Who owns
 * a name every replica decides alike from the same records: a computer name is its host record's;
 * an alias is held by the live claim written first, the lowest revision (the bucket stream's
 * sequence, which the hub gives). A claim is never rewritten, so its place in line survives
 * heartbeats and a host that starts later sees the same order. A host is live while its record is
 * younger than its lifetime (WINS extinction), and its claims live and die with it: a host whose
 * record lapsed withdraws its old claims before it writes its record again, and claims anew,
 * behind whoever took its names meanwhile. Records are signed with the host key besides, so a
 * replica believes only what the host it names signed.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { KV, KvEntry } from '@nats-io/kv';
import { NetApiError } from '../messenger/errors.js';
import type { HostIdentity } from '../security/host-identity.js';
import { HOST_LIFETIME_MS } from './connection.js';
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

const hostKey = (host: string) => `h.${subjectToken(host)}`;
const claimKey = (host: string, name: string) => `c.${subjectToken(host)}.${subjectToken(name)}`;
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** A record older than its lifetime is dead, whether or not the bucket still holds it; a minute's grace for clocks. */
const STALE_AFTER_MS = HOST_LIFETIME_MS + 60_000;
/** How long a claim waits for the replica to show it, with every claim written before it. */
const SEEN_WITHIN_MS = 5000;

interface KnownHost {
  readonly record: HostRecord;
  readonly key: KeyObject;
  /** When the hub wrote the record (its time, so every replica judges a lapse alike). */
  readonly written: number;
}

/** A claim as the replica holds it: its place in line, and (once asked) whether its host's key signed it. */
interface HeldClaim {
  readonly claim: NameClaim;
  readonly revision: number;
  checked?: { readonly fingerprint: string; readonly valid: boolean };
}

export class NameRegistry {
  readonly #options: RegistryOptions;
  readonly #self: HostRecord;
  readonly #hosts = new Map<string, KnownHost>();
  /** Claims by name, then by the host that claims it. */
  readonly #claims = new Map<string, Map<string, HeldClaim>>();
  /** Aliases this host holds, or means to hold once the hub answers. */
  readonly #own = new Set<string>();
  /** Names this host meant to hold that another holds: reported by `hub status`. */
  readonly conflicts = new Set<string>();
  /** The highest revision the replica has taken in, and the claims waiting to see theirs. */
  #applied = 0;
  readonly #waiting = new Set<{ readonly revision: number; resolve(): void }>();
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

  /** Names that resolve in the replica: live hosts' computer names and their aliases. */
  get size(): number {
    const names = new Set([...this.#hosts.keys()].filter((name) => this.host(name) !== null));
    for (const name of this.#claims.keys()) if (this.#firstLive(name) !== null) names.add(name);
    return names.size;
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
    const first = this.#firstLive(name);
    return first === null ? null : (this.host(first.claim.host)?.record ?? null);
  }

  /** A live host of the realm, with the key its records are checked with. */
  host(name: string): { record: HostRecord; key: KeyObject } | null {
    const known = this.#hosts.get(name);
    return known !== undefined && Date.now() - known.written <= STALE_AFTER_MS ? known : null;
  }

  hostsOf(workgroup: string): HostRecord[] {
    return [...this.#hosts.keys()].flatMap((name) => this.host(name)?.record ?? []).filter((record) => record.workgroup === workgroup);
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
    const mine = [...this.#claims].filter(([, holders]) => holders.has(this.#self.name)).map(([name]) => name);
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
    const held = this.#claims.get(name)?.get(this.#self.name);
    const revision = held !== undefined && this.#counts(held) ? held.revision : await this.#writeClaim(name);
    // the watch shows the bucket in order: once it has shown this claim, it has shown every earlier one
    await this.#seen(revision);
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
      if (entry.operation === 'PUT' && isClaim(existing) && existing.name === name && this.#signedBy(existing, this.#options.identity.privateKey)) return entry.revision;
      return kv.put(key, encode(claim)).catch((cause: unknown) => {
        throw hubError(cause);
      });
    }
  }

  /** Deletes this host's claims of `names` (the replica drops them when the watch shows it). */
  async #withdraw(names: readonly string[]): Promise<void> {
    for (const name of names) {
      if (!this.#claims.get(name)?.has(this.#self.name)) continue;
      await this.#options.kv.delete(claimKey(this.#self.name, name)).catch((cause: unknown) => {
        throw hubError(cause);
      });
      this.#claims.get(name)?.delete(this.#self.name);
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

  /** The live claim of `name` written first, if any. */
  #firstLive(name: string): HeldClaim | null {
    let first: HeldClaim | null = null;
    for (const held of this.#claims.get(name)?.values() ?? []) {
      if ((first === null || held.revision < first.revision) && this.#counts(held)) first = held;
    }
    return first;
  }

  /** Whether a claim counts: its host is live, and the key of its host record signed it. */
  #counts(held: HeldClaim): boolean {
    const host = this.host(held.claim.host);
    if (host === null) return false;
    if (held.checked?.fingerprint !== host.record.fingerprint) held.checked = { fingerprint: host.record.fingerprint, valid: this.#signedBy(held.claim, host.key) };
    return held.checked.valid;
  }

  #signedBy(claim: NameClaim, key: KeyObject): boolean {
    try {
      return verify(null, signed('claim', claimFields(claim)), key, Buffer.from(claim.sig, 'base64url'));
    } catch {
      return false;
    }
  }

  /** Resolves once the replica has taken in `revision`. @throws NetApiError NERR_NetworkError when it does not within SEEN_WITHIN_MS */
  #seen(revision: number): Promise<void> {
    if (this.#applied >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiting.delete(waiter);
        reject(hubError(new Error(`this host's replica of the registry did not show revision ${revision} within ${SEEN_WITHIN_MS / 1000} s`)));
      }, SEEN_WITHIN_MS);
      this.#waiting.add(waiter);
    });
  }

  /** One record from the bucket: believed only if well-formed and under its own host's key. */
  #apply(entry: KvEntry): void {
    try {
      const [kind, host, name, ...rest] = entry.key.split('.');
      if (kind === 'h' && host !== undefined && name === undefined) this.#applyHost(entry, host);
      else if (kind === 'c' && host !== undefined && name !== undefined && rest.length === 0) this.#applyClaim(entry, host, name);
    } catch (error) {
      // a hostile or broken record costs its own key, never the watch
      this.#options.log(`hub: ignored registry record ${entry.key.slice(0, 80)}: ${String(error)}`);
    }
    this.#applied = Math.max(this.#applied, entry.revision);
    for (const waiter of this.#waiting) {
      if (waiter.revision > this.#applied) continue;
      this.#waiting.delete(waiter);
      waiter.resolve();
    }
  }

  #applyHost(entry: KvEntry, token: string): void {
    const name = nameFromToken(token);
    if (name === null || !validName(name)) return;
    if (entry.operation !== 'PUT') {
      this.#hosts.delete(name);
      return;
    }
    const host = verifiedHost(parse(entry));
    if (host === null || host.record.name !== name) return;
    // first come: another key may not take a live host's name
    const held = this.host(name);
    if (held !== null && held.record.fingerprint !== host.record.fingerprint) return;
    this.#hosts.set(name, { ...host, written: entry.created.getTime() });
  }

  #applyClaim(entry: KvEntry, hostToken: string, nameToken: string): void {
    const host = nameFromToken(hostToken);
    const name = nameFromToken(nameToken);
    if (host === null || name === null || !validName(name)) return;
    const holders = this.#claims.get(name) ?? new Map<string, HeldClaim>();
    const claim = entry.operation === 'PUT' ? (parse(entry) as Partial<NameClaim> | null) : null;
    // a deleted claim, or junk its host wrote in its place: that host no longer claims the name
    if (!isClaim(claim) || claim.name !== name || claim.host !== host) holders.delete(host);
    else holders.set(host, { claim, revision: entry.revision });
    if (holders.size === 0) this.#claims.delete(name);
    else this.#claims.set(name, holders);
  }
}

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
