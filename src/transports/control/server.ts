import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { handleRequest, type ControlServices } from '../../control/handlers.js';
import { PROTOCOL_VERSION } from '../../control/protocol.js';
import { serveLineConnection } from './lines.js';
import { peerCredentials } from '../../os/peercred.js';
import { ConnectionGate } from '../../security/front-door.js';

/** Control connections at once, and per local uid: far more than a person's tools hold. */
export const CONTROL_CONNECTIONS = { total: 1024, perAddress: 64 } as const;

export interface ControlServerOptions {
  path: string;
  /** 0o600 for a per-user daemon; 0o666 when root serves every local user, as the original did. */
  mode: number;
  services: ControlServices;
  log: (line: string) => void;
  /** Requests one connection may have in flight before the daemon stops reading from it. */
  maxInFlight?: number;
}

/** The daemon's end of the control socket: untrusted lines in, one handler call per request. */
export class ControlServer {
  readonly #options: ControlServerOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #connections = new Set<{ settled: () => Promise<void> }>();
  readonly #gate: ConnectionGate;

  constructor(options: ControlServerOptions) {
    this.#options = options;
    this.#server = createServer((socket) => this.#accept(socket));
    this.#gate = new ConnectionGate('control socket', CONTROL_CONNECTIONS, options.services.audit);
  }

  async listen(): Promise<void> {
    // The database lock already proved no other daemon owns this data dir: a socket file left
    // here is from one that died, and is safe to replace.
    await rm(this.#options.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.path, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.#options.path, this.#options.mode);
  }

  /** Stops accepting, lets requests under way finish, then closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.pause();
    await Promise.allSettled([...this.#connections].map((c) => c.settled()));
    for (const socket of this.#sockets) socket.end();
    await closed;
  }

  #accept(socket: Socket): void {
    const uid = peerCredentials(socket)?.uid ?? null;
    // local callers are told apart by uid, as network ones by address
    const leave = this.#gate.enter(uid === null ? 'unknown uid' : `uid ${uid}`);
    if (leave === null) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.on('close', () => {
      leave();
      this.#sockets.delete(socket);
    });
    const principal = this.#options.services.localPrincipal(uid);
    const connection = serveLineConnection(socket, {
      hello: { hello: 'netsend', version: PROTOCOL_VERSION, computerName: this.#options.services.messenger.computerName },
      handle: async (request) => handleRequest(this.#options.services, request, await principal),
      log: this.#options.log,
      ...(this.#options.maxInFlight === undefined ? {} : { maxInFlight: this.#options.maxInFlight }),
    });
    this.#connections.add(connection);
    socket.on('close', () => this.#connections.delete(connection));
  }
}
