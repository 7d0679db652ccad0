/** The daemon itself: its status, name resolution through it, the web inbox's login. */
import { NetApiError } from '../../messenger/errors.js';
import { normalizeAlias } from '../../messenger/names.js';
import { operation } from '../operation.js';

export const daemonOperations = {
  status: operation()({
    action: 'names.read',
    run: ({ services }) => ({
      computerName: services.messenger.computerName,
      ...services.info,
      aliases: services.messenger.listNames().length,
      role: services.access.role,
    }),
  }),
  // `netsend status`: what the daemon serves now, for a person at a terminal
  'daemon.status': operation()({
    action: 'names.read',
    run: async ({ services }) => {
      const { messenger, info } = services;
      const hub = await services.hub?.status();
      return {
        computerName: messenger.computerName,
        workgroup: info.workgroup,
        role: services.access.role,
        pid: info.pid,
        startedAt: info.startedAt,
        ...(info.hostKey === undefined ? {} : { hostKey: info.hostKey }),
        listeners: services.listeners?.() ?? [],
        aliases: messenger.listNames(),
        // off: no "hub servers", the host is serverless on its LAN
        hub: { state: hub?.state ?? ('off' as const) },
      };
    },
  }),
  resolve: operation<{ name: string }>()({
    action: 'names.read',
    run: async ({ services }, { name }) => {
      if (services.resolveHost === undefined) throw new NetApiError('NERR_NameNotFound', 'Name resolution is off on this daemon.');
      return { address: await services.resolveHost(normalizeAlias(name, 'server name', services.messenger.charset)) };
    },
  }),
  // the owner's login: only a local administrator (the kernel vouches for the uid), never a remote account
  'web.url': operation()({
    action: 'administer',
    localOnly: 'A one-time web login is only given to a local administrator.',
    run: ({ services }) => {
      if (services.web === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'The web inbox is off on this daemon (http port = 0).');
      return { url: services.web.loginUrl() };
    },
  }),
};
