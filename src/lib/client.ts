import { connect as netConnect, type Socket } from 'node:net';
import { resolveDataDir, dataDirPaths } from '../config/paths.js';
import { LineFramer, PROTOCOL_VERSION, encodeLine, type Hello, type Operation, type RequestBody, type Response } from '../control/protocol.js';
import type { Alias } from '../messenger/aliases.js';
import { NetApiError } from '../messenger/errors.js';
import type { MessageJson } from '../messenger/message.js';
import type { SendResult } from '../messenger/messenger.js';

export interface ConnectOptions {
  /** The daemon's data dir; default: NETSEND_DATA_DIR, else the per-user or system default. */
  dataDir?: string;
  /** How long to wait for the daemon's hello, in ms. Default 5000. */
  timeoutMs?: number;
}

export interface SendInput {
  to: string;
  /** Default: the computer name of the daemon. */
  from?: string | null;
  text: string;
  /** Send to this host ("10.0.0.5" or "10.0.0.5:139") instead of resolving `to`. */
  host?: string;
}

export interface DaemonStatus {
  computerName: string;
  workgroup: string;
  pid: number;
  dataDir: string;
  startedAt: string;
  aliases: number;
}

/**
 * A connection to the local Messenger service. Every method throws NetApiError with the
 * NET_API_STATUS of the failure.
 */
export class Client {
  readonly computerName: string;
  readonly #socket: Socket;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #nextId = 1;
  #closedError: NetApiError | null = null;

  /** NET NAME: the message aliases of the host. */
  readonly names = {
    list: (): Promise<Alias[]> => this.#call('names.list', {}) as Promise<Alias[]>,
    get: (name: string): Promise<Alias> => this.#call('names.get', { name }) as Promise<Alias>,
    add: (name: string): Promise<Alias> => this.#call('names.add', { name }) as Promise<Alias>,
    delete: (name: string): Promise<Alias> => this.#call('names.delete', { name }) as Promise<Alias>,
  };

  /** Received messages, oldest first. */
  readonly inbox = {
    list: (options: { afterId?: number; limit?: number } = {}): Promise<MessageJson[]> =>
      this.#call('inbox.list', options) as Promise<MessageJson[]>,
  };

  /** @internal use {@link connect} */
  constructor(socket: Socket, hello: Hello, framer: LineFramer) {
    this.#socket = socket;
    this.computerName = hello.computerName;
    socket.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = framer.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const line of lines) this.#settle(line);
    });
    socket.on('close', () => {
      this.#closedError ??= new NetApiError('NERR_NetworkError', 'The connection to the netsend daemon closed before it answered.');
      for (const { reject } of this.#waiting.values()) reject(this.#closedError);
      this.#waiting.clear();
    });
    socket.on('error', () => {});
  }

  /** NET SEND: resolves once the message is stored (local alias) or handed to the remote host. */
  send(message: SendInput): Promise<SendResult> {
    return this.#call('send', message) as Promise<SendResult>;
  }

  /** NET SEND * (`domain` omitted: this host's workgroup) or NET SEND /DOMAIN:name. */
  broadcast(message: { from?: string | null; text: string; domain?: string | null }): Promise<SendResult> {
    return this.#call('broadcast', message) as Promise<SendResult>;
  }

  /** NET SEND /USERS: to every name with a session on this server. */
  sendToUsers(message: { from?: string | null; text: string }): Promise<SendResult> {
    return this.#call('sendUsers', message) as Promise<SendResult>;
  }

  status(): Promise<DaemonStatus> {
    return this.#call('status', {}) as Promise<DaemonStatus>;
  }

  close(): Promise<void> {
    this.#closedError = new NetApiError('NERR_NetworkError', 'The client was closed.');
    return new Promise((resolve) => {
      if (this.#socket.destroyed) resolve();
      else this.#socket.end(() => resolve());
      this.#socket.once('close', () => resolve());
    });
  }

  #call<O extends Operation>(op: O, body: RequestBody<O>): Promise<unknown> {
    if (this.#closedError !== null) return Promise.reject(this.#closedError);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#socket.write(encodeLine({ ...body, id, op } as never));
    });
  }

  #settle(line: string): void {
    let response: Response;
    try {
      response = JSON.parse(line) as Response;
    } catch {
      return;
    }
    const waiter = this.#waiting.get(response.id);
    if (waiter === undefined) return;
    this.#waiting.delete(response.id);
    if (response.ok) waiter.resolve(response.result);
    else waiter.reject(NetApiError.fromStatus(response.status, response.message));
  }
}

/** Connects to the Messenger service of a data dir. @throws NetApiError NERR_MsgNotStarted */
export async function connect(options: ConnectOptions = {}): Promise<Client> {
  const dataDir = resolveDataDir(options.dataDir);
  const path = dataDirPaths(dataDir).controlSocket;
  const socket = netConnect(path);
  const framer = new LineFramer();
  const notStarted = (why: string) =>
    new NetApiError('NERR_MsgNotStarted', `No netsend daemon answers on ${path} (${why}); start one with "netsend serve".`);
  const hello = await new Promise<Hello>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(notStarted('no hello'));
    }, options.timeoutMs ?? 5000);
    const fail = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(notStarted(error.code ?? error.message));
    };
    socket.once('error', fail);
    const onData = (chunk: Buffer) => {
      const [first] = framer.push(chunk);
      if (first === undefined) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      let hello: Hello;
      try {
        hello = JSON.parse(first) as Hello;
      } catch {
        socket.destroy();
        reject(notStarted('not a netsend control socket'));
        return;
      }
      if (hello.hello !== 'netsend' || hello.version !== PROTOCOL_VERSION) {
        socket.destroy();
        reject(new NetApiError('ERROR_NOT_SUPPORTED', `The daemon speaks control protocol ${String(hello.version)}, this client ${PROTOCOL_VERSION}.`));
        return;
      }
      resolve(hello);
    };
    socket.on('data', onData);
  });
  return new Client(socket, hello, framer);
}
