import { createServer, type Server, type Socket } from 'node:net';
import { NEGATIVE_RESPONSE, encodeNbssPacket } from '../../protocols/nbss/index.js';
import { SMB_LIMITS } from './limits.js';
import { serveSmbSession, type SessionOptions } from './session.js';
import { TcpListeners } from '../tcp-listeners.js';
import type { AuditLog } from '../../security/audit.js';
import { ConnectionGate } from '../../security/front-door.js';

export interface SmbServerOptions extends Omit<SessionOptions, 'remoteAddress'> {
  /** Addresses to listen on (from `interfaces`, link-local ones with their zone); undefined means every address. */
  addresses: readonly string[] | undefined;
  port: number;
  /** Where refused connections are recorded (past SMB_LIMITS' sessions, in all or from one address). */
  audit?: Pick<AuditLog, 'record'>;
}

/** The Messenger's TCP listener (NetBIOS session service, port 139 by default). */
export class SmbServer {
  readonly #options: SmbServerOptions;
  readonly #listeners: TcpListeners;
  readonly #sessions = new Set<Socket>();
  /** The calling name of each session that opened with a session request. */
  readonly #callers = new Map<Socket, string>();
  readonly #running = new Set<Promise<void>>();
  readonly #connections: ConnectionGate;

  constructor(options: SmbServerOptions) {
    this.#options = options;
    this.#connections = new ConnectionGate('SMB', { total: SMB_LIMITS.maxSessions, perAddress: SMB_LIMITS.maxSessionsPerAddress }, options.audit);
    this.#listeners = new TcpListeners({
      port: options.port,
      create: (): Server => createServer((socket) => this.#accept(socket)),
      log: options.log,
      what: 'SMB',
    });
  }

  /** The "address:port" pairs actually listened on. */
  get endpoints(): string[] {
    return this.#listeners.endpoints;
  }

  /** @throws the first bind error (EACCES, EADDRINUSE…); an address not ready yet is retried instead */
  async listen(): Promise<void> {
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

  /** Who has a session on this server now: calling names with their addresses (NET SEND /USERS). */
  sessionUsers(): Array<{ name: string; address: string }> {
    return [...this.#callers].map(([socket, name]) => ({ name, address: socket.remoteAddress ?? '' }));
  }

  async close(): Promise<void> {
    const closing = this.#listeners.close();
    for (const socket of this.#sessions) socket.destroy();
    await Promise.allSettled([closing, ...this.#running]);
  }

  #accept(socket: Socket): void {
    socket.on('error', () => {});
    const leave = this.#connections.enter(`${socket.remoteAddress}:${socket.remotePort}`);
    if (leave === null) {
      // RFC 1002 §4.3.4: "called name present, but insufficient resources"
      socket.end(encodeNbssPacket({ type: 'negativeResponse', error: NEGATIVE_RESPONSE.insufficientResources }));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    this.#sessions.add(socket);
    socket.setNoDelay(true);
    const { audit: _audit, ...options } = this.#options;
    const session = serveSmbSession(socket, {
      ...options,
      remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
      onCaller: (name) => this.#callers.set(socket, name),
    }).finally(() => {
      leave();
      this.#sessions.delete(socket);
      this.#callers.delete(socket);
      this.#running.delete(session);
    });
    this.#running.add(session);
  }
}
