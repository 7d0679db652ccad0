import { NetApiError } from '../messenger/errors.js';
import { accountNameProblem } from '../messenger/account-names.js';
import type { Principal } from './access.js';
import { MAX_PASSWORD_BYTES, TOKEN_PREFIX, hashPassword, newToken, tokenHash, verifyPassword } from './passwords.js';

export interface UserRecord {
  readonly name: string;
  readonly passwordHash: string | null;
  readonly groups: string[];
}

export interface UserSummary {
  readonly name: string;
  readonly groups: string[];
  readonly tokens: number;
  readonly hasPassword: boolean;
}

/** A credential as the store keeps it: the SHA-256 of an API token or of a host key binding. */
export interface StoredCredential {
  readonly hash: string;
  /** "SHA256:…" for a bound host key; null for an API token (and bindings older than the column). */
  readonly hostKey: string | null;
  readonly createdAt: number;
}

/** What an administrator sees of a credential: an id to revoke it by, never the token itself. */
export interface CredentialSummary {
  /** The first 12 hex digits of the credential's hash. */
  readonly id: string;
  readonly kind: 'token' | 'host key';
  readonly hostKey: string | null;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** Account names compare as the store compares them: SQLite's NOCASE, which folds ASCII letters only. */
export const foldName = (name: string): string => name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

/** Where accounts live (the SQLite store). */
export interface AccountStore {
  getUser(name: string): Promise<UserRecord | null>;
  putUser(name: string, passwordHash: string | null): Promise<void>;
  deleteUser(name: string): Promise<boolean>;
  listUsers(): Promise<UserSummary[]>;
  setMembership(user: string, group: string, member: boolean): Promise<void>;
  addToken(hash: string, user: string, hostKey?: string | null): Promise<void>;
  userForToken(hash: string): Promise<string | null>;
  listTokens(user: string): Promise<StoredCredential[]>;
  deleteTokens(user: string, hashes: readonly string[] | null): Promise<number>;
}

/** What changed about an account (see Accounts.watch). */
export type AccountChange = 'password' | 'groups' | 'tokens' | 'revoked' | 'deleted';

/**
 * Whether a change takes away a credential an open session may have logged on with, so that
 * the account's sessions must end (they keep no credential to check again). A new token or new
 * groups take nothing away.
 */
export function endsSessions(change: AccountChange): boolean {
  return change === 'password' || change === 'revoked' || change === 'deleted';
}

export type Credentials = { readonly user: string; readonly password: string } | { readonly token: string };

/**
 * netsend's own accounts for remote callers (`netsend user …`, `netsend group …`): names,
 * scrypt password hashes, API tokens (stored as SHA-256) and group memberships.
 */
export class Accounts {
  readonly #store: AccountStore;
  /** A hash to check against when the user does not exist, so both cases take as long. */
  readonly #decoy: Promise<string>;
  readonly #watchers = new Set<(user: string, change: AccountChange) => void>();

  constructor(store: AccountStore) {
    this.#store = store;
    this.#decoy = hashPassword('netsend decoy password');
    this.#decoy.catch(() => {});
  }

  async add(name: unknown, password: string | null, groups: readonly string[] = []): Promise<void> {
    const user = checkName(name, 'user name');
    groups.forEach((g) => checkName(g, 'group name'));
    if ((await this.#store.getUser(user)) !== null) throw new NetApiError('NERR_UserExists', `"${user}" already has an account.`);
    await this.#store.putUser(user, password === null ? null : await hashPassword(checkPassword(password)));
    for (const group of groups) await this.#store.setMembership(user, group, true);
  }

  async setPassword(name: unknown, password: string): Promise<void> {
    const user = await this.#existing(name);
    await this.#store.putUser(user.name, await hashPassword(checkPassword(password)));
    this.#changed(user.name, 'password');
  }

  async delete(name: unknown): Promise<void> {
    const user = checkName(name, 'user name');
    if (!(await this.#store.deleteUser(user))) throw new NetApiError('NERR_UserNotFound', `No account "${String(name)}".`);
    this.#changed(user, 'deleted');
  }

  async setMembership(name: unknown, group: unknown, member: boolean): Promise<void> {
    const user = await this.#existing(name);
    await this.#store.setMembership(user.name, checkName(group, 'group name'), member);
    this.#changed(user.name, 'groups');
  }

  /** A new API token for the account, shown once: only its hash is kept. */
  async issueToken(name: unknown): Promise<string> {
    const user = await this.#existing(name);
    const token = newToken();
    await this.#store.addToken(tokenHash(token), user.name);
    this.#changed(user.name, 'tokens');
    return token;
  }

  /**
   * Lets a host key log on as this account: a daemon or an administrator's machine presenting
   * its host certificate then has the account's groups, with no password to keep. Binding it
   * again to the same account changes nothing; a key is bound to one account at most.
   */
  async bindHostKey(name: unknown, fingerprint: unknown): Promise<void> {
    const user = await this.#existing(name);
    if (typeof fingerprint !== 'string' || !HOST_KEY_FINGERPRINT.test(fingerprint)) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', 'A host key fingerprint reads SHA256: and 43 base64 characters ("netsend host key" prints it).');
    }
    const hash = tokenHash(hostKeyCredential(fingerprint));
    const owner = await this.#store.userForToken(hash);
    if (owner !== null && foldName(owner) === foldName(user.name)) return;
    if (owner !== null) throw new NetApiError('ERROR_INVALID_PARAMETER', `That host key is bound to the account "${owner}"; revoke it there first.`);
    await this.#store.addToken(hash, user.name, fingerprint);
  }

  /** The account's API tokens and host keys, oldest first. */
  async credentials(name: unknown): Promise<CredentialSummary[]> {
    const user = await this.#existing(name);
    return (await this.#store.listTokens(user.name)).map(summarizeCredential);
  }

  /**
   * Revokes credentials of the account: `which` is a credential's id (or at least 6 of its first
   * hex digits), the API token itself, or a host key's "SHA256:…" fingerprint; null revokes every
   * token and host key (the password stays). Watchers hear 'revoked', so the account's open
   * sessions (web, secure channel) close as after a new password. Returns how many were revoked.
   */
  async revoke(name: unknown, which: unknown): Promise<number> {
    const user = await this.#existing(name);
    let hashes: string[] | null = null;
    if (which !== null) {
      if (typeof which !== 'string' || which.length > 256) throw new NetApiError('ERROR_INVALID_PARAMETER', REVOKE_WHAT);
      if (HOST_KEY_FINGERPRINT.test(which)) hashes = [tokenHash(hostKeyCredential(which))];
      else if (which.startsWith(TOKEN_PREFIX)) hashes = [tokenHash(which)];
      else if (/^[0-9a-f]{6,64}$/i.test(which)) {
        const prefix = which.toLowerCase();
        hashes = (await this.#store.listTokens(user.name)).map((c) => c.hash).filter((hash) => hash.startsWith(prefix));
        if (hashes.length > 1) throw new NetApiError('ERROR_INVALID_PARAMETER', `"${which}" matches ${hashes.length} credentials of "${user.name}"; give more of the id.`);
      } else throw new NetApiError('ERROR_INVALID_PARAMETER', REVOKE_WHAT);
    }
    const revoked = await this.#store.deleteTokens(user.name, hashes);
    if (which !== null && revoked === 0) throw new NetApiError('ERROR_NOT_FOUND', `"${user.name}" has no such token or host key ("netsend user tokens ${user.name}" lists them).`);
    if (revoked > 0) this.#changed(user.name, 'revoked');
    return revoked;
  }

  /** The account a host key is bound to, if any. */
  async forHostKey(fingerprint: string, source: string | null): Promise<Principal | null> {
    const owner = await this.#store.userForToken(tokenHash(hostKeyCredential(fingerprint)));
    const user = owner === null ? null : await this.#store.getUser(owner);
    return user === null ? null : { kind: 'host', name: user.name, uid: null, groups: user.groups, source };
  }

  list(): Promise<UserSummary[]> {
    return this.#store.listUsers();
  }

  async groupsOf(name: string): Promise<string[]> {
    return (await this.#store.getUser(name))?.groups ?? [];
  }

  /** The account the credentials prove, or null; never says which part was wrong. */
  async authenticate(credentials: Credentials, source: string | null): Promise<Principal | null> {
    let user: UserRecord | null;
    if ('token' in credentials) {
      // a host key binding is proved by the TLS handshake, never by a string a client sends
      if (typeof credentials.token !== 'string' || credentials.token.length > 256 || credentials.token.startsWith(HOST_KEY_PREFIX)) return null;
      const owner = await this.#store.userForToken(tokenHash(credentials.token));
      user = owner === null ? null : await this.#store.getUser(owner);
    } else {
      if (typeof credentials.user !== 'string' || typeof credentials.password !== 'string') return null;
      user = accountNameProblem(credentials.user) === null ? await this.#store.getUser(credentials.user) : null;
      const matches = await verifyPassword(credentials.password, user?.passwordHash ?? (await this.#decoy));
      if (!matches || user?.passwordHash == null) return null;
    }
    return user === null ? null : { kind: 'user', name: user.name, uid: null, groups: user.groups, source };
  }

  /** The account `name` as a principal, if it still exists and has a password (a remembered logon, re-read). */
  async passwordHolder(name: string, source: string | null): Promise<Principal | null> {
    const user = await this.#store.getUser(name);
    return user === null || user.passwordHash === null ? null : { kind: 'user', name: user.name, uid: null, groups: user.groups, source };
  }

  /**
   * Calls `watcher` after an account's password, groups or tokens changed or it was deleted (the
   * name as given: compare without case), so what was built on an earlier logon (the web inbox's
   * sessions and streams) can end or re-check. Returns the function that stops watching.
   */
  watch(watcher: (user: string, change: AccountChange) => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  #changed(user: string, change: AccountChange): void {
    for (const watcher of this.#watchers) {
      try {
        watcher(user, change);
      } catch {
        // a watcher's failure is its own; the change is made
      }
    }
  }

  async #existing(name: unknown): Promise<UserRecord> {
    const user = await this.#store.getUser(checkName(name, 'user name'));
    if (user === null) throw new NetApiError('NERR_UserNotFound', `No account "${String(name)}".`);
    return user;
  }
}

const HOST_KEY_PREFIX = 'hostkey:';
const hostKeyCredential = (fingerprint: string) => `${HOST_KEY_PREFIX}${fingerprint}`;
const HOST_KEY_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const REVOKE_WHAT = 'Name the credential to revoke by its id ("netsend user tokens" lists them), the token itself, or a host key\'s SHA256: fingerprint.';

function summarizeCredential(credential: StoredCredential): CredentialSummary {
  return {
    id: credential.hash.slice(0, 12),
    kind: credential.hostKey === null ? 'token' : 'host key',
    hostKey: credential.hostKey,
    createdAt: new Date(credential.createdAt).toISOString(),
  };
}

function checkName(name: unknown, what: string): string {
  const problem = accountNameProblem(name, what);
  if (problem !== null) throw new NetApiError('ERROR_INVALID_PARAMETER', problem);
  return name as string;
}

function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0) throw new NetApiError('ERROR_INVALID_PARAMETER', 'The password must not be empty.');
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new NetApiError('ERROR_INVALID_PARAMETER', `The password is longer than ${MAX_PASSWORD_BYTES} bytes.`);
  return password;
}
