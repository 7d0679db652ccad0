import type { TLSSocket } from 'node:tls';
import { LineFramer, PROTOCOL_VERSION, encodeLine, type Hello, type Response } from '../../control/protocol.js';
import { NetApiError } from '../../messenger/errors.js';
import type { OutgoingMessage, SendReport } from '../../messenger/messenger.js';
import { legacyText } from '../../messenger/outgoing.js';
import type { Receipt } from '../../messenger/events.js';
import { signMessage, type HostIdentity } from '../../security/host-identity.js';
import type { KnownHosts } from '../../security/known-hosts.js';
import { SecureChannelError, endpointKey, openSecureChannel, type SecureTrust } from './client.js';

export interface SecureSenderOptions {
  identity: HostIdentity;
  knownHosts: KnownHosts;
  trust: SecureTrust;
  caPem?: string;
  /** The secure port of peers (netsend hosts use the same one, as they share the SMB port). */
  port: number;
  timeoutMs?: number;
  log: (line: string) => void;
}

/**
 * Delivers to netsend hosts over the secure channel, signed with this host's key, so the
 * recipient shows a verified sender. Hosts that do not answer there are legacy peers: the
 * caller falls back to SMB, unless the host's key is pinned (a known netsend host must not be
 * downgraded to the unauthenticated wire by blocking its port).
 */
export class SecureSender {
  readonly #options: SecureSenderOptions;

  constructor(options: SecureSenderOptions) {
    this.#options = options;
  }

  /** The delivery's report, or null when `address` runs no netsend secure channel. */
  async tryDeliver(message: OutgoingMessage, address: string): Promise<SendReport | null> {
    const socket = await this.#open(address);
    if (socket === null) return null; // a legacy peer (or one this host does not trust): the legacy wire it is
    const { identity } = this.#options;
    try {
      const sentAt = new Date().toISOString();
      const user = message.user ?? null;
      // a peer that does not take titles (an older netsend) gets the title as the text's first line
      const delivery = (hello: Hello) => {
        const titled = hello.features?.includes('title') === true;
        const text = titled ? message.text : legacyText(message);
        const fields = { from: message.from, to: message.to, text, title: titled ? (message.title ?? null) : null, user, sentAt, host: identity.name, priority: message.priority ?? 'normal', ttl: message.ttlSeconds ?? null };
        return { id: 1, op: 'deliver' as const, ...fields, signature: signMessage(fields, identity.privateKey) };
      };
      const response = await exchange(socket, delivery, this.#options.timeoutMs ?? 10_000);
      if (!response.ok) throw NetApiError.fromStatus(response.status, response.message);
      const stored = response.result as { id?: unknown } | null;
      return { secure: true, ...(typeof stored?.id === 'number' ? { receipt: { host: endpointKey(address, this.#options.port), message: stored.id } } : {}) };
    } finally {
      socket.destroy();
    }
  }

  /**
   * What became of a message this host delivered to `host` ("10.0.0.5:4139"): asked over the
   * secure channel, where the recipient answers only the host that sent it.
   */
  async receipt(host: string, message: number): Promise<Receipt> {
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(host);
    if (match === null) throw new NetApiError('ERROR_INVALID_PARAMETER', `"${host}" is not HOST:PORT.`);
    const address = match[1] as string;
    // Only hosts already known (pinned by a delivery): a receipt question never introduces a new one.
    if (this.#options.trust !== 'ca' && (await this.#options.knownHosts.lookup(host)).length === 0) {
      throw new NetApiError('NERR_NameNotFound', `${host} is not a netsend host this one has delivered to.`);
    }
    const socket = await this.#open(address, Number(match[2]));
    if (socket === null) throw new NetApiError('NERR_NetworkError', `${host} does not answer on the secure channel.`);
    try {
      const response = await exchange(socket, () => ({ id: 1, op: 'receipt', message }), this.#options.timeoutMs ?? 10_000);
      if (!response.ok) throw NetApiError.fromStatus(response.status, response.message);
      return response.result as Receipt;
    } finally {
      socket.destroy();
    }
  }

  /** A verified channel to a host, or null when it runs none (or this host does not trust it). */
  async #open(address: string, port = this.#options.port): Promise<TLSSocket | null> {
    const { identity, knownHosts } = this.#options;
    try {
      return await openSecureChannel({
        host: address,
        port,
        knownHosts,
        trust: this.#options.trust,
        identity,
        timeoutMs: this.#options.timeoutMs ?? 2000,
        ...(this.#options.caPem ? { caPem: this.#options.caPem } : {}),
        onPinned: (host, fingerprint) => this.#options.log(`secure: pinned the host key of ${host}: ${fingerprint}`),
      });
    } catch (error) {
      if (!(error instanceof SecureChannelError)) throw error;
      if (error.reason === 'changed') throw new NetApiError('NERR_NetworkError', error.message);
      if ((await knownHosts.lookup(endpointKey(address, port))).length > 0) {
        throw new NetApiError('NERR_NetworkError', `${error.message} It is a known netsend host; not falling back to the unauthenticated wire.`);
      }
      return null;
    }
  }
}

/** Reads the hello, sends one request (made knowing what the peer's hello says) and reads its answer. */
function exchange(socket: TLSSocket, request: (hello: Hello) => Parameters<typeof encodeLine>[0], timeoutMs: number): Promise<Response> {
  const framer = new LineFramer();
  return new Promise<Response>((resolve, reject) => {
    let hello: Hello | undefined;
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new NetApiError('NERR_NetworkError', why));
    };
    const timer = setTimeout(() => fail('The netsend host did not answer in time.'), timeoutMs);
    socket.on('error', (error: NodeJS.ErrnoException) => fail(`The secure channel failed: ${error.code ?? error.message}`));
    socket.on('close', () => fail('The netsend host closed the secure channel.'));
    socket.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = framer.push(chunk);
      } catch {
        return fail('The netsend host sent an over-long line.');
      }
      for (const line of lines) {
        try {
          if (hello === undefined) {
            hello = JSON.parse(line) as Hello;
            if (hello.hello !== 'netsend' || hello.version !== PROTOCOL_VERSION) return fail('The peer is not a compatible netsend daemon.');
            socket.write(encodeLine(request(hello)));
          } else {
            clearTimeout(timer);
            return resolve(JSON.parse(line) as Response);
          }
        } catch {
          return fail('The netsend host sent something that is not JSON.');
        }
      }
    });
  });
}
