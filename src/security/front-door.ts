import { RateLimiter } from '../policy/rate-limit.js';
import type { AuditLog } from './audit.js';
import { sourceAddress } from './audit.js';
import type { Knock, Refusal } from '../messenger/admission.js';

export type { Knock, Refusal, Transport } from '../messenger/admission.js';
export { TRANSPORTS } from '../messenger/admission.js';

export interface MessageLimits {
  /** Per source (address, account, host key): `source message rate`/`source message burst`. */
  readonly sourceRate: number;
  readonly sourceBurst: number;
  /** All network input together: `global message rate` (burst five seconds of it). */
  readonly globalRate: number;
  /** One alias from all sources together, as a multiple of the per-source limit. */
  readonly aliasFactor?: number;
}

/** One alias takes this many times a single source's rate: a crowd cannot bury one person. */
export const ALIAS_FACTOR = 10;

/**
 * The message side of netsend's one front door: the rate limits every transport's messages pass,
 * with the refusals audited. The buckets (policy/rate-limit.ts) are kept per account (or local
 * uid), per source address for anonymous input, per host key, per recipient alias, and one for
 * all network input together.
 *
 * Fairness under a flood from many addresses: once the shared buckets (global, alias) are empty,
 * a light source, one that sends no faster than its own rate (its bucket is full but for one
 * token), still gets through, from a reserve the size of the global burst; the heavy senders, bursting or at
 * their limit, are the ones refused. So a slow legitimate sender is not crowded out by a thousand
 * fast ones, and the total stays bounded.
 */
export class MessageGate {
  readonly #perAddress: RateLimiter;
  readonly #perAccount: RateLimiter;
  readonly #perHost: RateLimiter;
  readonly #perAlias: RateLimiter;
  readonly #global: RateLimiter;
  readonly #sourceBurst: number;
  readonly #audit: Pick<AuditLog, 'record'> | undefined;

  constructor(limits: MessageLimits, options: { audit?: Pick<AuditLog, 'record'>; now?: () => number } = {}) {
    const source = { ratePerSecond: limits.sourceRate, burst: limits.sourceBurst, ...(options.now ? { now: options.now } : {}) };
    this.#perAddress = new RateLimiter(source);
    this.#perAccount = new RateLimiter(source);
    this.#perHost = new RateLimiter(source);
    const factor = limits.aliasFactor ?? ALIAS_FACTOR;
    // Both reserves hold one message from each of as many new sources as the global burst: the
    // first message of each of 500 new addresses at once does not use up what a slow sender needs.
    const reserve = limits.globalRate * 5;
    this.#perAlias = new RateLimiter({ ...source, ratePerSecond: limits.sourceRate * factor, burst: limits.sourceBurst * factor, reserve });
    this.#global = new RateLimiter({ ...source, ratePerSecond: limits.globalRate, burst: limits.globalRate * 5, reserve });
    this.#sourceBurst = limits.sourceBurst;
    this.#audit = options.audit;
  }

  /** Null when the message may go on; else why not (audited, rate limited per source). */
  admit(knock: Knock): Refusal | null {
    if (knock.localAdministrator) return null;
    const refusal = this.#check(knock);
    if (refusal !== null) {
      this.#audit?.record({
        event: 'refused-rate',
        principal: knock.account ?? (knock.uid !== null ? `uid ${knock.uid}` : knock.hostKey !== null ? `host ${knock.hostKey}` : 'anonymous'),
        source: knock.address,
        detail: `${knock.over} to ${knock.to}: ${refusal.reason}`,
        status: 2283,
      });
    }
    return refusal;
  }

  #check(knock: Knock): Refusal | null {
    // The sender's own budget first. An account (or a local uid) is one budget wherever it calls
    // from, and people behind one address do not share theirs; anonymous input is known only by
    // its address, and a host key by its key and its address too, since anyone can mint keys.
    const own: Array<[RateLimiter, string, string]> = [];
    const who = knock.uid !== null ? `uid ${knock.uid}${knock.account !== null ? ` (${knock.account})` : ''}` : `the account ${knock.account}`;
    if (knock.account !== null) own.push([this.#perAccount, knock.account.toLowerCase(), `${who} sends too fast`]);
    else if (knock.uid !== null) own.push([this.#perAccount, `uid ${knock.uid}`, `uid ${knock.uid} sends too fast`]);
    else if (knock.address !== null) own.push([this.#perAddress, sourceAddress(knock.address), `${knock.address} sends too fast`]);
    if (knock.hostKey !== null) own.push([this.#perHost, knock.hostKey, 'this host sends too fast']);
    // A light sender (no faster than its own rate: its bucket is full but for at most one token)
    // may draw on the shared reserves.
    const light = own.every(([limiter, key]) => limiter.level(key) >= this.#sourceBurst - 1);
    for (const [limiter, key, reason] of own) {
      if (!limiter.take(key)) return { status: 'NERR_NameInUse', reason: `${reason}; try again later` };
    }
    if (!this.#perAlias.take(knock.to, light)) return { status: 'NERR_NameInUse', reason: `${knock.to} receives too many messages now; try again later` };
    if (knock.address !== null && !this.#global.take('all', light)) {
      return { status: 'NERR_NameInUse', reason: 'this host receives too many messages from the network now; try again later' };
    }
    return null;
  }
}

/** How many connections a listener holds at once, and how many of them one address may hold. */
export interface ConnectionLimits {
  readonly total: number;
  readonly perAddress: number;
}

/**
 * The connection side of the front door, one per listener (SMB, secure channel, web, control):
 * a cap on connections open at once, and a share of it per source address, so that one address
 * cannot lock every other sender out by holding sockets open. Refusals are audited (rate limited
 * per address by the audit log).
 */
export class ConnectionGate {
  readonly #limits: ConnectionLimits;
  readonly #listener: string;
  readonly #audit: Pick<AuditLog, 'record'> | undefined;
  readonly #perAddress = new Map<string, number>();
  #open = 0;

  constructor(listener: string, limits: ConnectionLimits, audit?: Pick<AuditLog, 'record'>) {
    this.#listener = listener;
    this.#limits = limits;
    this.#audit = audit;
  }

  get open(): number {
    return this.#open;
  }

  /**
   * Lets a connection from `source` in: a function to call once when it closes, or null when it
   * is refused (the caller closes it, with its protocol's "no resources" answer where it has one).
   */
  enter(source: string): (() => void) | null {
    const address = sourceAddress(source);
    const fromHere = this.#perAddress.get(address) ?? 0;
    const full = this.#open >= this.#limits.total;
    if (full || fromHere >= this.#limits.perAddress) {
      this.#audit?.record({
        event: 'refused-connection',
        principal: 'anonymous',
        source,
        detail: full
          ? `${this.#listener}: ${this.#limits.total} connections are open, the most it takes`
          : `${this.#listener}: ${address} holds ${fromHere} connections, the most one address may`,
        status: 2283,
      });
      return null;
    }
    this.#open++;
    this.#perAddress.set(address, fromHere + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#open--;
      const remaining = (this.#perAddress.get(address) ?? 1) - 1;
      if (remaining > 0) this.#perAddress.set(address, remaining);
      else this.#perAddress.delete(address);
    };
  }
}

/** Aliases one local user who is not an administrator may add: enough for a person's names, few enough that one user cannot fill the table (`max aliases`). */
export const ALIASES_PER_USER = 8;

/** Who asks to add an alias, as the alias gate needs to know them. */
export interface AliasCaller {
  readonly kind: 'local' | 'user' | 'host';
  /** The local login or the account name. */
  readonly name: string;
  readonly uid: number | null;
  readonly administrator: boolean;
}

export interface AliasGateOptions {
  /** The login names of this host's local accounts (/etc/passwd). */
  loginNames: () => ReadonlySet<string>;
  /** A name's canonical alias form (the code page's upper case), or null when it cannot be an alias. */
  canonical: (name: string) => string | null;
  /** How many aliases a local uid has added. */
  addedBy: (uid: number) => number;
  quota?: number;
  audit?: Pick<AuditLog, 'record'>;
}

/**
 * The alias side of the front door: a name that is a local account's login name belongs to that
 * account (its messages are that person's), whether or not they are logged on; only they or an
 * administrator may add it. And a local user who is not an administrator adds at most
 * ALIASES_PER_USER aliases, so one user cannot fill the table for everyone.
 */
export class AliasGate {
  readonly #options: AliasGateOptions;

  constructor(options: AliasGateOptions) {
    this.#options = options;
  }

  /** Whether `alias` (canonical) is the login name of a local account, and whose. */
  loginOwner(alias: string): string | null {
    for (const login of this.#options.loginNames()) if (this.#options.canonical(login) === alias) return login;
    return null;
  }

  /** Why `caller` may not add `alias` (canonical), or null. */
  problem(caller: AliasCaller, alias: string): { status: 'ERROR_ACCESS_DENIED' | 'NERR_TooManyNames'; reason: string } | null {
    if (caller.administrator) return null;
    const login = this.loginOwner(alias);
    if (login !== null && !(caller.kind === 'local' && caller.name === login)) {
      this.#audit(caller, alias, `${alias} is the login name of the local account ${login}`, 5);
      return { status: 'ERROR_ACCESS_DENIED', reason: `${alias} is the login name of the local account ${login}: only ${login} or an administrator may add it.` };
    }
    const quota = this.#options.quota ?? ALIASES_PER_USER;
    if (caller.kind === 'local' && caller.uid !== null && this.#options.addedBy(caller.uid) >= quota) {
      this.#audit(caller, alias, `uid ${caller.uid} holds ${quota} aliases already`, 2277);
      return { status: 'NERR_TooManyNames', reason: `You have added ${quota} aliases, the most one user may; delete one first, or ask an administrator.` };
    }
    return null;
  }

  #audit(caller: AliasCaller, alias: string, detail: string, status: number): void {
    this.#options.audit?.record({
      event: 'refused-alias',
      principal: caller.kind === 'local' ? `uid ${caller.uid ?? '?'}${caller.name ? ` (${caller.name})` : ''}` : `${caller.kind} ${caller.name}`,
      source: null,
      detail: `names.add ${alias}: ${detail}`,
      status,
    });
  }
}
