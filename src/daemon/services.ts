import type { Config } from '../config/load.js';
import type { ControlServices, ListenerState } from '../control/services.js';
import { NetApiError } from '../messenger/errors.js';
import type { Messenger } from '../messenger/messenger.js';
import { aliasProblem, oemUpperCase } from '../messenger/names.js';
import type { Receipts } from '../messenger/receipts.js';
import { SUFFIX } from '../protocols/netbios-name/index.js';
import type { NameCache } from '../resolve/cache.js';
import { findAccount } from '../os/local-users.js';
import { AliasGate } from '../security/front-door.js';
import { LogonGate } from '../security/logon-gate.js';
import type { MessagePort } from '../store/ports.js';
import type { DaemonSecurity } from './security.js';
import type { Hub } from '../hub/hub.js';
import type { SecureChannel } from './secure.js';

/** What the operations run on (control socket, secure channel, web): the daemon's services, assembled once. */
export function controlServices(parts: {
  config: Config;
  messenger: Messenger;
  security: DaemonSecurity;
  receipts: Receipts;
  messages: MessagePort;
  resolver: NameCache;
  secure: SecureChannel | undefined;
  hub: Hub | undefined;
  /** The web inbox's one-time login, once it runs (undefined: http port 0). */
  webLogin: (() => string) | undefined;
  listeners: () => readonly ListenerState[];
}): ControlServices {
  const { config, messenger, security, secure } = parts;
  const { aliases } = messenger;
  return {
    messenger,
    logonGate: new LogonGate({ accounts: security.accounts, audit: security.audit }),
    aliasGate: new AliasGate({
      loginNames: () => security.localUsers.names(),
      lookup: findAccount,
      canonical: (login) => (aliasProblem(login, config.dosCharset) === null ? oemUpperCase(login, config.dosCharset) : null),
      addedBy: (uid) => aliases.list().filter((alias) => aliases.ownerOf(alias.name) === uid).length,
      audit: security.audit,
    }),
    receipts: {
      local: (id) => parts.receipts.receipt(id),
      acknowledge: (message, surface, by) => parts.receipts.acknowledge(message, surface, by),
      message: (id) => parts.messages.getMessage(id),
      ...(secure === undefined && parts.hub === undefined
        ? {}
        : {
            remote: async (host: string, id: number, asker: { name: string | null; administrator: boolean }) => {
              // "hub:HOST": a message sent through the organisation hub, whose receipts come back here
              if (host.startsWith('hub:') && parts.hub !== undefined) return parts.hub.receipt(id, asker);
              if (secure === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'Receipts from other hosts need the secure channel.');
              return secure.sender.receipt(host, id);
            },
          }),
    },
    info: {
      pid: process.pid,
      dataDir: config.dataDir,
      workgroup: config.workgroup,
      startedAt: new Date().toISOString(),
      ...(secure === undefined ? {} : { hostKey: secure.identity.fingerprint, securePort: config.securePort[0] as number }),
    },
    access: security.access,
    accounts: security.accounts,
    aliasPolicies: security.aliasPolicies,
    audit: security.audit,
    localPrincipal: (uid) => security.localPrincipal(uid),
    resolveHost: async (name) => {
      const endpoint = await parts.resolver.resolve(name, SUFFIX.messenger);
      if (endpoint === null) throw new NetApiError('NERR_NameNotFound', `No host answers for ${name}.`);
      return endpoint.address;
    },
    listeners: parts.listeners,
    ...(parts.hub === undefined ? {} : { hub: parts.hub }),
    ...(parts.webLogin === undefined ? {} : { web: { loginUrl: parts.webLogin } }),
  };
}
