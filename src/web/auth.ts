import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Principal } from '../security/access.js';
import { endsSessions, foldName, type AccountChange } from '../security/accounts.js';

/** Session ids, CSRF tokens and one-time login tokens: 256 random bits each. */
const newSecret = (): string => randomBytes(32).toString('base64url');
const digest = (secret: string): string => createHash('sha256').update(secret).digest('base64url');

export interface WebAuthLimits {
  /** A session ends this long after login, used or not. */
  readonly sessionLifetimeMs: number;
  /** Sessions held at once; past it a login is refused (nobody's session is ended for it). */
  readonly maxSessions: number;
  /** Sessions one account (or the owner) holds at once; its oldest is ended to make room. */
  readonly maxSessionsPerAccount: number;
  /** A one-time login token not used within this is void. */
  readonly loginTokenLifetimeMs: number;
  /** Unused one-time tokens held at once; the oldest is void past it. */
  readonly maxLoginTokens: number;
}

export const DEFAULT_WEB_AUTH_LIMITS: WebAuthLimits = {
  sessionLifetimeMs: 12 * 3600_000,
  maxSessions: 256,
  maxSessionsPerAccount: 8,
  loginTokenLifetimeMs: 24 * 3600_000,
  maxLoginTokens: 32,
};

export interface WebSession {
  /** Who is logged in; an account's groups are re-read when the account changes. */
  principal: Principal;
  /** Logged in with a one-time URL: the owner of the data dir. */
  readonly owner: boolean;
  /** The account it was logged in with, case-folded as the store compares names; null for the owner. */
  readonly account: string | null;
  /** Sent back by the page on every mutation (X-CSRF-Token); bound to this session. */
  readonly csrf: string;
  readonly expiresAt: number;
  /** The key it is held under (the id's hash): to end it. */
  readonly key: string;
  /** The change counter when the principal was last read from the accounts (see WebAuth.changedSince). */
  checked: number;
}

/**
 * The web inbox's logins: sessions held in memory under the hash of their cookie id (so a
 * lookup leaks nothing through timing), and one-time login tokens for the data dir's owner.
 * A daemon restart ends every session, which is the safe default for a loopback page.
 *
 * Sessions follow their account: a new password, a revoked credential or the account's deletion
 * ends them, a change of groups or a new token is noted (accountChanged) so the caller re-reads
 * the groups before use.
 */
export class WebAuth {
  readonly #limits: WebAuthLimits;
  readonly #now: () => number;
  /** Insertion order is age order: the first entry is the oldest. */
  readonly #sessions = new Map<string, WebSession>();
  readonly #loginTokens = new Map<string, number>();
  /** Counts account changes; per account, the count at its latest change and latest credential change. */
  #tick = 0;
  readonly #changes = new Map<string, { any: number; credentials: number }>();

  constructor(limits: Partial<WebAuthLimits> = {}, now: () => number = Date.now) {
    this.#limits = { ...DEFAULT_WEB_AUTH_LIMITS, ...limits };
    this.#now = now;
  }

  /** A fresh one-time login token; only its hash is kept. */
  mintLoginToken(): string {
    this.#sweep();
    while (this.#loginTokens.size >= this.#limits.maxLoginTokens) this.#loginTokens.delete(this.#loginTokens.keys().next().value as string);
    const token = newSecret();
    this.#loginTokens.set(digest(token), this.#now() + this.#limits.loginTokenLifetimeMs);
    return token;
  }

  /** Uses up a one-time token: true once, for a token minted here and not expired. */
  consumeLoginToken(token: unknown): boolean {
    if (typeof token !== 'string' || token.length > 128) return false;
    const key = digest(token);
    const expiresAt = this.#loginTokens.get(key);
    this.#loginTokens.delete(key);
    return expiresAt !== undefined && expiresAt > this.#now();
  }

  /** The account-change counter now: taken before a logon, so a change during it is seen (changedSince). */
  get tick(): number {
    return this.#tick;
  }

  /**
   * Starts a session; returns its cookie id (shown to the browser only), or null when the
   * sessions are all taken: then the login is refused rather than ending someone else's session.
   * `checkedAt` is the tick taken before the credentials were checked.
   */
  createSession(principal: Principal, owner: boolean, checkedAt = this.#tick): { id: string; session: WebSession } | null {
    this.#sweep();
    const account = owner ? null : foldName(principal.name);
    const mine = [...this.#sessions.values()].filter((s) => s.owner === owner && s.account === account);
    for (const old of mine.slice(0, Math.max(0, mine.length - this.#limits.maxSessionsPerAccount + 1))) this.#sessions.delete(old.key);
    if (this.#sessions.size >= this.#limits.maxSessions) return null;
    const id = newSecret();
    const key = digest(id);
    const session: WebSession = { principal, owner, account, csrf: newSecret(), expiresAt: this.#now() + this.#limits.sessionLifetimeMs, key, checked: checkedAt };
    this.#sessions.set(key, session);
    return { id, session };
  }

  /** The live session a cookie id names, or null. */
  session(id: string | undefined): WebSession | null {
    if (id === undefined || id.length > 128) return null;
    const session = this.#sessions.get(digest(id));
    if (session === undefined) return null;
    if (session.expiresAt <= this.#now() || (session.account !== null && this.#credentialsChangedSince(session.account, session.checked))) {
      this.#sessions.delete(session.key);
      return null;
    }
    return session;
  }

  isLive(session: WebSession): boolean {
    return this.#sessions.get(session.key) === session && session.expiresAt > this.#now();
  }

  end(session: WebSession): void {
    this.#sessions.delete(session.key);
  }

  /**
   * An account changed (Accounts.watch): a new password, a revoked token or host key, or its
   * deletion ends its sessions at once (a session does not know which credential it logged on
   * with); any change makes changedSince true for what was derived before it (groups, streams).
   */
  accountChanged(name: string, change: AccountChange): void {
    const account = foldName(name);
    const tick = ++this.#tick;
    const credentials = endsSessions(change);
    const before = this.#changes.get(account);
    this.#changes.set(account, { any: tick, credentials: credentials ? tick : (before?.credentials ?? 0) });
    if (credentials) for (const session of this.#sessions.values()) if (session.account === account) this.#sessions.delete(session.key);
  }

  /** Whether the account changed after `tick` (what was read of it then may be stale). */
  changedSince(name: string, tick: number): boolean {
    return (this.#changes.get(foldName(name))?.any ?? 0) > tick;
  }

  #credentialsChangedSince(account: string, tick: number): boolean {
    return (this.#changes.get(account)?.credentials ?? 0) > tick;
  }

  get sessionLifetimeMs(): number {
    return this.#limits.sessionLifetimeMs;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(key);
    for (const [key, expiresAt] of this.#loginTokens) if (expiresAt <= now) this.#loginTokens.delete(key);
  }
}

/** Compares two secrets in constant time. */
export function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The host part of a Host header ("127.0.0.1:8139" → "127.0.0.1", "[::1]:80" → "::1"), lowercased. */
export function hostOnly(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return (bracketed[1] as string).toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}

/**
 * DNS rebinding: a page on attacker.example whose name is made to resolve to 127.0.0.1 would be
 * same-origin with itself. Only literal addresses and this machine's own names are served.
 */
export function hostAllowed(host: string | undefined, names: ReadonlySet<string>): boolean {
  if (host === undefined || host.length > 255) return false;
  const name = hostOnly(host);
  return isIP(name) !== 0 || names.has(name);
}

/** A mutation from a browser must come from this page: its Origin names the host it was sent to. */
export function originMatches(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined || host === undefined) return false;
  return origin.toLowerCase() === `http://${host.toLowerCase()}`;
}

/** The cookie's value, from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';', 64)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Bearer token or Basic user:password from an Authorization header; null when there is none. */
export function headerCredentials(header: string | undefined): { token: string } | { user: string; password: string } | 'malformed' | null {
  if (header === undefined) return null;
  const bearer = /^Bearer\s+(\S{1,256})$/i.exec(header);
  if (bearer) return { token: bearer[1] as string };
  const basic = /^Basic\s+([A-Za-z0-9+/=]{1,1024})$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // ntfy's `-u :TOKEN`: an empty user name and the token as password
    if (colon === 0 && decoded.length > 1) return { token: decoded.slice(1) };
    if (colon > 0) return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return 'malformed';
}
