import type { BindAddress } from '../config/interfaces.js';
import type { Config } from '../config/load.js';
import { flagName } from '../config/settings.js';
import type { ListenerState } from '../control/services.js';
import type { HubGateway } from '../hub/gateway.js';
import { SUFFIX } from '../protocols/netbios-name/index.js';
import { NBSS_PORT } from '../protocols/nbss/index.js';
import type { Alias, NameRegistrar } from '../messenger/aliases.js';
import type { IncomingMessage } from '../messenger/message.js';
import { NetApiError } from '../messenger/errors.js';
import { broadcastsOff, type BroadcastSender, type Messenger } from '../messenger/messenger.js';
import { oemUpperCase } from '../messenger/names.js';
import type { NameResolver } from '../resolve/resolver.js';
import type { AuditLog } from '../security/audit.js';
import { wireName } from '../transports/legacy-text.js';
import { MailslotService } from '../transports/mailslot/service.js';
import { NameService, type OwnedName } from '../transports/nbns/service.js';
import { SmbServer } from '../transports/smb/server.js';
import { codeOf, endpointsOr, startListeners, tcpHosts } from './listeners.js';

/**
 * The LAN transports of the original: SMB message listeners (TCP 139), the NetBIOS name service
 * (UDP 137) and the MESSNGR mailslot (UDP 138). The Messenger needs them (to register its names,
 * broadcast, list session users) and they need the Messenger (to deliver): this part exists
 * before the Messenger, empty, and its listeners start once the Messenger does.
 */
export class LanTransports {
  #smb: SmbServer[] = [];
  #names: NameService[] = [];
  #mailslots: MailslotService[] = [];
  readonly #config: Config;
  readonly #log: (line: string) => void;
  #messenger: Messenger | undefined;
  #owned: { version: number; names: OwnedName[] } | undefined;

  constructor(config: Config, log: (line: string) => void) {
    this.#config = config;
    this.#log = log;
  }

  #wire = (name: string): string => wireName(name, this.#config.dosCharset);

  /** Registers and releases the Messenger's aliases on the network. */
  readonly registrar: NameRegistrar = {
    register: async (alias: Alias) => {
      for (const service of this.#names) await service.register({ name: this.#wire(alias.name), suffix: SUFFIX.messenger, group: false });
    },
    release: async (alias: Alias) => {
      for (const service of this.#names) await service.release({ name: this.#wire(alias.name), suffix: SUFFIX.messenger, group: false });
    },
  };

  /** Whether broadcasts can go out on the LAN: a datagram port is open. */
  get broadcasts(): boolean {
    return this.#mailslots.length > 0;
  }

  /** NET SEND * and /DOMAIN over the mailslot. */
  readonly broadcaster: BroadcastSender = {
    broadcast: async (message, scope) => {
      // no datagram port (--dgram-port 0, or it could not be opened): nobody else would hear it
      if (this.#mailslots.length === 0) throw broadcastsOff();
      let report = {};
      for (const service of this.#mailslots) report = await service.broadcast(message, scope);
      return report;
    },
  };

  /** `name resolve order`'s wins and bcast (RFC 1001 §15.1.3, §15.2.3): each service asked in turn. */
  resolvers(): Record<'wins' | 'bcast', NameResolver> {
    const via = (ask: (service: NameService, name: string, suffix: number) => Promise<string | null>): NameResolver => ({
      resolve: async (name, suffix) => {
        for (const service of this.#names) {
          const address = await ask(service, this.#wire(name), suffix);
          if (address !== null) return { address, port: NBSS_PORT };
        }
        return null;
      },
    });
    return { wins: via((service, name, suffix) => service.resolveWins(name, suffix)), bcast: via((service, name, suffix) => service.resolve(name, suffix)) };
  }

  /** NET SEND /USERS: the names with an SMB session here. */
  sessionUsers(): Array<{ name: string; address: string }> {
    return this.#smb.flatMap((server) => server.sessionUsers());
  }

  /**
   * Starts the listeners on `addresses`: SMB, the name service, the mailslot. Each kind stops on
   * its own (`closeSmb`, `stopMailslots`, `stopNameService`), harmlessly before it started, so the
   * daemon can set the stop order before starting them. With a `gateway` (the hub gateway), SMB
   * takes messages for names other hosts of the realm hold too and the name service answers for
   * them: they go on through it.
   */
  async start(messenger: Messenger, addresses: readonly BindAddress[], audit: AuditLog, gateway?: HubGateway): Promise<void> {
    this.#messenger = messenger;
    this.#smb = await this.#startSmb(messenger, addresses, audit, gateway);
    this.#names = await this.#startNameService(addresses, gateway);
    this.#mailslots = await this.#startMailslots(messenger, addresses);
  }

  /** Closes the SMB listeners, letting the sessions under way finish. */
  async closeSmb(): Promise<void> {
    await Promise.all(this.#smb.map((server) => server.close()));
  }

  /** Stops the MESSNGR mailslot. */
  stopMailslots(): void {
    for (const service of this.#mailslots) service.stop();
  }

  /** Releases this host's names on every segment and stops the name service. */
  async stopNameService(): Promise<void> {
    for (const service of this.#names) {
      await Promise.all(this.ownedNames().map((name) => service.release(name)));
      service.stop();
    }
  }

  /** The host's addresses changed: every listener follows. */
  async setAddresses(addresses: readonly BindAddress[]): Promise<void> {
    const hosts = tcpHosts(this.#config, addresses);
    await Promise.all([
      ...this.#smb.map((server) => server.setAddresses(hosts)),
      ...this.#names.map((service) => service.setAddresses(addresses)),
      ...this.#mailslots.map((service) => service.setAddresses(addresses)),
    ]);
  }

  listeners(): ListenerState[] {
    return [
      { transport: 'smb', endpoints: this.#smb.flatMap((server) => server.endpoints) },
      { transport: 'names', endpoints: this.#names.flatMap((service) => service.endpoints) },
      { transport: 'mailslot', endpoints: this.#mailslots.flatMap((service) => service.endpoints) },
    ];
  }

  /**
   * The names this host holds on the network, as Windows registers them: the computer name as
   * workstation <00>, messenger <03> and server <20>, every other alias as <03>, and the workgroup
   * as a group name <00>. Rebuilt only when the alias table changes: every name query asks.
   */
  ownedNames(): OwnedName[] {
    const messenger = this.#messenger;
    if (messenger === undefined) return [];
    if (this.#owned?.version === messenger.aliases.version) return this.#owned.names;
    const computer = this.#wire(messenger.computerName);
    const names: OwnedName[] = [SUFFIX.workstation, SUFFIX.messenger, SUFFIX.server].map((suffix) => ({ name: computer, suffix, group: false }));
    for (const alias of messenger.listNames()) {
      if (alias.kind !== 'computer') names.push({ name: this.#wire(alias.name), suffix: SUFFIX.messenger, group: false });
    }
    names.push({ name: this.#wire(this.#config.workgroup), suffix: SUFFIX.workstation, group: true });
    this.#owned = { version: messenger.aliases.version, names };
    return names;
  }

  /**
   * The SMB message listeners: one per port of `smb ports`, on the addresses `interfaces` selects
   * (every address when `bind interfaces only` is off).
   */
  #startSmb(messenger: Messenger, addresses: readonly BindAddress[], audit: AuditLog, gateway: HubGateway | undefined): Promise<SmbServer[]> {
    const config = this.#config;
    const local = (name: string) => messenger.aliases.find(name) !== undefined;
    const routes = {
      isAlias: (name: string) => local(name) || gateway?.holds(name) === true,
      // a name of this host is stored here; one another host holds goes on through the gateway
      receive: (m: IncomingMessage) => (local(m.to) || gateway === undefined ? messenger.receive(m) : messenger.relay(m, (relayed) => gateway.relay(relayed))),
    };
    return startListeners<SmbServer>(
      {
        ports: config.smbPorts,
        source: config.sources.smbPorts,
        create: (port) =>
          new SmbServer({
            addresses: tcpHosts(config, addresses),
            port,
            messenger: routes,
            charset: config.dosCharset,
            maxMessageBytes: config.maxMessageSize,
            audit,
            log: this.#log,
          }),
        open: (server) => server.listen(),
        close: (server) => server.close(),
        opened: (server, port) => `receiving SMB messages on ${endpointsOr(server.endpoints, port)}`,
        skipped: (port, code) => `cannot listen on port ${port} (${code}); SMB messages are not received. Run as root, or choose a port with --${flagName('smbPorts')}`,
        failed: (port, error) => `Cannot listen for SMB messages on port ${port}: ${codeOf(error)}.`,
      },
      this.#log,
    );
  }

  /** The name service (UDP 137 by default), then this host's claims on every segment (RFC 1001 §15.2.2.1). */
  async #startNameService(addresses: readonly BindAddress[], gateway: HubGateway | undefined): Promise<NameService[]> {
    const config = this.#config;
    const services = await startListeners<NameService>(
      {
        ports: config.nbtPort,
        source: config.sources.nbtPort,
        create: (port) =>
          new NameService({
            addresses,
            port,
            names: () => this.ownedNames(),
            charset: config.dosCharset,
            scope: config.netbiosScope,
            winsServer: config.winsServer === '' ? undefined : config.winsServer,
            answerLimit: { ratePerSecond: config.sourceQueryRate, burst: config.sourceQueryBurst },
            ...(gateway === undefined ? {} : { proxied: (name: string) => gateway.holds(name) }),
            log: this.#log,
          }),
        open: (service) => service.start(),
        close: (service) => service.stop(),
        opened: () => null, // said once the names are claimed, below
        skipped: (port, code) => `cannot use UDP port ${port} (${code}); the name service is off. Run as root, or choose a port with --${flagName('nbtPort')}`,
        failed: (port, error) => `Cannot start the name service on port ${port}: ${(error as Error).message}.`,
      },
      this.#log,
    );
    for (const service of services) {
      try {
        await this.#claim(service);
      } catch (error) {
        for (const s of services) s.stop();
        throw error;
      }
      this.#log(`answering NetBIOS name queries on ${endpointsOr(service.endpoints, config.nbtPort.join(', '), 'IPv4 ')}`);
    }
    return services;
  }

  /** Claims every name; an alias another host holds is reported, the computer name must be ours (as the Messenger service required). */
  async #claim(service: NameService): Promise<void> {
    const computer = this.#wire((this.#messenger as Messenger).computerName);
    await Promise.all(
      this.ownedNames().map(async (name) => {
        try {
          await service.register(name);
        } catch (error) {
          if (!(error instanceof NetApiError)) throw error;
          if (name.name === computer) throw new NetApiError('NERR_NoComputerName', error.message, { cause: error });
          this.#log(`name service: ${error.message} This host does not answer for it.`);
        }
      }),
    );
  }

  /** The MESSNGR mailslot (UDP 138 by default): broadcast messages in and out. */
  #startMailslots(messenger: Messenger, addresses: readonly BindAddress[]): Promise<MailslotService[]> {
    const config = this.#config;
    const workgroup = oemUpperCase(config.workgroup, config.dosCharset);
    return startListeners<MailslotService>(
      {
        ports: config.dgramPort,
        source: config.sources.dgramPort,
        create: (port) =>
          new MailslotService({
            addresses,
            port,
            charset: config.dosCharset,
            scope: config.netbiosScope,
            computerName: messenger.computerName,
            isForUs: (name, suffix) =>
              (name === workgroup && (suffix === SUFFIX.messenger || suffix === SUFFIX.workstation)) ||
              (suffix === SUFFIX.messenger && messenger.aliases.find(name) !== undefined),
            deliver: (message) => (message.to === workgroup ? messenger.receiveBroadcast(message) : messenger.receive(message)),
            log: this.#log,
          }),
        open: (service) => service.start(),
        close: (service) => service.stop(),
        opened: (service, port) => `receiving broadcast messages on ${endpointsOr(service.endpoints, port, 'IPv4 ')}`,
        skipped: (port, code) => `cannot use UDP port ${port} (${code}); broadcast messages are off. Run as root, or choose a port with --${flagName('dgramPort')}`,
        failed: (port, error) => `Cannot open the datagram port ${port}: ${(error as Error).message}.`,
      },
      this.#log,
    );
  }
}
