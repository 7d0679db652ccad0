import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { handleRequest, type ControlServices } from '../../control/handlers.js';
import { PROTOCOL_VERSION } from '../../control/protocol.js';
import { NetApiError } from '../../messenger/errors.js';
import { normalizeAlias } from '../../messenger/names.js';
import { isPriority, parseSenderHost } from '../../messenger/message.js';
import { MAX_TTL_SECONDS } from '../../messenger/messenger.js';
import type { Principal } from '../../security/access.js';
import { endsSessions, foldName, type AccountChange, type Credentials } from '../../security/accounts.js';
import { keyFingerprint } from '../../security/certificate.js';
import { hostNameOf, reservedHostName, verifyMessage, type HostIdentity } from '../../security/host-identity.js';
import type { KnownHosts } from '../../security/known-hosts.js';
import { serveLineConnection } from '../control/lines.js';
import { TcpListeners } from '../tcp-listeners.js';
import type { LogonGate } from '../../security/logon-gate.js';
import { ConnectionGate } from '../../security/front-door.js';
import { SecureChannelError, checkHostKey, type SecureTrust } from './client.js';
import { DELIVERY_FIELD_LIMITS, MAX_ANONYMOUS_LINE_BYTES, SECURE_LIMITS, authenticatedLineBytes, type SecureLimits } from './protocol.js';

/** A peer that presented a host certificate the trust rules accept ("new": tofu, not pinned yet). */
interface PeerHost {
  readonly name: string;
  readonly fingerprint: string;
  readonly certificate: X509Certificate;
  verdict: 'pinned' | 'ca' | 'new';
}

/** Why a peer's host certificate was not accepted: told to it, audited when it first asks for something. */
interface Refusal {
  readonly name: string;
  readonly detail: string;
  readonly error: NetApiError;
}

/** A session, and the account it is logged on as, so that it follows the account (see SecureServer.#accountChanged). */
interface AccountSession {
  /** The account, folded as the store compares names; null while logged on as none. */
  account: string | null;
  /** Closes the session. */
  readonly end: () => void;
  /** The account's groups changed: read them again (the session's next request waits for them). */
  readonly regroup: () => void;
}

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
  readonly #logons: LogonGate;
  readonly #connections: ConnectionGate;
  /** When each open connection was accepted (by connectionKey): the handshake-and-logon deadline counts from then. */
  readonly #connectedAt = new Map<string, number>();
  #pinning: Promise<void> = Promise.resolve();
  /** Sessions logged on as each account (by folded name). */
  readonly #byAccount = new Map<string, Set<AccountSession>>();
  #unwatch: () => void = () => {};

  constructor(options: SecureServerOptions) {
    this.#options = options;
    this.#limits = { ...SECURE_LIMITS, ...options.limits };
    this.#logons = options.services.logonGate;
    this.#listeners = new TcpListeners({ port: options.port, create: () => this.#createServer(), log: options.log, what: 'secure channel' });
    this.#connections = new ConnectionGate('secure channel', { total: this.#limits.maxSessions, perAddress: this.#limits.maxSessionsPerAddress }, options.services.audit);
  }

  get endpoints(): string[] {
    return this.#listeners.endpoints;
  }

  /** @throws the first bind error (EACCES, EADDRINUSE…); an address not ready yet is retried instead */
  async listen(): Promise<void> {
    this.#unwatch = this.#options.services.accounts.watch((user, change) => this.#accountChanged(user, change));
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
    this.#session(socket, deadline).catch((error: unknown) => {
      this.#options.log(`secure: dropping a session: ${String(error)}`);
      socket.destroy();
    });
  }

  /**
   * Sessions follow their account, as the web inbox's do: a new password, a revoked token or
   * host key, or the account's deletion closes them (a session keeps no credential to check
   * again), and new groups are read at once, before their next request runs. A new token takes nothing away.
   */
  #accountChanged(user: string, change: AccountChange): void {
    for (const session of [...(this.#byAccount.get(foldName(user)) ?? [])]) {
      if (endsSessions(change)) session.end();
      else if (change === 'groups') session.regroup();
    }
  }

  /** Files the session under `account` (null: none, as when it closes) instead of its previous one. */
  #follow(session: AccountSession, account: string | null): void {
    if (session.account !== null) {
      const sessions = this.#byAccount.get(session.account);
      sessions?.delete(session);
      if (sessions?.size === 0) this.#byAccount.delete(session.account);
    }
    session.account = account === null ? null : foldName(account);
    if (session.account !== null) this.#byAccount.set(session.account, (this.#byAccount.get(session.account) ?? new Set()).add(session));
  }

  async #session(socket: TLSSocket, deadline: NodeJS.Timeout): Promise<void> {
    const source = `${socket.remoteAddress}:${socket.remotePort}`;
    const { services, log } = this.#options;
    const certificate = socket.getPeerX509Certificate();
    const fingerprint = certificate === undefined ? null : keyFingerprint(certificate);
    // Lines wait in the socket while the host is checked: their limit depends on the answer.
    const [check, bound] = await Promise.all([
      certificate === undefined || fingerprint === null ? null : this.#checkHost(socket, certificate, fingerprint),
      // A host key bound to an account (netsend user key) calls with that account's groups: the
      // administrator trusted that key by binding it, whatever name its certificate gives.
      fingerprint === null ? null : services.accounts.forHostKey(fingerprint, source).catch(() => null),
    ]);
    if (socket.destroyed) return;
    const host = check?.host ?? null;
    const refusal = check?.refusal ?? null;
    let refusalAudited = false;
    let principal: Principal | null = bound ?? (host === null ? null : { kind: 'host', name: host.name, uid: null, groups: [], source });

    // Logged on as an account (a bound host key, or an auth): follow it. An unbound host is no account.
    // New groups are read at once; requests wait for the latest read (the store answers in order).
    let groupsRead: Promise<void> | null = null;
    const following: AccountSession = {
      account: null,
      end: () => void socket.destroy(),
      regroup: () => {
        const account = principal?.name;
        if (account === undefined) return;
        const reading: Promise<void> = services.accounts.groupsOf(account).then(
          (groups) => {
            if (principal?.name === account) principal = { ...principal, groups };
            if (groupsRead === reading) groupsRead = null;
          },
          following.end,
        );
        groupsRead = reading;
      },
    };
    this.#follow(following, bound?.name ?? null);
    socket.on('close', () => this.#follow(following, null));

    // Anonymous, a session lives until the deadline, whatever it sends; authenticated, until it idles.
    let idleTimer: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => socket.destroy(), this.#limits.idleMs);
    };
    const authenticated = () => {
      clearTimeout(deadline);
      touch();
    };
    socket.on('close', () => clearTimeout(idleTimer));
    if (principal !== null) authenticated();
    const authenticatedLines = authenticatedLineBytes(services.messenger.maxMessageBytes);

    serveLineConnection(socket, {
      hello: { hello: 'netsend', version: PROTOCOL_VERSION, computerName: services.messenger.computerName },
      log,
      maxInFlight: 16,
      // a peer that has not proved who it is gets small lines; see MAX_ANONYMOUS_LINE_BYTES
      maxLineBytes: () => (principal === null ? MAX_ANONYMOUS_LINE_BYTES : authenticatedLines),
      handle: async (request) => {
        if (principal !== null) touch();
        if (request.op === 'auth') {
          principal = await this.#logon(request, source);
          if (!socket.destroyed) this.#follow(following, principal.name);
          authenticated();
          return { user: principal.name, groups: principal.groups };
        }
        if (groupsRead !== null) await groupsRead;
        if (principal === null) {
          if (refusal === null) throw new NetApiError('ERROR_ACCESS_DENIED', 'Log on first (auth with a user and password, or a token).');
          if (!refusalAudited) services.audit.record({ event: 'refused-host', principal: `host ${refusal.name}`, source, detail: refusal.detail, status: 5 });
          refusalAudited = true;
          throw refusal.error;
        }
        if (request.op === 'deliver') {
          if (host === null || principal.kind !== 'host') throw new NetApiError('ERROR_ACCESS_DENIED', 'Only netsend hosts deliver messages; send with "send".');
          return this.#deliver(request, host, source);
        }
        if (request.op === 'receipt' && host !== null && principal.kind === 'host') return this.#receipt(request, host.fingerprint);
        return handleRequest(services, request, principal);
      },
    });
  }

  /**
   * The peer's host certificate under `secure trust`, checked as this host checks the hosts it
   * dials: a key pinned for its name in known-hosts must match; otherwise `ca` wants the site CA's
   * signature, `known` refuses, and `tofu` takes the name as new (pinned at its first delivery).
   */
  async #checkHost(socket: TLSSocket, certificate: X509Certificate, fingerprint: string): Promise<{ host: PeerHost | null; refusal: Refusal | null }> {
    const name = hostNameOf(certificate);
    if (name === null) {
      const why = 'The host certificate names no host: its CN must be one host name (no spaces, #, : or control characters).';
      return { host: null, refusal: { name: '(no name)', detail: `${why} Key ${fingerprint}.`, error: new NetApiError('ERROR_ACCESS_DENIED', why) } };
    }
    // This host's own names and loopback names belong to this host's key alone.
    const reserved = fingerprint === this.#options.identity.fingerprint ? null : reservedHostName(name, this.#options.services.messenger.computerName);
    if (reserved !== null) {
      const why = `The host certificate names ${name}, ${reserved}: only this host's own key may.`;
      return { host: null, refusal: { name, detail: `${why} Key ${fingerprint}.`, error: new NetApiError('ERROR_ACCESS_DENIED', why) } };
    }
    try {
      const { knownHosts, trust, services } = this.#options;
      const verdict = await checkHostKey({ knownHosts, trust, key: name, fingerprint, socket, here: services.messenger.computerName });
      return { host: { name, fingerprint, certificate, verdict }, refusal: null };
    } catch (error) {
      if (!(error instanceof SecureChannelError)) this.#options.log(`secure: cannot check the host key of ${name}: ${String(error)}`);
      const message = error instanceof SecureChannelError ? error.message : `The host key of ${name} could not be checked here.`;
      return { host: null, refusal: { name, detail: message, error: new NetApiError('ERROR_ACCESS_DENIED', message) } };
    }
  }

  /** Pins a host name seen for the first time (tofu), once; a key pinned for it meanwhile wins. */
  #pin(host: PeerHost): Promise<void> {
    const { knownHosts, log } = this.#options;
    const pinning = this.#pinning.then(async () => {
      const pinned = await knownHosts.lookup(host.name);
      if (pinned.length > 0 && !pinned.includes(host.fingerprint)) {
        throw new NetApiError('ERROR_ACCESS_DENIED', `The host key of ${host.name} has changed (now ${host.fingerprint}): someone may be impersonating it.`);
      }
      if (pinned.length === 0) {
        await knownHosts.add(host.name, host.fingerprint);
        log(`secure: pinned the host key of ${host.name}: ${host.fingerprint}`);
      }
      host.verdict = 'pinned';
    });
    this.#pinning = pinning.catch(() => {});
    return pinning;
  }

  /** A sending host asks what became of a message it delivered here; other hosts' messages are not found. */
  async #receipt(request: Record<string, unknown>, fingerprint: string): Promise<unknown> {
    const { receipts } = this.#options.services;
    const id = request.message;
    if (receipts === undefined || typeof id !== 'number' || !Number.isSafeInteger(id)) throw new NetApiError('ERROR_INVALID_PARAMETER', 'A receipt needs a message id.');
    const message = await receipts.message(id);
    if (message === null || message.via !== 'netsend' || parseSenderHost(message.senderHost)?.fingerprint !== fingerprint) {
      throw new NetApiError('ERROR_NOT_FOUND', `No message ${id} from this host is here.`);
    }
    return receipts.local(id);
  }

  async #logon(request: Record<string, unknown>, source: string): Promise<Principal> {
    const credentials: Credentials | null =
      typeof request.token === 'string' ? { token: request.token } : typeof request.user === 'string' && typeof request.password === 'string' ? { user: request.user, password: request.password } : null;
    return { ...(await this.#logons.logon(credentials, source, 'secure channel')), over: 'secure' };
  }

  async #deliver(
    request: Record<string, unknown>,
    host: PeerHost,
    source: string,
  ): Promise<unknown> {
    const { services } = this.#options;
    const { from, to, text, user, sentAt, signature, priority, ttl } = request;
    if (typeof text !== 'string' || typeof sentAt !== 'string' || typeof signature !== 'string' || (user !== null && typeof user !== 'string')) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', 'A delivery needs from, to, text, user, sentAt, priority, ttl and signature.');
    }
    const bounds = DELIVERY_FIELD_LIMITS;
    if ((user !== null && user.length > bounds.user) || sentAt.length > bounds.sentAt || signature.length > bounds.signature) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', `A delivery's user is at most ${bounds.user} characters, its sentAt ${bounds.sentAt}, its signature ${bounds.signature}.`);
    }
    if (!isPriority(priority) || (ttl !== null && (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS))) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', 'The priority or time to live of the delivery is not valid.');
    }
    const charset = services.messenger.charset;
    const fields = { from: normalizeAlias(from, 'from name', charset), to: normalizeAlias(to, 'message name', charset), text, user, sentAt, host: host.name, priority, ttl };
    if (!verifyMessage(fields, signature, host.certificate.publicKey)) {
      services.audit.record({ event: 'refused-message', principal: `host ${host.name}`, source, detail: 'bad signature', status: 5 });
      throw new NetApiError('ERROR_ACCESS_DENIED', 'The message signature does not match the host key.');
    }
    if (text.length * 2 > services.messenger.maxMessageBytes || !text.isWellFormed()) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', `The message is over this host's limit of ${services.messenger.maxMessageBytes} bytes, or not valid text.`);
    }
    // A new host is pinned only once the front door and the alias's rules let its message in, so
    // a refused flood of fresh keys writes nothing to known-hosts.
    const pinNew = async () => {
      if (host.verdict !== 'new') return;
      await this.#pin(host).catch((error: unknown) => {
        services.audit.record({ event: 'refused-host', principal: `host ${host.name}`, source, detail: `${(error as Error).message} (pinned while this session was open)`, status: 5 });
        throw error;
      });
    };
    const stored = await services.messenger.receive({
      from: fields.from,
      to: fields.to,
      text,
      via: 'netsend',
      senderUid: null,
      senderAddress: source,
      senderUser: user,
      senderHost: `${host.name} ${host.fingerprint}`,
      priority,
      ...(ttl === null ? {} : { expiresAt: Date.now() + ttl * 1000 }),
    }, { beforeStore: pinNew });
    return { id: stored.id };
  }
}
