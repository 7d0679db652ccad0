import { createServer, type Server, type Socket } from 'node:net';
import { NEGATIVE_RESPONSE, encodeNbssPacket } from '../../protocols/nbss/index.js';
import { SMB_LIMITS } from './limits.js';
import { serveSmbSession, type SessionOptions } from './session.js';

export interface SmbServerOptions extends Omit<SessionOptions, 'remoteAddress' | 'admit'> {
  /** Per-source admission (rate limits), by the peer's IP address. */
  admit?: (source: string) => boolean;
  /** Addresses to listen on (from `interfaces`); undefined means every address. */
  addresses: readonly string[] | undefined;
  port: number;
  maxSessions?: number;
}

/** The Messenger's TCP listener (NetBIOS session service, port 139 by default). */
export class SmbServer {
  readonly #options: SmbServerOptions;
  readonly #servers: Server[] = [];
  readonly #sessions = new Set<Socket>();
  /** The calling name of each session that opened with a session request. */
  readonly #callers = new Map<Socket, string>();
  readonly #running = new Set<Promise<void>>();

  constructor(options: SmbServerOptions) {
    this.#options = options;
  }

  /** The "address:port" pairs actually listened on. */
  get endpoints(): string[] {
    return this.#servers.map((server) => {
      const address = server.address();
      return typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : String(address);
    });
  }

  async listen(): Promise<void> {
    const hosts = this.#options.addresses ?? [undefined];
    try {
      for (const host of hosts) {
        const server = createServer((socket) => this.#accept(socket));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: this.#options.port, ...(host === undefined ? {} : { host }) }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        this.#servers.push(server);
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Who has a session on this server now: calling names with their addresses (NET SEND /USERS). */
  sessionUsers(): Array<{ name: string; address: string }> {
    return [...this.#callers].map(([socket, name]) => ({ name, address: socket.remoteAddress ?? '' }));
  }

  async close(): Promise<void> {
    const closing = this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    this.#servers.length = 0;
    for (const socket of this.#sessions) socket.destroy();
    await Promise.allSettled([...closing, ...this.#running]);
  }

  #accept(socket: Socket): void {
    socket.on('error', () => {});
    if (this.#sessions.size >= (this.#options.maxSessions ?? SMB_LIMITS.maxSessions)) {
      // RFC 1002 §4.3.4: "called name present, but insufficient resources"
      socket.end(encodeNbssPacket({ type: 'negativeResponse', error: NEGATIVE_RESPONSE.insufficientResources }));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    this.#sessions.add(socket);
    socket.setNoDelay(true);
    const { admit, ...options } = this.#options;
    const source = socket.remoteAddress ?? '';
    const session = serveSmbSession(socket, {
      ...options,
      ...(admit ? { admit: () => admit(source) } : {}),
      remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
      onCaller: (name) => this.#callers.set(socket, name),
    }).finally(() => {
      this.#sessions.delete(socket);
      this.#callers.delete(socket);
      this.#running.delete(session);
    });
    this.#running.add(session);
  }
}
