import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Login names by uid, from /etc/passwd (Node has no getpwuid). Read at most once a minute: a
 * local caller's name decides its netsend groups and its alias rules.
 */
export class LocalUsers {
  readonly #path: string;
  #byUid = new Map<number, string>();
  #names = new Set<string>();
  #readAt = -Infinity;

  constructor(path = '/etc/passwd') {
    this.#path = path;
  }

  nameOf(uid: number | null): string | null {
    if (uid === null) return null;
    if (Date.now() - this.#readAt > 60_000) this.#read();
    return this.#byUid.get(uid) ?? null;
  }

  /** The login names of this host's accounts (as passwd spells them). */
  names(): ReadonlySet<string> {
    if (Date.now() - this.#readAt > 60_000) this.#read();
    return this.#names;
  }

  #read(): void {
    this.#readAt = Date.now();
    const byUid = new Map<number, string>();
    const names = new Set<string>();
    try {
      for (const line of readFileSync(this.#path, 'utf8').split('\n').slice(0, 100_000)) {
        const [name, , uid] = line.split(':');
        if (name && uid && /^\d+$/.test(uid) && !byUid.has(Number(uid))) byUid.set(Number(uid), name);
        if (name) names.add(name);
      }
    } catch {
      // no passwd file (macOS keeps users elsewhere): callers are known by uid only
    }
    this.#byUid = byUid;
    this.#names = names;
  }
}

/** A local account as the name service knows it. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** Accounts by name, as getent finds them: NSS, so LDAP and SSSD accounts too, not only /etc/passwd. */
const accounts = new Map<string, { account: Account | null | undefined; at: number }>();
/** Lookups under way: a sweep offering many messages for one name runs one getent, not one each. */
const lookups = new Map<string, Promise<Account | null | undefined>>();
const ACCOUNT_TTL_MS = 60_000;
const MAX_ACCOUNTS = 256;

/**
 * The account the name service knows by this login name: null when getent says there is none
 * (exit 2), undefined when it cannot tell (no getent, a directory that does not answer in time),
 * for rules that must fail closed. Answers are kept for a minute.
 */
export function findAccount(name: string): Promise<Account | null | undefined> {
  const cached = accounts.get(name);
  if (cached !== undefined && Date.now() - cached.at < ACCOUNT_TTL_MS) return Promise.resolve(cached.account);
  const underWay = lookups.get(name);
  if (underWay !== undefined) return underWay;
  const lookup = new Promise<Account | null | undefined>((resolve) => {
    execFile('getent', ['passwd', '--', name], { timeout: 2000 }, (error, stdout) => {
      let account: Account | null | undefined;
      if (error !== null) account = (error as { code?: unknown }).code === 2 ? null : undefined;
      else {
        const [user, , uid, gid] = stdout.split('\n')[0]?.split(':') ?? [];
        account = user !== undefined && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '') ? { name: user, uid: Number(uid), gid: Number(gid) } : undefined;
      }
      if (accounts.size >= MAX_ACCOUNTS) accounts.clear();
      accounts.set(name, { account, at: Date.now() });
      resolve(account);
    });
  }).finally(() => lookups.delete(name));
  lookups.set(name, lookup);
  return lookup;
}

/** The account by this login name, or null (none, or the name service cannot tell). */
export async function lookupAccount(name: string): Promise<Account | null> {
  return (await findAccount(name)) ?? null;
}
