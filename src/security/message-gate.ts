import { isIP } from 'node:net';
import { RateLimiter } from '../policy/rate-limit.js';
import type { Knock, Refusal } from '../messenger/admission.js';
import { foldName } from './accounts.js';
import type { AuditLog } from './audit.js';
import { SharedBudget } from './shared-budget.js';

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
            ? [this.#perAddress, `address ${senderPrefix(knock.address)}`, knock.address]
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
