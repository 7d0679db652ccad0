import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { handleRequest, type ControlServices } from '../../control/handlers.js';
import { MAX_LINE_BYTES, PROTOCOL_VERSION } from '../../control/protocol.js';
import { NetApiError } from '../../messenger/errors.js';
import { normalizeAlias } from '../../messenger/names.js';
import { isPriority } from '../../messenger/message.js';
import { MAX_TTL_SECONDS } from '../../messenger/messenger.js';
import type { Principal } from '../../security/access.js';
import type { Credentials } from '../../security/accounts.js';
import { keyFingerprint } from '../../security/certificate.js';
import { verifyMessage, type HostIdentity } from '../../security/host-identity.js';
import { RateLimiter } from '../../policy/rate-limit.js';
import { serveLineConnection } from '../control/lines.js';
import { MAX_ANONYMOUS_LINE_BYTES, SECURE_LIMITS } from './protocol.js';

export interface SecureServerOptions {
  identity: HostIdentity;
  services: ControlServices;
  /** Addresses to listen on (from `interfaces`); undefined means every address. */
  addresses: readonly string[] | undefined;
  port: number;
  /**
   * Per-source admission of messages: by host key, and by address too, since a flooder can make
   * a new key for every connection.
   */
  admit?: (hostKey: string, address: string) => boolean;
  /** Per-account admission of remote sends (the "user" source of the rate limits). */
  admitCaller?: (account: string) => boolean;
  /** PEM of a site CA: when set, a host certificate must chain to it to count as a host. */
  caPem?: string;
  log: (line: string) => void;
  limits?: Partial<typeof SECURE_LIMITS>;
}

/** Remote calls that send messages, limited per account like deliveries per host. */
const SENDS = new Set(['send', 'broadcast', 'sendUsers']);

/**
 * The daemon's secure channel (TLS 1.3 only, no plaintext fallback): remote calls by
 * authenticated users under the original's group rules, and messages from other netsend hosts,
 * signed by their host keys.
 */
export class SecureServer {
  readonly #options: SecureServerOptions;
  readonly #limits: typeof SECURE_LIMITS;
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<TLSSocket>();
  readonly #logons: RateLimiter;
  #connections = 0;

  constructor(options: SecureServerOptions) {
    this.#options = options;
    this.#limits = { ...SECURE_LIMITS, ...options.limits };
    this.#logons = new RateLimiter({ ratePerSecond: this.#limits.logonPerSecond, burst: this.#limits.logonBurst });
  }

  get endpoints(): string[] {
    return this.#servers.map((server) => {
      const address = server.address();
      return typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : String(address);
    });
  }

  async listen(): Promise<void> {
    const { identity } = this.#options;
    const hosts = this.#options.addresses ?? [undefined];
    try {
      for (const host of hosts) {
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
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: this.#options.port, ...(host === undefined ? {} : { host }) }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        // Counted from the TCP connection, so handshakes that never finish count too.
        server.on('connection', (raw: Socket) => {
          if (this.#connections >= this.#limits.maxSessions) {
            raw.destroy();
            return;
          }
          this.#connections++;
          raw.once('close', () => this.#connections--);
        });
        this.#servers.push(server);
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const closing = this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    this.#servers.length = 0;
    for (const socket of this.#sockets) socket.destroy();
    await Promise.allSettled(closing);
  }

  #accept(socket: TLSSocket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.setNoDelay(true);
    const source = `${socket.remoteAddress}:${socket.remotePort}`;
    const address = socket.remoteAddress ?? '';
    const { services, log } = this.#options;
    const host = this.#peerHost(socket);
    let principal: Principal | null = host === null ? null : { kind: 'host', name: host.name, uid: null, groups: [], source };
    // A host key bound to an account (netsend user key) calls with that account's groups.
    const bound = host === null ? Promise.resolve(null) : services.accounts.forHostKey(host.fingerprint, source).catch(() => null);
    const idle = () => socket.destroy();
    let timer = setTimeout(idle, this.#limits.handshakeMs);

    serveLineConnection(socket, {
      hello: { hello: 'netsend', version: PROTOCOL_VERSION, computerName: services.messenger.computerName },
      log,
      maxInFlight: 16,
      // a peer that has not proved who it is gets small lines; see MAX_ANONYMOUS_LINE_BYTES
      maxLineBytes: principal === null ? MAX_ANONYMOUS_LINE_BYTES : MAX_LINE_BYTES,
      handle: async (request) => {
        clearTimeout(timer);
        timer = setTimeout(idle, this.#limits.idleMs);
        if (request.op === 'auth') {
          principal = await this.#logon(request, source, address);
          return { user: principal.name, groups: principal.groups };
        }
        if (principal === null) throw new NetApiError('ERROR_ACCESS_DENIED', 'Log on first (auth with a user and password, or a token).');
        if (principal.kind === 'host' && principal.groups.length === 0) principal = (await bound) ?? principal;
        if (request.op === 'deliver') {
          if (host === null || principal.kind !== 'host') throw new NetApiError('ERROR_ACCESS_DENIED', 'Only netsend hosts deliver messages; send with "send".');
          return this.#deliver(request, host, source, address);
        }
        if (request.op === 'receipt' && host !== null && principal.kind === 'host') return this.#receipt(request, host.fingerprint);
        if (SENDS.has(String(request.op)) && this.#options.admitCaller && !this.#options.admitCaller(`${principal.kind} ${principal.name}`)) {
          throw new NetApiError('NERR_NameInUse', 'This account sends too fast; try again later.');
        }
        return handleRequest(services, request, principal);
      },
    });
    socket.on('close', () => clearTimeout(timer));
  }

  /** The peer's host certificate, if it presented one (and, with a site CA, one the CA signed). */
  #peerHost(socket: TLSSocket): { name: string; fingerprint: string; certificate: X509Certificate } | null {
    const certificate = socket.getPeerX509Certificate();
    if (certificate === undefined) return null;
    if (this.#options.caPem && !socket.authorized) return null;
    const name = /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1] ?? '';
    return { name, fingerprint: keyFingerprint(certificate), certificate };
  }

  /** A sending host asks what became of a message it delivered here; other hosts' messages are not found. */
  async #receipt(request: Record<string, unknown>, fingerprint: string): Promise<unknown> {
    const { receipts } = this.#options.services;
    const id = request.message;
    if (receipts === undefined || typeof id !== 'number' || !Number.isSafeInteger(id)) throw new NetApiError('ERROR_INVALID_PARAMETER', 'A receipt needs a message id.');
    const message = await receipts.message(id);
    if (message === null || message.via !== 'netsend' || message.senderHost?.split(' ')[1] !== fingerprint) {
      throw new NetApiError('NERR_NameNotFound', `No message ${id} from this host is here.`);
    }
    return receipts.local(id);
  }

  async #logon(request: Record<string, unknown>, source: string, address: string): Promise<Principal> {
    const { services } = this.#options;
    const who = typeof request.user === 'string' ? `user ${request.user.slice(0, 64)}` : 'token';
    const refuse = (why: string) => {
      services.audit.record({ event: 'refused-logon', principal: who, source, detail: why, status: 5 });
      // Status 5, as the original answered a caller it could not authenticate; the words say why.
      return new NetApiError('ERROR_ACCESS_DENIED', why === 'rate' ? 'Too many logon attempts from this address; wait and try again.' : 'The user name, password or token is incorrect.');
    };
    // Charged before the (costly) check, so parallel guesses cannot all slip in; given back when
    // the logon succeeds: a guesser is slowed down, people who know their password are not.
    if (!this.#logons.take(address)) throw refuse('rate');
    const credentials: Credentials | null =
      typeof request.token === 'string' ? { token: request.token } : typeof request.user === 'string' && typeof request.password === 'string' ? { user: request.user, password: request.password } : null;
    const principal = credentials === null ? null : await services.accounts.authenticate(credentials, source);
    if (principal === null) throw refuse('bad credentials');
    this.#logons.refund(address);
    return principal;
  }

  async #deliver(
    request: Record<string, unknown>,
    host: { name: string; fingerprint: string; certificate: X509Certificate },
    source: string,
    address: string,
  ): Promise<unknown> {
    const { services } = this.#options;
    const { from, to, text, user, sentAt, signature, priority, ttl } = request;
    if (typeof text !== 'string' || typeof sentAt !== 'string' || typeof signature !== 'string' || (user !== null && typeof user !== 'string')) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', 'A delivery needs from, to, text, user, sentAt, priority, ttl and signature.');
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
    if (this.#options.admit && !this.#options.admit(host.fingerprint, address)) {
      throw new NetApiError('NERR_NameInUse', 'This host sends too fast; try again later.');
    }
    if (text.length * 2 > services.messenger.maxMessageBytes || !text.isWellFormed()) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', `The message is over this host's limit of ${services.messenger.maxMessageBytes} bytes, or not valid text.`);
    }
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
    });
    return { id: stored.id };
  }
}
