/**
 * The secure channel's listener: TLS 1.3 sockets on each address, the caps on connections, and
 * the handshake-and-logon deadline of each. What a session does is in session.ts; who the peer
 * is, in host-check.ts; logons and the sessions that follow accounts, in logon.ts; messages and
 * receipt questions from other hosts, in deliver.ts and receipt.ts.
 */
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { ControlServices } from '../../control/handlers.js';
import type { HostIdentity } from '../../security/host-identity.js';
import type { KnownHosts } from '../../security/known-hosts.js';
import { TcpListeners } from '../tcp-listeners.js';
import { ConnectionGate } from '../../security/front-door.js';
import type { SecureTrust } from './client.js';
import { HostCheck } from './host-check.js';
import { AccountSessions } from './logon.js';
import { SECURE_LIMITS, type SecureLimits } from './protocol.js';
import { runSession, type SessionParts } from './session.js';

/** One TCP connection, as both its raw socket and its TLS socket see it. */
const connectionKey = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;

export interface SecureServerOptions {
  identity: HostIdentity;
  services: ControlServices;
  /** Addresses to listen on (from `interfaces`, link-local ones with their zone); undefined means every address. */
  addresses: readonly string[] | undefined;
  port: number;
  /** Where host keys are pinned (the same file this host's outgoing connections use). */
  knownHosts: KnownHosts;
  /** `secure trust`: how a sending host's key is trusted, as for hosts this one dials. */
  trust: SecureTrust;
  /** PEM of a site CA (trust = ca): a host certificate must chain to it. */
  caPem?: string;
  log: (line: string) => void;
  limits?: Partial<SecureLimits>;
}

/**
 * The daemon's secure channel (TLS 1.3 only, no plaintext fallback): remote calls by
 * authenticated users under the original's group rules, and messages from other netsend hosts,
 * signed by their host keys.
 */
export class SecureServer {
  readonly #options: SecureServerOptions;
  readonly #limits: SecureLimits;
  readonly #listeners: TcpListeners;
  readonly #sockets = new Set<TLSSocket>();
  readonly #connections: ConnectionGate;
  /** When each open connection was accepted (by connectionKey): the handshake-and-logon deadline counts from then. */
  readonly #connectedAt = new Map<string, number>();
  /** What every session shares: the logon gate, the host checks (and their pins), the sessions by account. */
  readonly #parts: SessionParts;
  #unwatch: () => void = () => {};

  constructor(options: SecureServerOptions) {
    this.#options = options;
    this.#limits = { ...SECURE_LIMITS, ...options.limits };
    this.#parts = {
      services: options.services,
      log: options.log,
      limits: this.#limits,
      logons: options.services.logonGate,
      hosts: new HostCheck(options),
      accounts: new AccountSessions(),
    };
    this.#listeners = new TcpListeners({ port: options.port, create: () => this.#createServer(), log: options.log, what: 'secure channel' });
    this.#connections = new ConnectionGate('secure channel', { total: this.#limits.maxSessions, perAddress: this.#limits.maxSessionsPerAddress }, options.services.audit);
  }

  get endpoints(): string[] {
    return this.#listeners.endpoints;
  }

  /** @throws the first bind error (EACCES, EADDRINUSE…); an address not ready yet is retried instead */
  async listen(): Promise<void> {
    this.#unwatch = this.#options.services.accounts.watch((user, change) => this.#parts.accounts.changed(user, change));
    try {
      await this.#listeners.update(this.#options.addresses, true);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Follows the host's addresses as they come and go (see os/network.ts). */
  setAddresses(addresses: readonly string[] | undefined): Promise<void> {
    return this.#listeners.update(addresses);
  }

  #createServer(): Server {
    const { identity } = this.#options;
    const server = createServer({
      key: identity.keyPem,
      cert: identity.certPem,
      minVersion: 'TLSv1.3',
      // Hosts present their certificate; people log on inside the channel instead.
      requestCert: true,
      rejectUnauthorized: false,
      ...(this.#options.caPem ? { ca: this.#options.caPem } : {}),
      handshakeTimeout: this.#limits.handshakeMs,
    });
    server.on('secureConnection', (socket) => this.#accept(socket));
    server.on('tlsClientError', () => {}); // a failed handshake is the peer's problem
    // Counted from the TCP connection, so handshakes that never finish count too; and so is
    // the deadline for the handshake and the logon (cancelled by the session at logon).
    server.on('connection', (raw: Socket) => {
      const leave = this.#connections.enter(`${raw.remoteAddress}:${raw.remotePort}`);
      if (leave === null) {
        raw.destroy();
        return;
      }
      // (the TLS handshake itself is held to handshakeMs from here by the server's handshakeTimeout)
      const key = connectionKey(raw);
      this.#connectedAt.set(key, Date.now());
      raw.once('close', () => {
        leave();
        this.#connectedAt.delete(key);
      });
    });
    return server;
  }

  async close(): Promise<void> {
    this.#unwatch();
    const closing = this.#listeners.close();
    for (const socket of this.#sockets) socket.destroy();
    await closing;
  }

  #accept(socket: TLSSocket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {}); // a peer that vanishes is not the daemon's problem
    socket.setNoDelay(true);
    // The deadline counts from the TCP connection (see listen); the session cancels it at logon.
    const connectedAt = this.#connectedAt.get(connectionKey(socket)) ?? Date.now();
    const deadline = setTimeout(() => socket.destroy(), connectedAt + this.#limits.handshakeMs - Date.now());
    socket.on('close', () => clearTimeout(deadline));
    runSession(this.#parts, socket, deadline).catch((error: unknown) => {
      this.#options.log(`secure: dropping a session: ${String(error)}`);
      socket.destroy();
    });
  }
}
