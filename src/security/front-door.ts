import { isIP } from 'node:net';
import { RateLimiter } from '../policy/rate-limit.js';
import { sourceAddress } from '../messenger/address.js';
import type { Knock, Refusal } from '../messenger/admission.js';
import { foldName } from './accounts.js';
import type { AuditLog } from './audit.js';

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
/** Sources count as active for this long after their last message (two windows of it, rotating). */
export const ACTIVE_WINDOW_MS = 5000;
/**
 * A sender's fair-share bucket holds up to two messages (a slow sender's jitter), and a new one
 * starts with one: an attacker's fresh addresses get no more than a sender already known.
 */
const FAIR_BURST = 2;
const FAIR_START = 1;
/** Senders tracked at once by the global budget, and by each alias's; the least recently seen are forgotten past it. */
const MAX_SENDERS = 10_000;
const MAX_SENDERS_PER_ALIAS = 1000;
/** Aliases with a budget of their own at once (aliases of this host only; the least recently used go first). */
const MAX_ALIAS_BUDGETS = 256;

/**
 * The message side of netsend's one front door: the rate limits every transport's messages pass,
 * with the refusals audited. The buckets are kept per account (or local uid), per source address
 * for anonymous input, per host key (policy/rate-limit.ts), and, shared by all senders, one per
 * recipient alias and one for all network input together (SharedBudget, fair among senders).
 */
export class MessageGate {
  readonly #perAddress: RateLimiter;
  readonly #perAccount: RateLimiter;
  readonly #perHost: RateLimiter;
  readonly #perAlias = new Map<string, SharedBudget>();
  readonly #aliasBudget: { rate: number; burst: number; reserve: number };
  readonly #global: SharedBudget;
  readonly #now: () => number;
  readonly #audit: Pick<AuditLog, 'record'> | undefined;

  constructor(limits: MessageLimits, options: { audit?: Pick<AuditLog, 'record'>; now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    const source = { ratePerSecond: limits.sourceRate, burst: limits.sourceBurst, now: this.#now };
    this.#perAddress = new RateLimiter(source);
    this.#perAccount = new RateLimiter(source);
    this.#perHost = new RateLimiter(source);
    const factor = limits.aliasFactor ?? ALIAS_FACTOR;
    // Each reserve holds one message from each of as many new senders as the global burst.
    const reserve = limits.globalRate * 5;
    this.#aliasBudget = { rate: limits.sourceRate * factor, burst: limits.sourceBurst * factor, reserve };
    this.#global = new SharedBudget({ rate: limits.globalRate, burst: limits.globalRate * 5, reserve }, this.#now, MAX_SENDERS);
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
        detail: `${knock.over} to ${knock.to} (${knock.bytes} bytes): ${refusal.reason}`,
        status: 2283,
      });
    }
    return refusal;
  }

  #check(knock: Knock): Refusal | null {
    // The sender's own budget first. An account (or a local uid) is one budget wherever it calls
    // from, and people behind one address do not share theirs; anonymous input is known only by
    // its address, and a host key by its key and its address too, since anyone can mint keys.
    const [limiter, key, who] =
      knock.account !== null
        ? [this.#perAccount, `account ${foldName(knock.account)}`, knock.uid !== null ? `uid ${knock.uid} (${knock.account})` : `the account ${knock.account}`]
        : knock.uid !== null
          ? [this.#perAccount, `uid ${knock.uid}`, `uid ${knock.uid}`]
          : knock.address !== null
            ? [this.#perAddress, `address ${senderPrefix(sourceAddress(knock.address))}`, knock.address]
            : [this.#perAccount, 'unknown local caller', 'a local caller the kernel did not name'];
    const own: Array<[RateLimiter, string, string]> = [[limiter, key, who]];
    if (knock.hostKey !== null) own.push([this.#perHost, knock.hostKey, 'this host']);
    for (const [bucket, name, sender] of own) {
      if (!bucket.take(name)) return tooFast(`${sender} sends too fast`);
    }
    if (knock.toLocalAlias && !this.#aliasBudgetOf(knock.to).take(key)) return tooFast(`${knock.to} receives too many messages now`);
    if (knock.address !== null && !this.#global.take(key)) return tooFast('this host receives too many messages from the network now');
    return null;
  }

  #aliasBudgetOf(alias: string): SharedBudget {
    const budget = this.#perAlias.get(alias) ?? new SharedBudget(this.#aliasBudget, this.#now, MAX_SENDERS_PER_ALIAS);
    // most recently used last: past the bound the least recently used alias's budget goes
    this.#perAlias.delete(alias);
    this.#perAlias.set(alias, budget);
    if (this.#perAlias.size > MAX_ALIAS_BUDGETS) this.#perAlias.delete(this.#perAlias.keys().next().value as string);
    return budget;
  }
}

/**
 * The sender an anonymous address stands for: an IPv4 address, or an IPv6 /64 (one link's
 * prefix, which a host on it can fill with addresses at will, so it is one sender).
 */
function senderPrefix(address: string): string {
  const bare = (address.split('%')[0] ?? '').toLowerCase();
  if (isIP(bare) !== 6) return address;
  return `${expandIpv6(bare.split(':')).slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, "::" filled in. */
function expandIpv6(groups: readonly string[]): string[] {
  const gap = groups.indexOf('');
  if (gap < 0) return [...groups];
  const head = groups.slice(0, gap).filter((g) => g !== '');
  const tail = groups.slice(gap + 1).filter((g) => g !== '');
  return [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
}

const tooFast = (reason: string): Refusal => ({ status: 'NERR_NameInUse', reason: `${reason}; try again later` });

/**
 * A budget all senders share (one alias's, or all network input's), fair among them. Its own
 * tokens go to whoever asks first; once they are spent, a sender still gets through if it keeps
 * within its fair share (the budget's rate divided by the senders active in the last few
 * seconds), from a reserve. A flood from many addresses, each at its own full rate, is far over
 * that share and is refused; a slow sender under it gets through whole. A sender as fast as each
 * flooder cannot be told from them, and shares the budget with them (max-min fairness).
 */
class SharedBudget {
  readonly #bucket: RateLimiter;
  readonly #rate: number;
  readonly #now: () => number;
  readonly #active: ActiveSources;
  /** Each sender's fair-share tokens: they refill at the rate over the active senders. */
  readonly #fair = new Map<string, { tokens: number; at: number }>();
  readonly #maxSenders: number;

  constructor(budget: { rate: number; burst: number; reserve: number }, now: () => number, maxSenders: number) {
    this.#bucket = new RateLimiter({ ratePerSecond: budget.rate, burst: budget.burst, reserve: budget.reserve, maxSources: 1, now });
    this.#rate = budget.rate;
    this.#now = now;
    this.#maxSenders = maxSenders;
    this.#active = new ActiveSources(ACTIVE_WINDOW_MS, maxSenders);
  }

  take(sender: string): boolean {
    this.#active.see(sender, this.#now());
    return this.#bucket.take('all') || (this.#withinFairShare(sender) && this.#bucket.take('all', true));
  }

  #withinFairShare(sender: string): boolean {
    const now = this.#now();
    const rate = this.#rate / this.#active.count;
    const bucket = this.#fair.get(sender) ?? { tokens: FAIR_START, at: now };
    bucket.tokens = Math.min(FAIR_BURST, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.#fair.delete(sender);
    this.#fair.set(sender, bucket);
    if (this.#fair.size > this.#maxSenders) this.#fair.delete(this.#fair.keys().next().value as string);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** How many senders sent lately: two rotating windows, so counting costs nothing per message. */
class ActiveSources {
  readonly #windowMs: number;
  readonly #max: number;
  #current = new Set<string>();
  #previous = new Set<string>();
  #since = -Infinity;

  constructor(windowMs: number, max: number) {
    this.#windowMs = windowMs;
    this.#max = max;
  }

  see(key: string, now: number): void {
    if (now - this.#since >= this.#windowMs) {
      // a whole window with nobody in it leaves nobody active
      this.#previous = now - this.#since >= 2 * this.#windowMs ? new Set() : this.#current;
      this.#current = new Set();
      this.#since = now;
    }
    if (this.#current.size < this.#max) this.#current.add(key);
  }

  get count(): number {
    return Math.max(1, this.#current.size, this.#previous.size);
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
  /** The login names of this host's local accounts in /etc/passwd (the ones that may not be lower case). */
  loginNames: () => ReadonlySet<string>;
  /** An account the name service knows by this login name (getent: LDAP and SSSD accounts too); null: none; undefined: it cannot tell now. */
  lookup: (login: string) => Promise<{ name: string } | null | undefined>;
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

  /** Whether `alias` (canonical) is the login name of an account of this host, and whose; undefined when that cannot be told now. */
  async loginOwner(alias: string): Promise<string | null | undefined> {
    for (const login of this.#options.loginNames()) if (this.#options.canonical(login) === alias) return login;
    // accounts from the name service (not in /etc/passwd) are found by the usual lower-case login
    const account = await this.#options.lookup(alias.toLowerCase());
    if (account === undefined) return undefined;
    return account !== null && this.#options.canonical(account.name) === alias ? account.name : null;
  }

  /** Why `caller` may not add `alias` (canonical), or null. */
  async problem(caller: AliasCaller, alias: string): Promise<{ status: 'ERROR_ACCESS_DENIED' | 'NERR_TooManyNames'; reason: string } | null> {
    if (caller.administrator) return null;
    const login = await this.loginOwner(alias);
    if (login === undefined) {
      // fail closed: the directory that would say whose name it is does not answer
      this.#audit(caller, alias, 'the name service could not say whether it is a login name', 5);
      return { status: 'ERROR_ACCESS_DENIED', reason: `Whether ${alias} is someone's login name cannot be checked now (the name service does not answer); try again, or ask an administrator.` };
    }
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
