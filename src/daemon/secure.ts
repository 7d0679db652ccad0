import type { BindAddress } from '../config/interfaces.js';
import type { Config } from '../config/load.js';
import { dataDirPaths } from '../config/paths.js';
import type { ControlServices } from '../control/services.js';
import { loadHostIdentity, type HostIdentity } from '../security/host-identity.js';
import { KnownHosts } from '../security/known-hosts.js';
import { SecureSender } from '../transports/secure/sender.js';
import { SecureServer } from '../transports/secure/server.js';
import { codeOf, endpointsOr, startListeners, tcpHosts } from './listeners.js';

/**
 * The netsend-to-netsend secure channel (TLS 1.3), when `secure port` is set: this host's
 * identity, its sender (to hosts that speak it) and its listeners (remote calls, and messages
 * other hosts deliver). Hosts this one dials are pinned by endpoint in the same known-hosts file
 * as hosts that deliver here, by name.
 */
export class SecureChannel {
  readonly identity: HostIdentity;
  readonly sender: SecureSender;
  #servers: SecureServer[] = [];
  readonly #config: Config;
  readonly #knownHosts: KnownHosts;
  readonly #caPem: string | undefined;
  readonly #log: (line: string) => void;

  private constructor(config: Config, identity: HostIdentity, caPem: string | undefined, log: (line: string) => void) {
    this.#config = config;
    this.identity = identity;
    this.#knownHosts = new KnownHosts(dataDirPaths(config.dataDir).knownHosts);
    this.#caPem = caPem;
    this.#log = log;
    this.sender = new SecureSender({
      identity,
      knownHosts: this.#knownHosts,
      trust: config.secureTrust,
      ...(caPem === undefined ? {} : { caPem }),
      port: config.securePort[0] as number,
      log,
    });
  }

  /** The channel's identity and sender; none when `secure port` is empty. */
  static async create(config: Config, caPem: string | undefined, log: (line: string) => void): Promise<SecureChannel | undefined> {
    if (config.securePort.length === 0) return undefined;
    const identity = await loadHostIdentity({ dataDir: config.dataDir, computerName: config.netbiosName, certFile: config.secureCertFile, keyFile: config.secureKeyFile });
    return new SecureChannel(config, identity, caPem, log);
  }

  /** Listens on the same addresses as the SMB listeners, serving `services`' operations. */
  async listen(addresses: readonly BindAddress[], services: ControlServices): Promise<void> {
    const config = this.#config;
    this.#servers = await startListeners<SecureServer>(
      {
        ports: config.securePort,
        source: config.sources.securePort,
        create: (port) =>
          new SecureServer({
            identity: this.identity,
            services,
            addresses: tcpHosts(config, addresses),
            port,
            knownHosts: this.#knownHosts,
            trust: config.secureTrust,
            ...(this.#caPem === undefined ? {} : { caPem: this.#caPem }),
            log: this.#log,
          }),
        open: (server) => server.listen(),
        close: (server) => server.close(),
        opened: (server, port) => `secure channel (TLS 1.3) on ${endpointsOr(server.endpoints, port)}`,
        skipped: (port, code) => `cannot listen on port ${port} (${code}); the secure channel is off. Choose a port with --secure-port`,
        failed: (port, error) => `Cannot open the secure channel on port ${port}: ${codeOf(error)}.`,
      },
      this.#log,
    );
  }

  get endpoints(): string[] {
    return this.#servers.flatMap((server) => server.endpoints);
  }

  async setAddresses(addresses: readonly BindAddress[]): Promise<void> {
    const hosts = tcpHosts(this.#config, addresses);
    await Promise.all(this.#servers.map((server) => server.setAddresses(hosts)));
  }

  async close(): Promise<void> {
    await Promise.all(this.#servers.map((server) => server.close()));
  }
}
