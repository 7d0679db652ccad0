import type { Transport } from '../messenger/admission.js';
import { NetApiError } from '../messenger/errors.js';
import type { ServerRole } from '../config/choices.js';

/** The original's groups that the access rules name. */
export const GROUP = {
  administrators: 'Administrators',
  serverOperators: 'Server Operators',
  accountOperators: 'Account Operators',
  domainAdmins: 'Domain Admins',
} as const;

// The roles are the `server role` setting's values; re-exported for the daemon until it takes them from config.
export type { ServerRole };

/**
 * Who is calling. Local callers are known by the kernel's uid; remote ones by an account
 * (password or token) or by their host key.
 */
export interface Principal {
  readonly kind: 'local' | 'user' | 'host';
  /** The account name (for a host key, the account it is bound to, else the host's name); for a local caller, its login name where known. */
  readonly name: string;
  readonly uid: number | null;
  readonly groups: readonly string[];
  /** Where a remote call came from ("10.0.0.5:51234"); null for local ones. */
  readonly source: string | null;
  /** The way the call came in; default: the control socket for a local caller, else the secure channel. */
  readonly over?: Transport;
}

export const isRemote = (principal: Principal): boolean => principal.kind !== 'local';

export function describePrincipal(principal: Principal): string {
  if (principal.kind === 'local') return principal.uid === null ? 'local caller' : `uid ${principal.uid}${principal.name ? ` (${principal.name})` : ''}`;
  return `${principal.kind} ${principal.name}`;
}

/** What a call does, for the access rules. */
export type Action =
  | 'send' // NetMessageBufferSend, broadcasts
  | 'names.read' // NetMessageNameEnum, NetMessageNameGetInfo
  | 'names.add'
  | 'names.delete'
  | 'inbox.read'
  | 'administer'; // accounts, groups, the audit log, other people's alias policies

export interface AccessRules {
  role: ServerRole;
  /** Groups whose members may make remote calls; empty means the role's defaults. */
  remoteCallGroups: readonly string[];
}

/**
 * The original's rules ([MS-MSRP], the NetMessage* reference pages): locally no group is needed;
 * remote calls on a workstation or member server need Administrators or Server Operators, on a
 * domain controller Domain Admins or Account Operators (its default ACL); NetMessageNameDel on
 * a remote server needs Administrators (Domain Admins on a domain controller).
 */
export class AccessPolicy {
  readonly role: ServerRole;
  readonly remoteCallGroups: readonly string[];
  readonly adminGroups: readonly string[];

  constructor(rules: AccessRules) {
    this.role = rules.role;
    const dc = rules.role === 'domain controller';
    this.remoteCallGroups =
      rules.remoteCallGroups.length > 0
        ? rules.remoteCallGroups
        : dc
          ? [GROUP.domainAdmins, GROUP.accountOperators]
          : [GROUP.administrators, GROUP.serverOperators];
    this.adminGroups = dc ? [GROUP.domainAdmins, GROUP.administrators] : [GROUP.administrators];
  }

  isAdmin(principal: Principal): boolean {
    return inAny(principal, this.adminGroups);
  }

  /** @throws NetApiError ERROR_ACCESS_DENIED (5) when the rules refuse the call */
  check(principal: Principal, action: Action): void {
    const problem = this.problem(principal, action);
    if (problem !== null) throw new NetApiError('ERROR_ACCESS_DENIED', problem);
  }

  /** Why the rules refuse the call, or null when they allow it. */
  problem(principal: Principal, action: Action): string | null {
    const adminOnly = `Only ${this.adminGroups.join(' or ')} may do this.`;
    if (!isRemote(principal)) return action === 'administer' && !this.isAdmin(principal) ? adminOnly : null;
    if (principal.kind === 'host' && principal.groups.length === 0) {
      return 'This host key is bound to no account, so it may deliver messages but not make calls; log on as a user, or bind the key with "netsend user key".';
    }
    if (action === 'inbox.read') return 'The inbox is not readable remotely.';
    if (!inAny(principal, this.remoteCallGroups)) {
      return `Remote calls on a ${this.role} need membership in ${this.remoteCallGroups.join(' or ')}.`;
    }
    // Administration from afar needs both: the right to call remotely, and admin rights.
    if (action === 'administer' && !this.isAdmin(principal)) return adminOnly;
    if (action === 'names.delete' && !this.isAdmin(principal)) {
      return `Deleting a name on a remote server needs ${this.adminGroups.join(' or ')}.`;
    }
    return null;
  }
}

function inAny(principal: Principal, groups: readonly string[]): boolean {
  const wanted = new Set(groups.map((g) => g.toLowerCase()));
  return principal.groups.some((g) => wanted.has(g.toLowerCase()));
}
