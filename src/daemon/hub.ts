import type { Config } from '../config/load.js';
import type { NameRegistrar } from '../messenger/aliases.js';
import { broadcastsOff, type BroadcastSender } from '../messenger/outgoing.js';
import { oemUpperCase } from '../messenger/names.js';
import { loadHostIdentity, type HostIdentity } from '../security/host-identity.js';
import type { Hub } from '../hub/hub.js';
import type { HubStore } from '../hub/outbox.js';
import type { MessagePort } from '../store/ports.js';

/** The organisation hub, when `hub servers` names one; its host identity is the secure channel's. */
export async function createHub(
  config: Config,
  identity: HostIdentity | undefined,
  store: { hub: HubStore; messages: Pick<MessagePort, 'getMessage'> },
  log: (line: string) => void,
): Promise<Hub | undefined> {
  if (config.hubServers.length === 0) return undefined;
  // the NATS client is loaded only by hosts that use a hub
  const [{ Hub }, { loadHubKeys }] = await Promise.all([import('../hub/hub.js'), import('../hub/keys.js')]);
  const key = identity ?? (await loadHostIdentity({ dataDir: config.dataDir, computerName: config.netbiosName, certFile: config.secureCertFile, keyFile: config.secureKeyFile }));
  // One name for this host at the hub, whatever a site CA's certificate calls it: its computer
  // name as the Messenger writes it, in subjects, the registry, envelopes and permissions alike.
  const computerName = oemUpperCase(config.netbiosName, config.dosCharset);
  const host: HostIdentity = { ...key, name: computerName };
  return new Hub({
    settings: { servers: config.hubServers, credentialsFile: config.hubCredentialsFile, tlsCaFile: config.hubTlsCaFile, realm: config.hubRealm, computerName },
    identity: host,
    keys: await loadHubKeys(config.dataDir, host),
    // as the Messenger writes it: upper case in the OEM code page
    workgroup: oemUpperCase(config.workgroup, config.dosCharset),
    // R3 (what survives a node's loss) needs three servers; a single dev server takes R1
    replicas: config.hubServers.length >= 3 ? 3 : 1,
    store: store.hub,
    message: (id) => store.messages.getMessage(id),
    // a message without --ttl waits the host's "message ttl", counted from when it was sent
    messageTtlSeconds: config.messageTtl,
    maxMessageBytes: config.maxMessageSize,
    log,
  });
}

/**
 * An alias is the realm's before it is the LAN's: a name another host of the organisation holds
 * is refused (NERR_DuplicateName) before anything is registered on the segment.
 */
export function withHubClaims(lan: NameRegistrar, hub: Hub | undefined): NameRegistrar {
  if (hub === undefined) return lan;
  return {
    register: async (alias) => {
      await hub.claim(alias.name);
      try {
        await lan.register(alias);
      } catch (error) {
        await hub.release(alias.name);
        throw error;
      }
    },
    release: async (alias) => {
      await lan.release(alias);
      await hub.release(alias.name);
    },
  };
}

/** NET SEND * and /DOMAIN: the LAN's mailslot where this host has one, and every other site through the hub. */
export function withHubBroadcasts(lan: BroadcastSender, onLan: () => boolean, hub: Hub | undefined): BroadcastSender {
  if (hub === undefined) return lan;
  return {
    broadcast: async (message, scope) => {
      const { heardNowhere, ...report } = onLan() ? await lan.broadcast(message, scope) : {};
      const hosts = await hub.broadcast(message, scope.workgroup);
      if (!onLan() && hosts === 0) throw broadcastsOff();
      // the hub reached other hosts: the LAN's want of any is no longer the whole story
      return hosts > 0 || heardNowhere === undefined ? report : { ...report, heardNowhere };
    },
  };
}
