import type { AuditLog } from './audit.js';

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
