import { createHmac, randomBytes } from 'node:crypto';
import { NetApiError } from '../messenger/errors.js';
import { sourceAddress } from '../messenger/address.js';
import { RateLimiter } from '../policy/rate-limit.js';
import { accountNameProblem } from '../messenger/account-names.js';
import type { Principal } from './access.js';
import { foldName, type AccountChange, type Accounts, type Credentials } from './accounts.js';
import type { AuditLog } from './audit.js';

/** Each bound of the logon gate, with its reason. */
export const LOGON_LIMITS = {
  /** Attempts per source address: a burst, then one every 6 s; given back when a logon succeeds. */
  addressBurst: 10,
  addressPerSecond: 1 / 6,
  /**
   * Failed password logons one account takes before it waits: after that each failure doubles the
   * wait, from 1 s up to 15 minutes, whatever address they come from (twenty addresses give a
   * guesser no more tries). A success clears it; tokens and host keys are not held back.
   */
  accountFailures: 10,
  accountMaxWaitMs: 15 * 60_000,
  /** Password checks (scrypt: 32 MiB, ~50 ms) running at once, and waiting; past that, "busy". */
  hashing: 2,
  waiting: 32,
  /** A password that just proved right is not hashed again for this long (same user, same password). */
  cacheMs: 60_000,
  cacheEntries: 1024,
  /** Accounts whose failures are counted at once (the oldest forgotten first). */
  failureEntries: 10_000,
} as const;

export type LogonLimits = { readonly [K in keyof typeof LOGON_LIMITS]: number };

/** A refused logon: status 5, and whether the caller is to wait (HTTP 429) or was wrong (401). */
export class LogonRefused extends NetApiError {
  readonly wait: boolean;
  /** Why, without the status's own words ("Access is denied."). */
  readonly words: string;

  constructor(words: string, wait: boolean) {
    super('ERROR_ACCESS_DENIED', words);
    this.wait = wait;
    this.words = words;
  }
}

/**
 * The logon side of the front door, for every listener that takes passwords or tokens (the web
 * inbox and ntfy's publish, the secure channel): attempts charged per address and, for
 * passwords, per account with a growing wait; the costly password check bounded in concurrency
 * and remembered briefly once right, so that a flood of logons (good or bad) cannot stall the
 * daemon or grow its memory; every refusal audited.
 */
export class LogonGate {
  readonly #accounts: Pick<Accounts, 'authenticate' | 'passwordHolder' | 'watch'>;
  readonly #audit: Pick<AuditLog, 'record'>;
  readonly #limits: LogonLimits;
  readonly #now: () => number;
  readonly #perAddress: RateLimiter;
  /** Failed password logons per account (folded name); forgotten one per quiet longest wait. */
  readonly #failures = new Map<string, { count: number; until: number; last: number }>();
  /** Bumped for an account on each change of it: a check that began before a change is not remembered. */
  readonly #generation = new Map<string, number>();
  /** Verified passwords: HMAC(secret, user, password) → the account and when it was checked. */
  readonly #verified = new Map<string, { user: string; at: number }>();
  readonly #secret = randomBytes(32);
  #hashing = 0;
  readonly #queue: Array<() => void> = [];

  constructor(options: { accounts: Pick<Accounts, 'authenticate' | 'passwordHolder' | 'watch'>; audit: Pick<AuditLog, 'record'>; limits?: Partial<LogonLimits>; now?: () => number }) {
    this.#accounts = options.accounts;
    this.#audit = options.audit;
    this.#limits = { ...LOGON_LIMITS, ...options.limits };
    this.#now = options.now ?? Date.now;
    this.#perAddress = new RateLimiter({ ratePerSecond: this.#limits.addressPerSecond, burst: this.#limits.addressBurst, now: this.#now });
    // a new password, a deletion, a revocation: what was remembered for the account is forgotten
    this.#accounts.watch((user, change: AccountChange) => {
      if (change === 'groups') return;
      const account = foldName(user);
      this.#generation.set(account, (this.#generation.get(account) ?? 0) + 1);
      for (const [key, entry] of this.#verified) if (foldName(entry.user) === account) this.#verified.delete(key);
    });
  }

  /**
   * The account `credentials` prove, for a caller at `source` ("10.0.0.5:51234") over `what`
   * ("web", "secure channel"); else NetApiError ERROR_ACCESS_DENIED (5) saying why, audited.
   */
  async logon(credentials: Credentials | null, source: string, what: string): Promise<Principal> {
    const user = credentials !== null && 'user' in credentials && typeof credentials.user === 'string' ? credentials.user : null;
    const who = user === null ? 'token' : `user ${user.slice(0, 64)}`;
    const refuse = (why: string, words = 'The user name, password or token is incorrect.', wait = false) => {
      this.#audit.record({ event: 'refused-logon', principal: who, source, detail: `${what}: ${why}`, status: 5 });
      // Status 5, as the original answered a caller it could not authenticate; the words say why.
      return new LogonRefused(words, wait);
    };
    const address = sourceAddress(source);
    // Charged before the (costly) check, so parallel guesses cannot all slip in; given back when
    // the logon succeeds: a guesser is slowed down, people who know their password are not.
    if (!this.#perAddress.take(address)) throw refuse('rate', 'Too many logon attempts from this address; wait and try again.', true);
    if (credentials === null) throw refuse('bad credentials');
    // only names an account could have are counted: others cannot log on anyway
    const account = user !== null && accountNameProblem(user) === null ? foldName(user) : null;
    if (account !== null) {
      const held = this.#failures.get(account);
      if (held !== undefined && held.until > this.#now()) {
        throw refuse('account held back', 'Too many failed logons for this account; wait and try again.', true);
      }
    }
    const principal = await this.#check(credentials, source, () => refuse('busy', 'Too many logons at once; try again in a moment.', true));
    if (principal === null) {
      if (account !== null) this.#failed(account);
      throw refuse('bad credentials');
    }
    if (account !== null) this.#failures.delete(account);
    this.#perAddress.refund(address);
    return principal;
  }

  /** Charges one attempt to the address of `source` (a one-time login link is a guess too); false when it has none left. */
  charge(source: string): boolean {
    return this.#perAddress.take(sourceAddress(source));
  }

  /** Gives back an attempt that succeeded. */
  refund(source: string): void {
    this.#perAddress.refund(sourceAddress(source));
  }

  async #check(credentials: Credentials, source: string, busy: () => Error): Promise<Principal | null> {
    if (!('user' in credentials)) return this.#accounts.authenticate(credentials, source); // a token is one SHA-256
    const key = createHmac('sha256', this.#secret).update(foldName(credentials.user)).update('\0').update(credentials.password).digest('base64');
    const remembered = this.#verified.get(key);
    if (remembered !== undefined && this.#now() - remembered.at < this.#limits.cacheMs) {
      // the password is known right (a change of it forgets this); the account's groups are read afresh
      return this.#accounts.passwordHolder(remembered.user, source);
    }
    await this.#slot(busy);
    const generation = this.#generation.get(foldName(credentials.user)) ?? 0;
    try {
      const principal = await this.#accounts.authenticate(credentials, source);
      // a password changed while it was being checked is not remembered (it may be the old one)
      if (principal !== null && generation === (this.#generation.get(foldName(credentials.user)) ?? 0)) this.#remember(key, principal.name);
      return principal;
    } finally {
      this.#release();
    }
  }

  #remember(key: string, user: string): void {
    this.#verified.delete(key);
    this.#verified.set(key, { user, at: this.#now() });
    if (this.#verified.size > this.#limits.cacheEntries) this.#verified.delete(this.#verified.keys().next().value as string);
  }

  #failed(account: string): void {
    const now = this.#now();
    const previous = this.#failures.get(account);
    // failures are forgotten slowly: one for each longest wait that passed quietly after the
    // last hold ended, so waiting out a hold does not buy a fresh allowance
    const forgotten = previous === undefined ? 0 : Math.floor(Math.max(0, now - Math.max(previous.until, previous.last)) / this.#limits.accountMaxWaitMs);
    const count = Math.max(0, (previous?.count ?? 0) - forgotten) + 1;
    const over = count - this.#limits.accountFailures;
    const wait = over <= 0 ? 0 : Math.min(1000 * 2 ** (over - 1), this.#limits.accountMaxWaitMs);
    this.#failures.delete(account);
    this.#failures.set(account, { count, until: now + wait, last: now });
    // bounded: the oldest entries go first (an attacker naming endless accounts gains nothing)
    if (this.#failures.size > this.#limits.failureEntries) this.#failures.delete(this.#failures.keys().next().value as string);
  }

  /** Waits for one of the hashing slots; refuses at once when too many already wait. */
  #slot(busy: () => Error): Promise<void> {
    if (this.#hashing < this.#limits.hashing) {
      this.#hashing++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.#limits.waiting) return Promise.reject(busy());
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next !== undefined) next();
    else this.#hashing--;
  }
}
