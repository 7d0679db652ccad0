/**
 * A host's replica of the realm's registry (registry.ts): what the bucket says, record by record
 * as the watch shows them, and who owns each name by the rules every replica applies alike. A
 * computer name is its live host record's; an alias is held by the live claim with the lowest
 * revision (the bucket stream's sequence, which the hub gives). A host is live while its record
 * is younger than its lifetime, and its claims live and die with it. A record is believed only if
 * it is well-formed, sits under its own host's key, and that host's key signed it. A host with
 * more claims in the bucket than MOST_CLAIMS_PER_HOST has none of them count: one host, hostile
 * or broken, cannot squat the realm's names.
 */
import { verify, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KV, KvEntry } from '@nats-io/kv';
import { HOST_LIFETIME_MS } from './connection.js';
import { claimFields, isClaim, signed, validName, verifiedHost, type HostRecord, type NameClaim } from './records.js';
import { nameFromToken } from './subject.js';

/**
 * The most claims a host may have in the bucket and have them count: its added aliases (1,000 at
 * most, the top of "max aliases") and the names of its logged-on users, with room to spare.
 */
export const MOST_CLAIMS_PER_HOST = 4096;

/** A record older than its lifetime is dead, whether or not the bucket still holds it; a minute's grace for clocks. */
export const STALE_AFTER_MS = HOST_LIFETIME_MS + 60_000;
/**
 * The bucket's history is waited for as long as it keeps coming (a large registry, a slow link),
 * up to REPLAY_ROUNDS times this; a pause this long in it ends the wait.
 */
const REPLAY_STALL_MS = 5000;
const REPLAY_ROUNDS = 60;

export interface KnownHost {
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

export class RegistryReplica {
  readonly #hosts = new Map<string, KnownHost>();
  /** Claims by name, then by the host that claims it. */
  readonly #claims = new Map<string, Map<string, HeldClaim>>();
  /** How many claims each host has in the bucket. */
  readonly #claimCounts = new Map<string, number>();
  /** Hosts logged as over MOST_CLAIMS_PER_HOST (once each: one that goes over and back is not logged again). */
  readonly #overLogged = new Set<string>();
  /** The highest revision taken in, and who waits for one; how many entries came (a restarted watch's too). */
  #applied = 0;
  #received = 0;
  readonly #waiting = new Set<{ readonly revision: number; resolve(): void }>();
  readonly #log: (line: string) => void;
  #watching: { stop(): void } | undefined;
  #stopped = false;
  /** Whether the history was read to its end, and who waits for that. */
  #replayed = false;
  #onReplayed: () => void = () => {};
  readonly #replay = new Promise<void>((resolve) => (this.#onReplayed = resolve));

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /**
   * Follows `kv` from its history on: resolves once the history is read, or once it stalls. A
   * watch that ends (the hub restarted, a network error) is started again until `stop`, the
   * replica kept meanwhile.
   */
  async follow(kv: KV): Promise<void> {
    await this.#watch(kv);
    // an empty bucket sends no entry to mark the end of the history
    if ((await kv.status()).values === 0) this.#replayDone();
    for (let round = 0; round < REPLAY_ROUNDS && !this.#replayed; round++) {
      const before = this.#received;
      await this.untilReplayed(REPLAY_STALL_MS);
      if (this.#received === before) break;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#watching?.stop();
  }

  /** Whether the history has been read to its end. */
  get replayed(): boolean {
    return this.#replayed;
  }

  /** Whether the history is read to its end within `ms`. */
  async untilReplayed(ms: number): Promise<boolean> {
    if (this.#replayed) return true;
    const timer = new AbortController();
    await Promise.race([this.#replay, sleep(ms, undefined, { ref: false, signal: timer.signal }).catch(() => {})]);
    timer.abort();
    return this.#replayed;
  }

  #replayDone(): void {
    this.#replayed = true;
    this.#onReplayed();
  }

  async #watch(kv: KV, attempt = 0): Promise<void> {
    const watch = await kv.watch({ key: '>' });
    // stopped while it was being made: nothing may outlive the replica
    if (this.#stopped) return watch.stop();
    this.#watching = watch;
    let delivered = false;
    void (async () => {
      for await (const entry of watch) {
        delivered = true;
        this.apply(entry);
        if (entry.delta === 0) this.#replayDone();
      }
    })()
      .catch((error: unknown) => this.#log(`hub: the registry watch ended: ${String(error)}`))
      .finally(() => {
        // a watch that worked starts the pauses over
        const next = delivered ? 0 : attempt + 1;
        const again = () => {
          if (!this.#stopped) void this.#watch(kv, next).catch(() => setTimeout(again, 5000).unref());
        };
        if (!this.#stopped) setTimeout(again, Math.min(1000 * 2 ** next, 30_000)).unref();
      });
  }

  /** Names that resolve: live hosts' computer names and their aliases. */
  get size(): number {
    const names = new Set([...this.#hosts.keys()].filter((name) => this.host(name) !== null));
    for (const name of this.#claims.keys()) if (this.#firstLive(name) !== null) names.add(name);
    return names.size;
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

  /** The newest record of `name` the bucket showed, live or not, and when the hub wrote it. */
  known(name: string): KnownHost | null {
    return this.#hosts.get(name) ?? null;
  }

  hostsOf(workgroup: string): HostRecord[] {
    return [...this.#hosts.keys()].flatMap((name) => this.host(name)?.record ?? []).filter((record) => record.workgroup === workgroup);
  }

  /** The revision of `host`'s claim of `name`, if the bucket holds one that counts. */
  claimOf(host: string, name: string): number | null {
    const held = this.#claims.get(name)?.get(host);
    return held !== undefined && this.#counts(held) ? held.revision : null;
  }

  /** Whether the bucket holds a claim of `name` by `host`, counting or not. */
  hasClaim(host: string, name: string): boolean {
    return this.#claims.get(name)?.has(host) ?? false;
  }

  /** The names `host` has a claim of in the bucket, whether or not they count. */
  claimedBy(host: string): string[] {
    return [...this.#claims].filter(([, holders]) => holders.has(host)).map(([name]) => name);
  }

  /** Forgets `host`'s claim of `name` (it deleted it; the watch will say so too). */
  drop(host: string, name: string): void {
    this.#setClaim(name, host, null);
  }

  /** Resolves once the replica has taken in `revision`; rejects after `ms`. */
  seen(revision: number, ms: number): Promise<void> {
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
        reject(new Error(`this host's replica of the registry did not show revision ${revision} within ${ms / 1000} s`));
      }, ms);
      this.#waiting.add(waiter);
    });
  }

  /** One record from the bucket's watch. */
  apply(entry: KvEntry): void {
    this.#received++;
    try {
      const [kind, host, name, ...rest] = entry.key.split('.');
      if (kind === 'h' && host !== undefined && name === undefined) this.#applyHost(entry, host);
      else if (kind === 'c' && host !== undefined && name !== undefined && rest.length === 0) this.#applyClaim(entry, host, name);
    } catch (error) {
      // a hostile or broken record costs its own key, never the watch
      this.#log(`hub: ignored registry record ${entry.key.slice(0, 80)}: ${String(error)}`);
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
    // first come: another key may not take a live host's name, judged by the hub's times alone
    // (a replica that starts later sees only the newest record, and takes it)
    const held = this.#hosts.get(name);
    const written = entry.created.getTime();
    if (held !== undefined && held.record.fingerprint !== host.record.fingerprint && written - held.written <= STALE_AFTER_MS) return;
    this.#hosts.set(name, { ...host, written });
  }

  #applyClaim(entry: KvEntry, hostToken: string, nameToken: string): void {
    const host = nameFromToken(hostToken);
    const name = nameFromToken(nameToken);
    if (host === null || name === null || !validName(name)) return;
    const claim = entry.operation === 'PUT' ? (parse(entry) as Partial<NameClaim> | null) : null;
    // a deleted claim, or junk its host wrote in its place: that host no longer claims the name
    this.#setClaim(name, host, isClaim(claim) && claim.name === name && claim.host === host ? { claim, revision: entry.revision } : null);
  }

  /** `host`'s claim of `name` as the bucket now has it (null: none), and the count of its claims with it. */
  #setClaim(name: string, host: string, held: HeldClaim | null): void {
    const holders = this.#claims.get(name) ?? new Map<string, HeldClaim>();
    const had = holders.has(host);
    if (held === null) holders.delete(host);
    else holders.set(host, held);
    if (holders.size === 0) this.#claims.delete(name);
    else this.#claims.set(name, holders);
    if (had !== holders.has(host)) this.#countClaims(host, had ? -1 : 1);
  }

  #countClaims(host: string, change: number): void {
    const count = (this.#claimCounts.get(host) ?? 0) + change;
    if (count === 0) this.#claimCounts.delete(host);
    else this.#claimCounts.set(host, count);
    if (count > MOST_CLAIMS_PER_HOST && !this.#overLogged.has(host)) {
      this.#overLogged.add(host);
      this.#log(`hub: ${JSON.stringify(host)} holds more than ${MOST_CLAIMS_PER_HOST} name claims; none of them counts while it does`);
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

  /** Whether a claim counts: its host is live, holds no more claims than a host may, and the key of its host record signed it. */
  #counts(held: HeldClaim): boolean {
    const host = this.host(held.claim.host);
    if (host === null || (this.#claimCounts.get(held.claim.host) ?? 0) > MOST_CLAIMS_PER_HOST) return false;
    if (held.checked?.fingerprint !== host.record.fingerprint) held.checked = { fingerprint: host.record.fingerprint, valid: signedBy(held.claim, host.key) };
    return held.checked.valid;
  }
}

/** Whether `key` signed `claim`. */
export function signedBy(claim: NameClaim, key: KeyObject): boolean {
  try {
    return verify(null, signed('claim', claimFields(claim)), key, Buffer.from(claim.sig, 'base64url'));
  } catch {
    return false;
  }
}

export function parse(entry: KvEntry): unknown {
  try {
    return entry.json();
  } catch {
    return null;
  }
}
