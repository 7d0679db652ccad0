import { readFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { resolveDataDir, dataDirPaths } from '../config/paths.js';
import { LineFramer, PROTOCOL_VERSION, encodeLine, type ChannelRequest, type Hello, type Request, type Response } from '../control/protocol.js';
import type { OperationName, ParamsOf, ResultOf } from '../control/operations/index.js';
import { NetApiError } from '../messenger/errors.js';
import { KnownHosts } from '../security/known-hosts.js';
import { loadHostIdentity } from '../security/host-identity.js';
import { computerNameFromHostname } from '../messenger/names.js';
import { hostname } from 'node:os';
import { SECURE_TRUST, type SecureTrust } from '../config/choices.js';
import { locateServer } from './locate.js';
import type { ConnectOptions, DaemonStatus, Receipt, RemoteConnectOptions, SendInput, SendResult } from './types.js';
import { SecureChannelError, openSecureChannel } from '../transports/secure/client.js';

/** Omit over each member of a union, keeping it a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type { ConnectOptions, RemoteConnectOptions, SendInput, SendResult, DaemonStatus, MessageJson, Receipt, UserSummary, CredentialSummary, AuditRecord, AliasPolicy, OperationName, ParamsOf, ResultOf } from './types.js';

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
  /** An error answer to no request of ours (id 0: a line the daemon could not read, say one too long): the reason it closes. */
  #unmatched: NetApiError | null = null;

  /** NET NAME: the message aliases of the host. */
  readonly names = {
    list: () => this.call('names.list', {}),
    get: (name: string) => this.call('names.get', { name }),
    add: (name: string) => this.call('names.add', { name }),
    delete: (name: string) => this.call('names.delete', { name }),
  };

  /** Who may message an alias: its allow and deny lists and its legacy-input override. */
  readonly policies = {
    get: (name: string) => this.call('names.policy', { name }),
    set: (name: string, policy: ParamsOf<'names.setPolicy'>['policy']) => this.call('names.setPolicy', { name, policy }),
  };

  /** netsend's accounts for remote callers (administrators only). */
  readonly users = {
    list: () => this.call('users.list', {}),
    add: (user: string, password: string | null, groups: string[] = []) => this.call('users.add', { user, password, groups }),
    delete: (user: string) => this.call('users.delete', { user }),
    setPassword: (user: string, password: string) => this.call('users.password', { user, password }),
    issueToken: (user: string) => this.call('users.token', { user }),
    setGroups: (user: string, change: { add?: string[]; remove?: string[] }) => this.call('users.groups', { user, ...change }),
    bindHostKey: (user: string, fingerprint: string) => this.call('users.key', { user, fingerprint }),
    /** The account's API tokens and host keys: an id, the kind, a host key's fingerprint, when made. */
    credentials: (user: string) => this.call('users.tokens', { user }),
    /** Revokes one credential (its id, the token itself, or a host key's fingerprint), or all of them with null. */
    revoke: (user: string, credential: string | null) => this.call('users.revoke', { user, credential }),
  };

  /** The web inbox: a fresh one-time login URL (local administrators only). */
  readonly web = {
    url: () => this.call('web.url', {}),
  };

  /** The audit log: remote calls and refused messages (administrators only). */
  readonly audit = {
    list: (options: ParamsOf<'audit.list'> = {}) => this.call('audit.list', options),
  };

  /** Received messages, oldest first. */
  readonly inbox = {
    list: (options: ParamsOf<'inbox.list'> = {}) => this.call('inbox.list', options),
    /** The newest `limit` messages (at most 1,000; below id `before`, when given), oldest first. */
    latest: (limit: number, before?: number) => this.call('inbox.latest', before === undefined ? { limit } : { limit, before }),
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
      this.#closedError ??= this.#unmatched ?? new NetApiError('NERR_NetworkError', 'The connection to the netsend daemon closed before it answered.');
      for (const { reject } of this.#waiting.values()) reject(this.#closedError);
      this.#waiting.clear();
    });
    socket.on('error', () => {});
  }

  /** NET SEND: resolves once the message is stored (local alias) or handed to the remote host. */
  send(message: SendInput): Promise<SendResult> {
    return this.call('send', message);
  }

  /** NET SEND * (`domain` omitted: this host's workgroup) or NET SEND /DOMAIN:name. */
  broadcast(message: ParamsOf<'broadcast'>): Promise<SendResult> {
    return this.call('broadcast', message);
  }

  /** NET SEND /USERS: to every name with a session on this server. */
  sendToUsers(message: ParamsOf<'sendUsers'>): Promise<SendResult> {
    return this.call('sendUsers', message);
  }

  /**
   * What became of a message this caller sent: its id here, or (for a netsend host) the
   * `receipt` of the send's result. @throws NetApiError ERROR_NOT_FOUND for a message that is not there, or not the caller's
   */
  receipt(message: number, host?: string): Promise<Receipt> {
    return this.call('receipt', { message, ...(host === undefined ? {} : { host }) });
  }

  /** Acknowledges a received message (OK on the pop-up), for its sender's receipt. */
  acknowledge(message: number): Promise<Receipt> {
    return this.call('inbox.ack', { message });
  }

  /** A NetBIOS name's address, as the daemon's resolvers find it. */
  resolve(name: string): Promise<ResultOf<'resolve'>> {
    return this.call('resolve', { name });
  }

  /** Logs on to a remote daemon over the secure channel. @throws NetApiError ERROR_ACCESS_DENIED */
  logon(credentials: { user: string; password: string } | { token: string }): Promise<{ user: string; groups: string[] }> {
    return this.#request<{ user: string; groups: string[] }>({ op: 'auth', ...credentials });
  }

  status(): Promise<DaemonStatus> {
    return this.call('status', {});
  }

  /** Any operation of the list, typed by it: the methods above are this with friendlier names. */
  call<O extends OperationName>(op: O, params: ParamsOf<O>): Promise<ResultOf<O>> {
    return this.#request<ResultOf<O>>({ ...params, op } as DistributiveOmit<Request, 'id'>);
  }

  close(): Promise<void> {
    this.#closedError = new NetApiError('NERR_NetworkError', 'The client was closed.');
    return new Promise((resolve) => {
      if (this.#socket.destroyed) resolve();
      else this.#socket.end(() => resolve());
      this.#socket.once('close', () => resolve());
    });
  }

  /**
   * Sends one request and settles with the daemon's answer. The answer is JSON from the daemon,
   * typed by the operation list this client was built with (the hello checked the version).
   */
  #request<Result>(body: DistributiveOmit<Request, 'id'> | Omit<ChannelRequest, 'id'>): Promise<Result> {
    if (this.#closedError !== null) return Promise.reject(this.#closedError);
    const id = this.#nextId++;
    return new Promise<Result>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#socket.write(encodeLine({ ...body, id } as Request));
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
    if (waiter === undefined) {
      if (response.id === 0 && !response.ok) this.#unmatched = NetApiError.fromStatus(response.status, response.message);
      return;
    }
    this.#waiting.delete(response.id);
    if (response.ok) waiter.resolve(response.result);
    else waiter.reject(NetApiError.fromStatus(response.status, response.message));
  }
}

/** Connects to the Messenger service of a data dir. @throws NetApiError NERR_MsgNotStarted */
export async function connect(options: ConnectOptions = {}): Promise<Client> {
  const dataDir = resolveDataDir(options.dataDir);
  const path = dataDirPaths(dataDir).controlSocket;
  const notStarted = (why: string) =>
    new NetApiError('NERR_MsgNotStarted', `No netsend daemon answers on ${path} (${why}); start one with "netsend serve".`);
  return over(netConnect(path), options.timeoutMs ?? 5000, notStarted);
}

/**
 * Connects to another host's daemon over the secure channel and logs on, for remote calls
 * (`servername`, `--server`). Needs membership in that host's remote-call groups for most calls.
 * @throws NetApiError NERR_NetworkError (unreachable, or its host key changed), ERROR_ACCESS_DENIED (logon refused)
 */
export async function connectRemote(options: RemoteConnectOptions): Promise<Client> {
  const { host, port } = await locateServer(options.server, async (name) => {
    // a NetBIOS name: the local daemon's resolvers (lmhosts, WINS, broadcast) may know where it is
    const local = await connect(options).catch(() => null);
    if (local === null) return null;
    try {
      return (await local.resolve(name)).address;
    } catch {
      return null; // not a NetBIOS name the daemon can find: let DNS try
    } finally {
      await local.close();
    }
  });
  const env = process.env;
  const trust = options.trust ?? (SECURE_TRUST.includes(env.NETSEND_SECURE_TRUST as SecureTrust) ? (env.NETSEND_SECURE_TRUST as SecureTrust) : 'tofu');
  const dataDir = resolveDataDir(options.dataDir);
  const caFile = options.caFile ?? env.NETSEND_SECURE_CA_FILE;
  if (trust === 'ca' && !caFile) throw new NetApiError('ERROR_INVALID_PARAMETER', 'Trust "ca" needs the site CA certificate (NETSEND_SECURE_CA_FILE).');
  let socket: Socket;
  try {
    socket = await openSecureChannel({
      host,
      port,
      trust,
      ...(caFile ? { caPem: await readFile(caFile, 'utf8') } : {}),
      ...(options.hostKey ? { identity: await loadHostIdentity({ dataDir, computerName: computerNameFromHostname(hostname()) }) } : {}),
      knownHosts: new KnownHosts(dataDirPaths(dataDir).knownHosts),
      timeoutMs: options.timeoutMs ?? 5000,
      ...(options.onPinned ? { onPinned: options.onPinned } : {}),
    });
  } catch (error) {
    if (error instanceof SecureChannelError) throw new NetApiError('NERR_NetworkError', error.message);
    throw error;
  }
  const client = await over(socket, options.timeoutMs ?? 5000, (why) => new NetApiError('NERR_NetworkError', `${host}:${port} is not a netsend daemon (${why}).`));
  const token = options.token ?? env.NETSEND_TOKEN;
  const user = options.user ?? env.NETSEND_USER;
  const password = options.password ?? env.NETSEND_PASSWORD;
  try {
    if (token) await client.logon({ token });
    else if (user && password !== undefined) await client.logon({ user, password });
    else if (!options.hostKey) throw new NetApiError('ERROR_ACCESS_DENIED', 'Remote calls need an account: a user and password (NETSEND_USER, NETSEND_PASSWORD) or a token (NETSEND_TOKEN).');
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

async function over(socket: Socket, timeoutMs: number, fail: (why: string) => NetApiError): Promise<Client> {
  const framer = new LineFramer();
  const hello = await new Promise<Hello>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(fail('no hello'));
    }, timeoutMs);
    const onError = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(fail(error.code ?? error.message));
    };
    socket.once('error', onError);
    const onData = (chunk: Buffer) => {
      const [first] = framer.push(chunk);
      if (first === undefined) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      let hello: Hello;
      try {
        hello = JSON.parse(first) as Hello;
      } catch {
        socket.destroy();
        reject(fail('not a netsend control socket'));
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
