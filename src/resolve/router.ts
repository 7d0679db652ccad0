import { NetApiError } from '../messenger/errors.js';
import type { OutgoingMessage, RemoteSender, SendOptions, SendReport } from '../messenger/messenger.js';
import { SUFFIX } from '../protocols/netbios-name/index.js';
import type { NameCache } from './cache.js';
import { parseHost, type Endpoint } from './resolver.js';

/** The netsend secure channel, as the router uses it (transports/secure/sender.ts, SecureSender). */
export interface SecureRoute {
  /** The delivery's report, or null when `address` runs no netsend secure channel (a legacy peer). */
  tryDeliver(message: OutgoingMessage, address: string): Promise<SendReport | null>;
}

/** The legacy wire (transports/smb/sender.ts, SmbSender): NAME<03> at one endpoint. */
export interface LegacyRoute {
  deliver(message: OutgoingMessage, endpoint: Endpoint): Promise<SendReport>;
}

/** The organisation hub (hub/hub.ts): to the host that holds a name elsewhere in the realm. */
export interface HubRoute {
  send(message: OutgoingMessage, host: string): Promise<SendReport>;
}

export interface MessageRouterOptions {
  /** Finds the host holding NAME<03> (the name cache in front of `name resolve order`). */
  resolver: NameCache;
  /** The legacy port: used when neither --host nor the resolver names one. */
  port: number;
  /** Tried first at each resolved address: netsend hosts get the message verified and in full Unicode. */
  secure?: SecureRoute;
  legacy: LegacyRoute;
  hub?: HubRoute;
}

/**
 * Where a message to another host goes: the host named by --host, else the one the resolver
 * finds for NAME<03>; there the netsend secure channel first, and the legacy wire (SMB) when the
 * host runs none.
 */
export class MessageRouter implements RemoteSender {
  readonly #options: MessageRouterOptions;

  constructor(options: MessageRouterOptions) {
    this.#options = options;
  }

  async send(message: OutgoingMessage, options: SendOptions): Promise<SendReport> {
    if (options.host !== undefined) return this.#deliver(message, parseHost(options.host, this.#options.port));
    const cached = this.#options.resolver.has(message.to, SUFFIX.messenger);
    try {
      return await this.#deliver(message, await this.#resolve(message.to));
    } catch (error) {
      // A cached address may be stale (the name moved): forget it and look the name up once more.
      if (!cached || !(error instanceof NetApiError) || error.final || !['NERR_NetworkError', 'NERR_NameNotFound'].includes(error.statusName ?? '')) throw error;
      this.#options.resolver.forget(message.to, SUFFIX.messenger);
      return this.#deliver(message, await this.#resolve(message.to));
    }
  }

  /** The hub for a name held elsewhere in the realm; else the secure channel where the host has one, else the legacy wire. */
  async #deliver(message: OutgoingMessage, endpoint: Endpoint): Promise<SendReport> {
    if (endpoint.viaHub !== undefined) {
      if (this.#options.hub === undefined) throw new NetApiError('NERR_NameNotFound', `"${message.to}" is held through a hub this host does not use.`);
      return this.#options.hub.send(message, endpoint.viaHub);
    }
    // A legacy endpoint named with its own port (--host IP:PORT, lmhosts) is taken as given.
    const secure = endpoint.port === this.#options.port ? await this.#options.secure?.tryDeliver(message, endpoint.address) : null;
    if (secure) return secure;
    return this.#options.legacy.deliver(message, endpoint);
  }

  async #resolve(name: string): Promise<Endpoint> {
    const found = await this.#options.resolver.resolve(name, SUFFIX.messenger);
    if (found !== null) return found;
    throw new NetApiError('NERR_NameNotFound', `"${name}" is not an alias here, and none of the name sources ("name resolve order") knows its host.`);
  }
}
