import { readFile } from 'node:fs/promises';
import type { BindAddress } from '../config/interfaces.js';
import type { Config } from '../config/load.js';
import type { AliasPolicies } from '../control/services.js';
import { AccessPolicy, GROUP, type Principal } from '../security/access.js';
import { Accounts } from '../security/accounts.js';
import { AuditLog } from '../security/audit.js';
import { recipientRules } from '../security/recipient-rules.js';
import { MessageGate } from '../security/front-door.js';
import type { Admission } from '../messenger/admission.js';
import { InboundPolicy, SubnetSet, parsePolicy, subnetOf, type AliasPolicy } from '../security/inbound-policy.js';
import type { StorePorts } from '../store/ports.js';
import { LocalUsers } from '../os/local-users.js';

/** The daemon's security state: accounts, access rules, the audit log, who may message whom. */
export interface DaemonSecurity {
  readonly accounts: Accounts;
  readonly access: AccessPolicy;
  readonly audit: AuditLog;
  readonly aliasPolicies: AliasPolicies;
  readonly caPem: string | undefined;
  /** The host's local accounts (/etc/passwd), read at most once a minute. */
  readonly localUsers: LocalUsers;
  localPrincipal(uid: number | null): Promise<Principal>;
  /** The front door as the Messenger asks it: the rate limits, and the recipient's rules for each arriving message. */
  readonly admission: Admission;
  /** The host's addresses changed: `legacy subnets = local` follows them. */
  interfacesChanged(addresses: readonly BindAddress[]): void;
}

export async function createSecurity(config: Config, store: Pick<StorePorts, 'accounts' | 'audit' | 'policies'>, addresses: readonly BindAddress[], log: (line: string) => void): Promise<DaemonSecurity> {
  const accounts = new Accounts(store.accounts);
  const access = new AccessPolicy({ role: config.serverRole, remoteCallGroups: config.remoteCallGroups });
  const audit = new AuditLog(store.audit, log);
  const localUsers = new LocalUsers();
  const daemonUid = process.getuid?.() ?? null;

  // `local`: loopback and the subnets of `interfaces`, which move with the host's addresses
  const legacySubnets = (now: readonly BindAddress[]) =>
    new SubnetSet(config.legacySubnets.flatMap((spec) => (spec === 'local' ? ['127.0.0.0/8', '::1/128', ...now.map((a) => subnetOf(a.address, a.netmask))] : [spec])));
  const stored = new Map<string, AliasPolicy>();
  for (const { name, policy } of await store.policies.loadAliasPolicies()) {
    try {
      stored.set(name, parsePolicy(JSON.parse(policy)));
    } catch {
      log(`the stored policy of ${name} is not valid; ignoring it`);
    }
  }
  const inbound = new InboundPolicy({ legacy: config.legacyInput, legacySubnets: legacySubnets(addresses), policies: stored });
  const caPem = config.secureCaFile ? await readFile(config.secureCaFile, 'utf8') : undefined;
  // One budget per source (address, account, uid, host key) across every transport, per alias,
  // and one cap on network input in all: the front door's message gate.
  const gate = new MessageGate({ sourceRate: config.sourceMessageRate, sourceBurst: config.sourceMessageBurst, globalRate: config.globalMessageRate }, { audit });

  const policy = recipientRules({ inbound, accounts, userName: (uid) => localUsers.nameOf(uid), audit });

  return {
    accounts,
    access,
    audit,
    caPem,
    localUsers,
    interfacesChanged: (now) => inbound.setLegacySubnets(legacySubnets(now)),
    aliasPolicies: {
      get: (alias) => inbound.policy(alias),
      set: async (alias, policy) => {
        const empty = policy === null || (policy.legacy === undefined && policy.allow.length === 0 && policy.deny.length === 0);
        await store.policies.putAliasPolicy(alias, empty ? null : JSON.stringify(policy));
        inbound.set(alias, policy);
      },
    },
    async localPrincipal(uid) {
      const name = localUsers.nameOf(uid);
      const groups = name === null ? [] : await accounts.groupsOf(name).catch(() => []);
      // root and the daemon's own user administer this daemon, as local Administrators did
      if (uid !== null && (uid === 0 || uid === daemonUid)) groups.push(GROUP.administrators);
      return { kind: 'local', name: name ?? '', uid, groups, source: null };
    },
    admission: {
      gate: (knock) => gate.admit(knock),
      policy,
    },
  };

}
