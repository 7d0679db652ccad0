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
import type { KV, KvEntry } from '@nats-io/kv';
import { NetApiError } from '../messenger/errors.js';
import type { HostIdentity } from '../security/host-identity.js';
import { claimFields, isClaim, signed, signedHostRecord, type HostRecord, type NameClaim } from './records.js';
import { HOST_LIFETIME_MS } from './connection.js';
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
/**
 * This host counts itself lapsed this long after its record was last written: before any other
 * host counts it gone (STALE_AFTER_MS), by a margin for clocks and a slow heartbeat, so that its
 * old claims never count again once another host may have taken its names.
 */
const SELF_LAPSE_MS = HOST_LIFETIME_MS - 2 * 60_000;
/** A computer name held under another host key is taken over this long after it is gone for replicas, for the same reason. */
const TAKE_OVER_MARGIN_MS = 2 * 60_000;

export class NameRegistry {
  readonly #options: RegistryOptions;
  readonly #self: HostRecord;
  readonly #replica: RegistryReplica;
  readonly #publicKey: KeyObject;
  /** Aliases this host holds, or means to hold once the hub answers. */
  readonly #own = new Set<string>();
  /** Names this host meant to hold that another holds: reported by `hub status`. */
  readonly conflicts = new Set<string>();
  /** When this process last had its host record written, by both clocks (a machine that slept stops the monotonic one), if it has. */
  #lastWritten: { monotonic: number; wall: number } | undefined;
  /** Claims being made, by name: one at a time per name. */
  readonly #claiming = new Map<string, Promise<void>>();

  constructor(options: RegistryOptions) {
    this.#options = options;
    this.#replica = new RegistryReplica(options.log);
    this.#self = signedHostRecord(options.identity, options.workgroup, options.boxKey, options.boxSig);
    this.#publicKey = createPublicKey(options.identity.privateKey);
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

  /** Starts the replica (it holds every record already there when this resolves, unless their flow stalled), then publishes this host and its claims. */
  async start(): Promise<void> {
    await this.#replica.follow(this.#options.kv);
    // this host's lapse and its own claims are judged on the whole registry, or not at all (the join is tried again)
    if (!this.#replica.replayed) throw hubError(new Error('the registry stopped coming before its end'));
    await this.refresh();
  }

  stop(): void {
    this.#replica.stop();
  }

  /** Whether the replica has read the bucket's history to its end: until then, no host is told it is missing from it. */
  get replayed(): boolean {
    return this.#replica.replayed;
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

  /** Gives a name back, if this host holds it (once a claim of it under way has ended). */
  async release(name: string): Promise<void> {
    this.#own.delete(name);
    this.conflicts.delete(name);
    await this.#withdraw([name]);
  }

  /** The newest record of host `name` the replica holds, live or not: receipts go to a host that is away too. */
  known(name: string): HostRecord | null {
    return this.#replica.known(name)?.record ?? null;
  }

  /**
   * The heartbeat: this host's record written again, so that it and its claims stay live; a lapse
   * (the host away past its lifetime) handled; lost claims logged.
   */
  async refresh(): Promise<void> {
    const mine = this.#replica.claimedBy(this.#self.name);
    // Lapsed (or never here): names it held may have gone to others, who are ahead in line now.
    // Its old claims go before its record is written again, so that they never count again.
    if (this.#lapsed()) await this.#withdraw(mine);
    await this.#publishHost();
    // released while the hub was away, or before a restart
    await this.#withdraw(mine.filter((name) => !this.#own.has(name)));
    const unanswered: string[] = [];
    for (const name of this.#own) {
      try {
        await this.#claim(name);
        this.conflicts.delete(name);
      } catch (error) {
        if (!(error instanceof NetApiError)) throw error;
        if (error.statusName !== 'NERR_DuplicateName') {
          unanswered.push(name);
          continue;
        }
        // a name /add of it that failed meanwhile took it out of this host's names
        if (!this.#own.has(name)) continue;
        if (!this.conflicts.has(name)) this.#options.log(`hub: ${error.message}`);
        this.conflicts.add(name);
      }
    }
    if (unanswered.length > 0) this.#options.log(`hub: ${unanswered.join(', ')} could not be claimed now; tried again at the next heartbeat`);
  }

  /** Whether this host's record may have lapsed for others: by this process's own clock once it has written it, else by the replica's (with the margin). */
  #lapsed(): boolean {
    const last = this.#lastWritten;
    if (last !== undefined) return performance.now() - last.monotonic > SELF_LAPSE_MS || Date.now() - last.wall > SELF_LAPSE_MS;
    const mine = this.#replica.known(this.#self.name);
    return mine === null || mine.record.fingerprint !== this.#self.fingerprint || Date.now() - mine.written > SELF_LAPSE_MS;
  }

  /** One claim of `name` at a time: a heartbeat and a `name /add` of one name share it. */
  #claim(name: string): Promise<void> {
    const running = this.#claiming.get(name);
    if (running !== undefined) return running;
    const claiming = this.#claimOnce(name).finally(() => this.#claiming.delete(name));
    this.#claiming.set(name, claiming);
    return claiming;
  }

  /** Writes this host's claim unless it has one already, and keeps it only if it is first in line once the replica has caught up with it. */
  async #claimOnce(name: string): Promise<void> {
    // judged on the whole registry, not the part of its history read so far
    if (!(await this.#replica.untilReplayed(SEEN_WITHIN_MS))) throw hubError(new Error("this host's replica has not read the registry to its end yet"));
    this.#refuseIfHeld(name);
    const revision = this.#replica.claimOf(this.#self.name, name) ?? (await this.#writeClaim(name));
    // the watch shows the bucket in order: once it has shown this claim, it has shown every earlier one
    await answered(this.#replica.seen(revision, SEEN_WITHIN_MS));
    if (this.owner(name)?.fingerprint !== this.#self.fingerprint) {
      // not #withdraw, which would wait for this very claim
      await this.#delete(name);
      this.#refuseIfHeld(name);
      throw new NetApiError('NERR_NetworkError', `The claim of ${name} was not seen by this host's replica of the registry.`);
    }
  }

  /** This host's claim of `name`, written unless it is there already: a claim kept keeps its place in line. */
  #writeClaim(name: string): Promise<number> {
    const { kv, identity } = this.#options;
    const unsigned = { name, host: this.#self.name };
    const claim: NameClaim = { ...unsigned, sig: sign(null, signed('claim', claimFields(unsigned)), identity.privateKey).toString('base64url') };
    return createOrJudge(kv, claimKey(this.#self.name, name), claim, (entry) => {
      const existing = parse(entry) as Partial<NameClaim> | null;
      return entry.operation === 'PUT' && isClaim(existing) && existing.name === name && signedBy(existing, this.#publicKey) ? 'keep' : 'rewrite';
    });
  }

  /** Deletes this host's claims of `names`, each once a claim of it under way has ended (the replica drops them when the watch shows it). */
  async #withdraw(names: readonly string[]): Promise<void> {
    for (const name of names) {
      await this.#claiming.get(name)?.catch(() => {});
      await this.#delete(name);
    }
  }

  /** Deletes this host's claim of `name`, if the bucket holds one. */
  async #delete(name: string): Promise<void> {
    if (!this.#replica.hasClaim(this.#self.name, name)) return;
    await answered(this.#options.kv.delete(claimKey(this.#self.name, name)));
    this.#replica.drop(this.#self.name, name);
  }

  /** @throws NetApiError NERR_DuplicateName when another host holds `name`, as the replica sees it */
  #refuseIfHeld(name: string): void {
    const holder = this.owner(name);
    if (holder !== null && holder.fingerprint !== this.#self.fingerprint) {
      throw new NetApiError('NERR_DuplicateName', `The name ${name} is held by ${holder.name} elsewhere in the organisation.`);
    }
  }

  async #publishHost(): Promise<void> {
    const started = { monotonic: performance.now(), wall: Date.now() };
    await this.#writeHost();
    this.#lastWritten = started;
  }

  /** This host's record, written again (only this host may write the key) unless another key holds the name. */
  async #writeHost(): Promise<void> {
    await createOrJudge(this.#options.kv, hostKey(this.#self.name), this.#self, (entry) => {
      const held = parse(entry) as Partial<HostRecord> | null;
      // another key's record is taken over a margin after every replica counts it gone (clocks differ)
      if (entry.operation === 'PUT' && held?.fingerprint !== this.#self.fingerprint && Date.now() - entry.created.getTime() <= STALE_AFTER_MS + TAKE_OVER_MARGIN_MS) {
        throw new NetApiError('NERR_DuplicateName', `The computer name ${this.#self.name} is held by another host of the organisation (another host key).`);
      }
      return 'rewrite';
    });
  }
}

/**
 * Writes `value` at `key` if the key is new; else `judge` says what to do with what is there:
 * keep it (its revision is returned) or write again. Written again without a revision check: a
 * read may come from a replica that lags (after a cluster restart, for a while), and an update
 * with its old revision would fail until it caught up; only this host may write its keys anyway.
 * @returns the revision the key holds
 */
async function createOrJudge(kv: KV, key: string, value: unknown, judge: (entry: KvEntry) => 'keep' | 'rewrite'): Promise<number> {
  try {
    return await kv.create(key, encode(value));
  } catch (error) {
    const entry = await answered(kv.get(key));
    if (entry === null) throw hubError(error);
    return judge(entry) === 'keep' ? entry.revision : answered(kv.put(key, encode(value)));
  }
}

/** `request`, failing as the hub not answering (NERR_NetworkError) when it fails. */
function answered<T>(request: Promise<T>): Promise<T> {
  return request.catch((cause: unknown) => {
    throw hubError(cause);
  });
}

function hubError(cause: unknown): NetApiError {
  return new NetApiError('NERR_NetworkError', `The organisation hub did not answer: ${(cause as Error).message ?? String(cause)}.`, { cause });
}
