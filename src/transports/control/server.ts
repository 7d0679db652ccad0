import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { handleRequest, type DaemonInfo } from '../../control/handlers.js';
import { LineFramer, PROTOCOL_VERSION, encodeLine, type Response } from '../../control/protocol.js';
import { NetApiError } from '../../messenger/errors.js';
import { NERR } from '../../messenger/status.js';
import type { Messenger } from '../../messenger/messenger.js';
import { peerCredentials } from './peercred.js';

export interface ControlServerOptions {
  path: string;
  /** 0o600 for a per-user daemon; 0o666 when root serves every local user, as the original did. */
  mode: number;
  messenger: Messenger;
  info: DaemonInfo;
  log: (line: string) => void;
  /** Requests one connection may have in flight before the daemon stops reading from it. */
  maxInFlight?: number;
}

/** The daemon's end of the control socket: untrusted lines in, one handler call per request. */
export class ControlServer {
  readonly #options: ControlServerOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: ControlServerOptions) {
    this.#options = options;
    this.#server = createServer((socket) => this.#accept(socket));
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
    await Promise.allSettled([...this.#inFlight]);
    for (const socket of this.#sockets) socket.end();
    await closed;
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {}); // a client that vanishes is not the daemon's problem
    const caller = { uid: peerCredentials(socket)?.uid ?? null };
    const framer = new LineFramer();
    const maxInFlight = this.#options.maxInFlight ?? 64;
    let pending = 0;
    socket.write(encodeLine({ hello: 'netsend', version: PROTOCOL_VERSION, computerName: this.#options.messenger.computerName }));

    socket.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = framer.push(chunk);
      } catch (error) {
        this.#options.log(`control: dropping a client: ${(error as Error).message}`);
        socket.destroy();
        return;
      }
      for (const line of lines) {
        pending++;
        if (pending >= maxInFlight) socket.pause();
        const done = this.#answer(line, caller).then((response) => {
          if (!socket.destroyed) socket.write(encodeLine(response));
          pending--;
          if (pending < maxInFlight && !socket.destroyed) socket.resume();
        });
        this.#inFlight.add(done);
        void done.finally(() => this.#inFlight.delete(done));
      }
    });
  }

  async #answer(line: string, caller: { uid: number | null }): Promise<Response> {
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      return { id: 0, ok: false, status: NERR.ERROR_INVALID_PARAMETER, message: 'The request is not valid JSON.' };
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return { id: 0, ok: false, status: NERR.ERROR_INVALID_PARAMETER, message: 'The request must be a JSON object.' };
    }
    const body = request as Record<string, unknown>;
    const id = typeof body.id === 'number' && Number.isSafeInteger(body.id) ? body.id : 0;
    try {
      return { id, ok: true, result: await handleRequest(this.#options.messenger, this.#options.info, body, caller) };
    } catch (error) {
      if (error instanceof NetApiError) return { id, ok: false, status: error.status, message: error.message };
      this.#options.log(`control: ${String(body.op)} failed: ${(error as Error).stack ?? String(error)}`);
      return { id, ok: false, status: NERR.NERR_InternalError, message: 'An internal error occurred in the netsend daemon.' };
    }
  }
}
