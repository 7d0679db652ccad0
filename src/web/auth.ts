import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Principal } from '../security/access.js';

/** Session ids, CSRF tokens and one-time login tokens: 256 random bits each. */
const newSecret = (): string => randomBytes(32).toString('base64url');
const digest = (secret: string): string => createHash('sha256').update(secret).digest('base64url');

export interface WebAuthLimits {
  /** A session ends this long after login, used or not. */
  readonly sessionLifetimeMs: number;
  /** Sessions held at once; the oldest is ended to make room. */
  readonly maxSessions: number;
  /** A one-time login token not used within this is void. */
  readonly loginTokenLifetimeMs: number;
  /** Unused one-time tokens held at once; the oldest is void past it. */
  readonly maxLoginTokens: number;
}

export const DEFAULT_WEB_AUTH_LIMITS: WebAuthLimits = {
  sessionLifetimeMs: 12 * 3600_000,
  maxSessions: 256,
  loginTokenLifetimeMs: 24 * 3600_000,
  maxLoginTokens: 32,
};

export interface WebSession {
  readonly principal: Principal;
  /** Logged in with a one-time URL: the owner of the data dir. */
  readonly owner: boolean;
  /** Sent back by the page on every mutation (X-CSRF-Token); bound to this session. */
  readonly csrf: string;
  readonly expiresAt: number;
  /** The key it is held under (the id's hash): to end it. */
  readonly key: string;
}

/**
 * The web inbox's logins: sessions held in memory under the hash of their cookie id (so a
 * lookup leaks nothing through timing), and one-time login tokens for the data dir's owner.
 * A daemon restart ends every session, which is the safe default for a loopback page.
 */
export class WebAuth {
  readonly #limits: WebAuthLimits;
  readonly #now: () => number;
  /** Insertion order is age order: the first entry is the oldest. */
  readonly #sessions = new Map<string, WebSession>();
  readonly #loginTokens = new Map<string, number>();

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

  /** Starts a session; returns its cookie id (shown to the browser only). */
  createSession(principal: Principal, owner: boolean): { id: string; session: WebSession } {
    this.#sweep();
    while (this.#sessions.size >= this.#limits.maxSessions) this.#sessions.delete(this.#sessions.keys().next().value as string);
    const id = newSecret();
    const key = digest(id);
    const session: WebSession = { principal, owner, csrf: newSecret(), expiresAt: this.#now() + this.#limits.sessionLifetimeMs, key };
    this.#sessions.set(key, session);
    return { id, session };
  }

  /** The live session a cookie id names, or null. */
  session(id: string | undefined): WebSession | null {
    if (id === undefined || id.length > 128) return null;
    const session = this.#sessions.get(digest(id));
    if (session === undefined) return null;
    if (session.expiresAt <= this.#now()) {
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
