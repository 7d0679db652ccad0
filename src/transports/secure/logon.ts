/**
 * Logging on over the secure channel (a password or a token, through the front door's logon
 * gate), and the sessions logged on as each account, so that they follow the account.
 */
import type { Principal } from '../../security/access.js';
import { endsSessions, foldName, type AccountChange, type Credentials } from '../../security/accounts.js';
import type { LogonGate } from '../../security/logon-gate.js';

/** An `auth` request's credentials checked by the logon gate: the principal the session then calls as. */
export async function logOn(logons: LogonGate, request: Record<string, unknown>, source: string): Promise<Principal> {
  const credentials: Credentials | null =
    typeof request.token === 'string' ? { token: request.token } : typeof request.user === 'string' && typeof request.password === 'string' ? { user: request.user, password: request.password } : null;
  return { ...(await logons.logon(credentials, source, 'secure channel')), over: 'secure' };
}

/** A session, and the account it is logged on as, so that it follows the account (see AccountSessions.changed). */
export interface AccountSession {
  /** The account, folded as the store compares names; null while logged on as none. */
  account: string | null;
  /** Closes the session. */
  readonly end: () => void;
  /** The account's groups changed: read them again (the session's next request waits for them). */
  readonly regroup: () => void;
}

/** The sessions logged on as each account (by folded name). */
export class AccountSessions {
  readonly #byAccount = new Map<string, Set<AccountSession>>();

  /**
   * Sessions follow their account, as the web inbox's do: a new password, a revoked token or
   * host key, or the account's deletion closes them (a session keeps no credential to check
   * again), and new groups are read at once, before their next request runs. A new token takes nothing away.
   */
  changed(user: string, change: AccountChange): void {
    for (const session of [...(this.#byAccount.get(foldName(user)) ?? [])]) {
      if (endsSessions(change)) session.end();
      else if (change === 'groups') session.regroup();
    }
  }

  /** Files the session under `account` (null: none, as when it closes) instead of its previous one. */
  follow(session: AccountSession, account: string | null): void {
    if (session.account !== null) {
      const sessions = this.#byAccount.get(session.account);
      sessions?.delete(session);
      if (sessions?.size === 0) this.#byAccount.delete(session.account);
    }
    session.account = account === null ? null : foldName(account);
    if (session.account !== null) this.#byAccount.set(session.account, (this.#byAccount.get(session.account) ?? new Set()).add(session));
  }
}
