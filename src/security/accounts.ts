import { NetApiError } from '../messenger/errors.js';
import { accountNameProblem, type Principal } from './access.js';
import { MAX_PASSWORD_BYTES, hashPassword, newToken, tokenHash, verifyPassword } from './passwords.js';

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

/** Where accounts live (the SQLite store). */
export interface AccountStore {
  getUser(name: string): Promise<UserRecord | null>;
  putUser(name: string, passwordHash: string | null): Promise<void>;
  deleteUser(name: string): Promise<boolean>;
  listUsers(): Promise<UserSummary[]>;
  setMembership(user: string, group: string, member: boolean): Promise<void>;
  addToken(hash: string, user: string): Promise<void>;
  userForToken(hash: string): Promise<string | null>;
}

/** What changed about an account (see Accounts.watch). */
export type AccountChange = 'password' | 'groups' | 'tokens' | 'deleted';

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
   * its host certificate then has the account's groups, with no password to keep.
   */
  async bindHostKey(name: unknown, fingerprint: unknown): Promise<void> {
    const user = await this.#existing(name);
    if (typeof fingerprint !== 'string' || !/^SHA256:[A-Za-z0-9+/]{43}$/.test(fingerprint)) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', 'A host key fingerprint reads SHA256: and 43 base64 characters ("netsend host key" prints it).');
    }
    await this.#store.addToken(tokenHash(hostKeyCredential(fingerprint)), user.name);
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
